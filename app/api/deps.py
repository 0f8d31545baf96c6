"""FastAPI dependencies: settings, the DB session, and the caller's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.unit_of_work import (
    KNOWN_CALLERS,
    PendingKey,
    RequestUnit,
    current_slot,
    take_sqlite_write_lock,
)
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

    Services only flush; the request commits once the handler has returned and rolls
    everything back when it raised, so an action and its side effects (feed events, duty
    records, demand status) land together or not at all. The commit runs before the response
    is sent, so a commit that fails (a constraint, a lost race) is answered as that problem,
    never as a success that was not stored.

    Why async: making a session does no I/O (it connects on first use). On the API routers
    (``UnitOfWorkRoute``) the SQLite write lock, the key check, the handler and the commit run
    in the handler's one hop of the thread pool, and this only closes the session. Elsewhere
    (the console, async handlers) the lock is taken here and the commit (or rollback) and close
    run in one hop at the end. There a read-only request (GET, HEAD) on PostgreSQL sends no
    BEGIN and no COMMIT: it reads in autocommit until its first write (``app.db.read_in_autocommit``).
    """
    session = get_sessionmaker(settings.database_url)()
    sqlite = is_sqlite(settings.database_url)
    writes = _checks_a_version(request)
    slot = current_slot()
    if slot is not None:
        slot.unit = RequestUnit(
            session, settings.database_url, writes=sqlite and writes, autocommit=not sqlite and not writes
        )
    elif writes and sqlite:
        await run_in_threadpool(take_sqlite_write_lock, session)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_discard, session)
        raise
    if slot is not None and slot.unit is not None and slot.unit.committed and not session.in_transaction():
        session.close()  # committed in the handler's hop; nothing read since: no I/O left
        return
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


ACT_AS_HEADER = "X-Act-As-District"
"""A platform key names the district it acts as (audited); every other key is refused with it."""


def raw_api_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def authenticate_request(request: Request, session: Session) -> Caller:
    """The caller of the request's key, read from the database, named as the session's actor."""
    raw = _required_key(request)
    caller = authenticate(session, raw=raw, act_as=request.headers.get(ACT_AS_HEADER) or None)
    request.state.caller = caller
    request_id = getattr(request.state, "request_id", None)
    set_actor(session, actor=Actor.for_caller(caller, request_id=request_id))
    if caller.acting_as:
        record_act_as(session, caller, path=request.url.path, request_id=request_id)
    return caller


def _required_key(request: Request) -> str:
    raw = raw_api_key(request)
    if not raw:
        raise Problem(
            401,
            "missing_api_key",
            msg("missing_api_key"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return raw


async def get_caller(request: Request, session: SessionDep, settings: SettingsDep) -> Caller:
    """The request's caller. Async: on the API routers a key seen working in this process is
    answered from memory and checked against the database in the handler's hop
    (``app.api.unit_of_work``); any other key is read here, in a hop of its own, and remembered
    when it works. Platform keys acting as a district are always read here (they are rare)."""
    raw = _required_key(request)
    slot = current_slot()
    unit = slot.unit if slot is not None else None
    if unit is None or request.headers.get(ACT_AS_HEADER):
        return await run_in_threadpool(authenticate_request, request, session)
    known = KNOWN_CALLERS.get(settings.database_url, raw)
    if known is not None:
        unit.pending = PendingKey(raw, known, getattr(request.state, "request_id", None))
        request.state.caller = known
        return known
    caller = await run_in_threadpool(_first_use, unit, request)
    KNOWN_CALLERS.remember(settings.database_url, raw, caller)
    return caller


def _first_use(unit: RequestUnit, request: Request) -> Caller:
    unit.begin()
    return authenticate_request(request, unit.session)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str):
    async def _check(caller: CallerDep) -> Caller:  # async: a role check needs no thread
        if caller.role not in roles:
            raise Problem(403, "forbidden_role", msg("forbidden_role", roles=", ".join(roles)))
        return caller

    return _check


AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
WriterDep = Annotated[Caller, Depends(require_roles(Role.ADMIN, Role.LIAISON))]
