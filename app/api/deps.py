"""FastAPI dependencies: settings, the DB session, and the caller's identity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import get_sessionmaker
from app.domain.enums import Role
from app.errors import Problem
from app.services.api_keys import authenticate
from app.services.audit import Actor, record_act_as, set_actor
from app.services.identity import Caller
from app.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """The request's unit of work (the transaction rule of ``app.services``).

    Services only flush; this dependency commits once the handler has returned and rolls
    everything back when it raised, so an action and its side effects (feed events, duty
    records, demand status) land together or not at all. It is function-scoped: the commit
    runs before the response is sent, so a commit that fails (a constraint, a lost race) is
    answered as that problem, never as a success that was not stored.
    """
    session = get_sessionmaker(settings.database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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
            "Send an API key as 'Authorization: Bearer <key>' or 'X-API-Key'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = authenticate(session, raw, act_as=request.headers.get(ACT_AS_HEADER) or None)
    request.state.caller = caller
    request_id = getattr(request.state, "request_id", None)
    set_actor(session, Actor.for_caller(caller, request_id=request_id))
    if caller.acting_as:
        record_act_as(session, caller, path=request.url.path, request_id=request_id)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str):
    def _check(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise Problem(403, "forbidden_role", f"This action needs one of the roles: {', '.join(roles)}.")
        return caller

    return _check


AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
WriterDep = Annotated[Caller, Depends(require_roles(Role.ADMIN, Role.LIAISON))]
