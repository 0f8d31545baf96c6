"""FastAPI dependencies: settings, the DB session, and the caller's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import get_sessionmaker, is_sqlite
from app.domain.enums import Role
from app.errors import Problem, msg
from app.services.api_keys import authenticate
from app.services.audit import Actor, record_act_as, set_actor
from app.services.identity import Caller
from app.settings import Settings, get_settings


async def app_settings() -> Settings:
    """``get_settings()`` (cached) as a dependency. ``async`` because it does no I/O: a sync
    dependency would cost a hop through the thread pool on every request."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_session(request: Request, settings: SettingsDep) -> AsyncIterator[Session]:
    """The request's unit of work (the transaction rule of ``app.services``).

    Services only flush; this dependency commits once the handler has returned and rolls
    everything back when it raised, so an action and its side effects (feed events, duty
    records, demand status) land together or not at all. It is function-scoped: the commit
    runs before the response is sent, so a commit that fails (a constraint, a lost race) is
    answered as that problem, never as a success that was not stored.

    Why async: making a session does no I/O (it connects on first use), so only the database
    work goes to the thread pool -- the SQLite write lock for writers, and the commit (or
    rollback) and close in one hop at the end. A sync generator would cost two hops more on
    every request, each a thread hand-off that dominates a 2 ms read.
    """
    session = get_sessionmaker(settings.database_url)()
    if is_sqlite(settings.database_url) and _checks_a_version(request):
        await run_in_threadpool(_take_sqlite_write_lock, session)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_discard, session)
        raise
    await run_in_threadpool(_commit, session)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _checks_a_version(request: Request) -> bool:
    """Requests that write: they read first (an object and its version, references, the
    idempotency record) and then write, so on SQLite they take the write lock before reading."""
    return request.method not in ("GET", "HEAD", "OPTIONS")


def _take_sqlite_write_lock(session: Session) -> None:
    """SQLite (WAL) refuses a write from a transaction whose snapshot is older than the last
    commit ("database is locked", at once, whatever the busy timeout): two PATCHes racing on one
    ETag would give the loser a 503 instead of 412, and any write request would fail while a run
    stores its result in the background. Taking the write lock before reading (a write statement
    that changes nothing) makes such a request wait (busy timeout) and then read fresh data: the
    loser of an If-Match race fails with 412, as on PostgreSQL."""
    session.execute(text("UPDATE districts SET id = id WHERE 1 = 0"))


ACT_AS_HEADER = "X-Act-As-District"
"""A platform key names the district it acts as (audited); every other key is refused with it."""


def raw_api_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def get_caller(request: Request, session: SessionDep) -> Caller:
    raw = raw_api_key(request)
    if not raw:
        raise Problem(
            401,
            "missing_api_key",
            msg("missing_api_key"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = authenticate(session, raw=raw, act_as=request.headers.get(ACT_AS_HEADER) or None)
    request.state.caller = caller
    request_id = getattr(request.state, "request_id", None)
    set_actor(session, actor=Actor.for_caller(caller, request_id=request_id))
    if caller.acting_as:
        record_act_as(session, caller, path=request.url.path, request_id=request_id)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str):
    async def _check(caller: CallerDep) -> Caller:  # async: a role check needs no thread
        if caller.role not in roles:
            raise Problem(403, "forbidden_role", msg("forbidden_role", roles=", ".join(roles)))
        return caller

    return _check


AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
WriterDep = Annotated[Caller, Depends(require_roles(Role.ADMIN, Role.LIAISON))]
