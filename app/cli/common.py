"""What every CLI command shares: settings, one session per command, errors to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app.db import session_scope
from app.domain.enums import ActorKind
from app.errors import Problem
from app.i18n import t
from app.services.audit import Actor, acting
from app.settings import get_settings


@contextmanager
def cli_session() -> Iterator[Session]:
    """A committed unit of work; a Problem becomes a one-line error and exit code 2."""
    actor = Actor(ActorKind.CLI, "matcher " + " ".join(sys.argv[1:3]))
    try:
        with acting(actor), session_scope(get_settings().database_url) as session:
            yield session
    except Problem as exc:
        typer.echo(f"error: {exc.detail or exc.code}", err=True)
        for err in exc.errors or []:
            typer.echo(f"  {err.get('field')}: {err.get('message')}", err=True)
        raise typer.Exit(2) from None
    except (OperationalError, ProgrammingError) as exc:
        if not _schema_missing(exc):
            raise
        typer.echo(f"error: {t('ops.db_upgrade_needed', 'en')} ({t('ops.db_upgrade_needed')})", err=True)
        raise typer.Exit(3) from None


def _schema_missing(exc: Exception) -> bool:
    """SQLite says 'no such table/column', PostgreSQL 'relation/column ... does not exist'."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or "no such column" in text or "does not exist" in text


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)
