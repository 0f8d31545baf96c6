"""`matcher import members FILE` / `matcher import demands FILE`: bulk import from CSV/XLSX.

The local operator runs these on the server itself, so no API key is needed: the
command acts as an internal admin of the district MATCHER_DISTRICT_CODE (or
--district), with the same rules, checks and single transaction as
``POST /v1/members:import`` and ``POST /v1/demands:import``.

Exit codes: 0 imported (or, with --dry-run, would import); 2 rejected (bad rows,
unsupported file, unknown district) with the report on stderr, or on stdout as
problem JSON with --json; 1 the file cannot be opened.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli.common import cli_locale
from app.domain.enums import Role
from app.errors import Problem, problem_document
from app.i18n import t
from app.services.identity import Caller

app = typer.Typer(help="Bulk import members or demands from a spreadsheet (CSV UTF-8 or XLSX).", no_args_is_help=True)

FileArg = typer.Argument(..., help="A .csv (UTF-8, BOM allowed) or .xlsx file; header row first.")
DryRunOpt = typer.Option(False, "--dry-run", help="Check every row, write nothing.")
DistrictOpt = typer.Option(None, "--district", help="District code (default MATCHER_DISTRICT_CODE).")
JsonOpt = typer.Option(False, "--json", help="Print the result (or the rejection) as JSON on stdout.")

#: The CLI's identity in change feeds and created_by: not an API key (id 0 matches none).
OPERATOR_KEY_ID = 0


def operator(district_id: int) -> Caller:
    return Caller(api_key_id=OPERATOR_KEY_ID, name="cli-import", role=Role.ADMIN, district_id=district_id)


def _run(kind: str, file: Path, dry_run: bool, district: str | None, as_json: bool) -> None:
    # Imported here: every `matcher` command loads this module, only imports need the web stack.
    from app.db import session_scope
    from app.schemas.imports import ImportResult
    from app.services import imports as service
    from app.services.districts import get_district
    from app.settings import get_settings

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    run = service.import_members if kind == "members" else service.import_demands
    try:
        with session_scope(get_settings().database_url) as session:
            caller = operator(get_district(session, code=district or get_settings().district_code).id)
            report = run(session, caller, data, filename=file.name, dry_run=dry_run)
    except Problem as exc:
        _print_problem(exc, as_json)
        raise typer.Exit(2) from None
    result = ImportResult.model_validate(report)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    locale = cli_locale()
    note = t("cli.import.dry_run_note", locale) if dry_run else ""
    typer.echo(
        t(
            "cli.import.summary",
            locale,
            kind=t(f"cli.import.kind.{kind}", locale),
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            note=note,
        )
    )
    if result.ignored_columns:
        typer.echo(t("cli.import.ignored", locale, columns=", ".join(result.ignored_columns)))


def _print_problem(exc: Problem, as_json: bool) -> None:
    locale = cli_locale()
    if as_json:
        typer.echo(json.dumps(problem_document(exc, locale), ensure_ascii=False, indent=2))
        return
    document = problem_document(exc, locale)
    typer.echo(t("cli.import.rejected", locale, detail=document.get("detail") or exc.code), err=True)
    for err in document.get("errors") or []:
        where = t("cli.import.row", locale, row=err["row"]) if "row" in err else ""
        column = f" ({err['column']})" if err.get("column") and err.get("column") != err.get("field") else ""
        typer.echo(f"  {where}{err.get('field')}{column}: {err.get('message')}", err=True)
    shown = len(exc.errors or [])
    total = exc.extra.get("error_count", shown)
    if total > shown:
        typer.echo(t("cli.import.more", locale, count=total - shown), err=True)


@app.command("members")
def members(
    file: Path = FileArg, dry_run: bool = DryRunOpt, district: str | None = DistrictOpt, as_json: bool = JsonOpt
) -> None:
    """Import members (委员名册), keyed by 编号/external_id: re-importing updates, never duplicates."""
    _run("members", file, dry_run, district, as_json)


@app.command("demands")
def demands(
    file: Path = FileArg, dry_run: bool = DryRunOpt, district: str | None = DistrictOpt, as_json: bool = JsonOpt
) -> None:
    """Import demands (民需); rows with a stored 编号/external_id update that demand."""
    _run("demands", file, dry_run, district, as_json)
