"""The ``matcher`` command. Every sub-command honours ``MATCHER_DATABASE_URL``."""

from __future__ import annotations

import typer

from app.cli import (
    audit,
    console_link,
    db,
    demo,
    districts,
    doctor,
    importer,
    keys,
    links,
    optimize,
    report,
    schedule,
    serve,
    worker,
)

cli = typer.Typer(
    help="CPPCC member-need matcher (政协委员进社区 供需匹配).", no_args_is_help=True, pretty_exceptions_enable=False
)
cli.add_typer(db.app, name="db")
cli.add_typer(keys.app, name="keys")
cli.add_typer(districts.app, name="districts")
cli.add_typer(schedule.app, name="schedule")
cli.add_typer(importer.app, name="import")
cli.add_typer(report.app, name="report")
cli.add_typer(links.app, name="links")
cli.command("serve")(serve.serve)
cli.command("worker")(worker.worker)
cli.command("demo")(demo.demo)
cli.command("audit")(audit.audit)
cli.command("doctor")(doctor.doctor)
cli.command("optimize")(optimize.optimize)
cli.command("console-link")(console_link.console_link)


def main() -> None:
    cli()
