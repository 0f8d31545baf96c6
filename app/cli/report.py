"""`matcher report`: the report tables on the terminal or as CSV/XLSX files, and the
report charts as PNG files (`matcher report --png DIR [--year Y] [--run ID]`).

The CLI acts as the district's administrator (it runs on the server, with database
access), so it sees every area.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from app.cli.common import cli_session, fail, say
from app.domain.enums import Role
from app.services import reports as service
from app.services.districts import get_district
from app.services.identity import Caller
from app.services.reports.table import Table, to_csv, to_text, to_xlsx
from app.settings import get_settings

app = typer.Typer(
    help="Reports: annual duty, needs, skill gaps; charts as PNG.", invoke_without_command=True, no_args_is_help=False
)


def _caller(session) -> Caller:
    district = get_district(session, code=get_settings().district_code)
    return Caller(api_key_id=0, name="cli", role=Role.ADMIN, district_id=district.id)


def _emit(tables: list[Table], csv_file: Path | None, xlsx_file: Path | None) -> None:
    """Table on stdout unless a file was asked for."""
    if csv_file is not None:
        csv_file.write_text(to_csv(tables[0]), encoding="utf-8")
        typer.echo(say("cli.wrote", path=csv_file), err=True)
    if xlsx_file is not None:
        xlsx_file.write_bytes(to_xlsx(*tables))
        typer.echo(say("cli.wrote", path=xlsx_file), err=True)
    if csv_file is None and xlsx_file is None:
        typer.echo(to_text(tables[0]), nl=False)


@app.callback()
def report(
    ctx: typer.Context,
    png: Path | None = typer.Option(None, "--png", help="Write the report charts as PNG files into this directory."),
    year: int = typer.Option(date.today().year, help="Year of the duty charts (with --png)."),
    run: int | None = typer.Option(None, "--run", help="Run whose charts to draw (with --png; default the latest)."),
) -> None:
    """Reports: annual duty, needs, skill gaps; `--png DIR` writes the charts as PNG files."""
    if ctx.invoked_subcommand is not None:
        return
    if png is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    for path in export_png(png, year, run):
        typer.echo(str(path))


def export_png(directory: Path, year: int, run_id: int | None) -> list[Path]:
    """Same figures as the pages: duty by group for the year, and the run's charts."""
    from app.rendering import charts

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with cli_session() as session:
        caller = _caller(session)
        figures = {
            f"duty-{year}-{name}": fig
            for name, fig in charts.duty_figures(service.duty_report(session, caller, year=year, by="group")).items()
        }
        run_id = run_id if run_id is not None else service.latest_run_id(session, district_id=caller.district_id)
        if run_id is not None:
            figures.update(
                {
                    f"run-{run_id}-{name}": fig
                    for name, fig in charts.run_figures(service.run_report(session, caller, run_id=run_id)).items()
                }
            )
        else:
            typer.echo(say("cli.report.no_run_figures"), err=True)
    for name, fig in figures.items():
        path = directory / f"{name}.png"
        path.write_bytes(charts.to_png(fig))
        written.append(path)
    return written


@app.command("duty")
def duty(
    year: int = typer.Option(date.today().year, help="Calendar year."),
    by: str = typer.Option("member", help="member | group | area"),
    csv_file: Path | None = typer.Option(None, "--csv", help="Write CSV to this file instead of the table."),
    xlsx_file: Path | None = typer.Option(None, "--xlsx", help="Write XLSX to this file instead of the table."),
) -> None:
    """Annual duty compliance (建议/信息/活动 each at least once a year)."""
    with cli_session() as session:
        tables = [service.duty_report(session, _caller(session), year=year, by=by).table()]
    _emit(tables, csv_file, xlsx_file)


def _parse_date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(say("cli.report.bad_date", field=field, value=value), 2)


@app.command("needs")
def needs(
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default 1 Jan this year)."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive."),
    by: str = typer.Option("area", help="area | skill"),
    csv_file: Path | None = typer.Option(None, "--csv", help="Write CSV to this file instead of the table."),
    xlsx_file: Path | None = typer.Option(None, "--xlsx", help="Write XLSX to this file instead of the table."),
) -> None:
    """Demands raised, covered and unmet (with causes), speed, response methods, satisfaction."""
    lo, hi = _parse_date(date_from, "from"), _parse_date(date_to, "to")
    with cli_session() as session:
        tables = [service.needs_report(session, _caller(session), date_from=lo, date_to=hi, by=by).table()]
    _emit(tables, csv_file, xlsx_file)


@app.command("skill-gaps")
def skill_gaps(
    date_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, inclusive."),
    csv_file: Path | None = typer.Option(None, "--csv"),
    xlsx_file: Path | None = typer.Option(None, "--xlsx"),
) -> None:
    """Skills most often required but unmet, and how many members hold them."""
    lo, hi = _parse_date(date_from, "from"), _parse_date(date_to, "to")
    with cli_session() as session:
        tables = [service.skill_gap_report(session, _caller(session), date_from=lo, date_to=hi).table()]
    _emit(tables, csv_file, xlsx_file)


@app.command("run")
def run_cmd(
    run_id: int = typer.Argument(..., help="Optimization run id."),
    csv_file: Path | None = typer.Option(None, "--csv"),
    xlsx_file: Path | None = typer.Option(None, "--xlsx"),
) -> None:
    """A run's figures beside its baselines (XLSX adds coverage, flows, loads, unmet)."""
    with cli_session() as session:
        tables = service.run_report(session, _caller(session), run_id=run_id).tables()
    _emit(tables, csv_file, xlsx_file)
