"""What every CLI command shares: settings, one session per command, errors to stderr, and the
operator's language (``LANG``: Chinese unless English is named, as in the demo)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app.db import session_scope
from app.domain.enums import ActorKind
from app.errors import Problem, problem_document
from app.i18n import normalize_locale, t
from app.services.audit import Actor, acting
from app.settings import get_settings


def cli_locale() -> str:
    """The operator's language from the environment (LC_ALL, LC_MESSAGES, LANG, the first one
    set): English when it names English, Chinese otherwise (the catalogue's default)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return normalize_locale(value)
    return normalize_locale(None)


def say(key: str, /, **params: object) -> str:
    """The catalogue's message ``key`` in the operator's language (every command prints through this)."""
    return t(key, cli_locale(), **params)


def echo_problem(exc: Problem) -> None:
    """A refused command on stderr: the problem's detail and field messages in the operator's language."""
    document = problem_document(exc, cli_locale())
    typer.echo(say("cli.error", message=document.get("detail") or exc.code), err=True)
    for err in document.get("errors") or []:
        typer.echo(f"  {err.get('field')}: {err.get('message')}", err=True)


@contextmanager
def cli_session() -> Iterator[Session]:
    """A committed unit of work; a Problem becomes a one-line error and exit code 2."""
    actor = Actor(ActorKind.CLI, "matcher " + " ".join(sys.argv[1:3]))
    try:
        with acting(actor), session_scope(get_settings().database_url) as session:
            yield session
    except Problem as exc:
        echo_problem(exc)
        raise typer.Exit(2) from None
    except (OperationalError, ProgrammingError) as exc:
        if not _schema_missing(exc):
            raise
        typer.echo(say("cli.error", message=t("ops.db_upgrade_needed", cli_locale())), err=True)
        raise typer.Exit(3) from None


def _schema_missing(exc: Exception) -> bool:
    """SQLite says 'no such table/column', PostgreSQL 'relation/column ... does not exist'."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or "no such column" in text or "does not exist" in text


def fail(message: str, code: int = 1) -> NoReturn:
    """``message`` comes from ``say(...)``, already in the operator's language."""
    print(say("cli.error", message=message), file=sys.stderr)
    raise typer.Exit(code)
