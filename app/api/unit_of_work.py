"""A request's database work in one thread-pool hop: the key check, the handler, the commit.

Why: a sync FastAPI request used three hops of the thread pool -- the caller dependency (the key
lookup), the handler, and the commit in ``get_session``'s exit -- each a hand-off between the
event loop and a worker thread, and under load each a fight for the GIL. For a single read of
2-3 ms the hops were the largest item. ``UnitOfWorkRoute`` (the route class of the API routers)
runs a sync handler as: take the SQLite write lock (writers), check the caller's key against the
database, run the handler, commit -- in the one hop FastAPI gives the handler anyway.

The key check needs no hop of its own because ``get_caller`` (async) answers from
``KNOWN_CALLERS``, a per-process memo of keys it has seen work, and leaves the check to that hop.
The memo is only a hint: every request still reads its key from the database in its own
transaction before the handler runs, so a revoked or expired key (or one whose district was
deactivated) fails at once in every process, and nothing has to be invalidated across processes.
A request that fails before its handler ran (a validation error, a role check) checks its key
first, so a revoked key is still answered 401, not with what the request got wrong.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import autocommit_reads_like_a_transaction, read_in_autocommit
from app.errors import Problem, msg
from app.services.api_keys import authenticate, hash_key
from app.services.audit import Actor, set_actor
from app.services.identity import Caller


class KnownCallers:
    """Callers of keys that worked lately in this process, by database and key hash (the raw key
    is never kept). Bounded: past ``limit`` entries it starts again (keys in use come back at once)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._callers: dict[tuple[str, str], Caller] = {}
        self._lock = threading.Lock()

    def get(self, database_url: str, raw: str) -> Caller | None:
        return self._callers.get((database_url, hash_key(raw)))

    def remember(self, database_url: str, raw: str, caller: Caller) -> None:
        with self._lock:
            if len(self._callers) >= self.limit:
                self._callers.clear()
            self._callers[(database_url, hash_key(raw))] = caller

    def forget(self, database_url: str, raw: str) -> None:
        with self._lock:
            self._callers.pop((database_url, hash_key(raw)), None)


KNOWN_CALLERS = KnownCallers()


@dataclass(frozen=True)
class PendingKey:
    """A caller answered from ``KNOWN_CALLERS``: its key is checked in the handler's hop."""

    raw: str
    caller: Caller
    request_id: str | None


class RequestUnit:
    """The request's session and what its one hop still owes before the handler runs."""

    def __init__(self, session: Session, database_url: str, *, writes: bool, autocommit: bool = False) -> None:
        self.session = session
        self.database_url = database_url
        self.needs_write_lock = writes
        self.autocommit = autocommit
        self.pending: PendingKey | None = None
        self.committed = False

    def begin(self) -> None:
        """Before the transaction's first read: a SQLite writer takes the write lock; a read-only
        request on PostgreSQL runs in driver autocommit until its first write
        (``app.db.read_in_autocommit``), so its reads cost no BEGIN and no COMMIT."""
        if self.needs_write_lock:
            self.needs_write_lock = False
            take_sqlite_write_lock(self.session)
        elif self.autocommit:
            self.autocommit = False
            session = self.session
            # not when something was read already (an act-as caller): the request keeps its transaction
            if not session.in_transaction() and autocommit_reads_like_a_transaction(session.get_bind().dialect):
                read_in_autocommit(session)

    def check_caller(self) -> None:
        """The key of a caller answered from memory, read again from the database: 401 unless it
        is still usable and names the same caller."""
        self.begin()
        pending, self.pending = self.pending, None
        if pending is None:
            return
        try:
            fresh = authenticate(self.session, raw=pending.raw)
        except Problem:
            KNOWN_CALLERS.forget(self.database_url, pending.raw)
            raise
        if fresh != pending.caller:  # key rows do not change in place; if one did, ask again
            KNOWN_CALLERS.forget(self.database_url, pending.raw)
            raise Problem(401, "invalid_api_key", msg("invalid_api_key"), headers={"WWW-Authenticate": "Bearer"})
        set_actor(self.session, actor=Actor.for_caller(fresh, request_id=pending.request_id))

    def commit(self) -> None:
        try:
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        self.committed = True


def take_sqlite_write_lock(session: Session) -> None:
    """SQLite (WAL) refuses a write from a transaction whose snapshot is older than the last
    commit ("database is locked", at once, whatever the busy timeout): two PATCHes racing on one
    ETag would give the loser a 503 instead of 412, and any write request would fail while a run
    stores its result in the background. Taking the write lock before reading (a write statement
    that changes nothing) makes such a request wait (busy timeout) and then read fresh data: the
    loser of an If-Match race fails with 412, as on PostgreSQL."""
    session.execute(text("UPDATE districts SET id = id WHERE 1 = 0"))


@dataclass
class UnitSlot:
    """Set by ``UnitOfWorkRoute`` for one request; ``get_session`` puts the request's unit in it."""

    unit: RequestUnit | None = None


_SLOT: ContextVar[UnitSlot | None] = ContextVar("matcher_request_unit", default=None)


def current_slot() -> UnitSlot | None:
    """The slot of a request served in one hop, or None (another route class, the CLI)."""
    return _SLOT.get()


def _in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    def one_hop(*args: Any, **kwargs: Any) -> Any:
        slot = _SLOT.get()
        unit = slot.unit if slot is not None else None
        if unit is None:  # the handler takes no session
            return endpoint(*args, **kwargs)
        unit.check_caller()
        result = endpoint(*args, **kwargs)
        unit.commit()
        return result

    return one_hop


def _runs_in_one_hop(endpoint: Callable[..., Any]) -> bool:
    plain = inspect.unwrap(endpoint)
    return not (
        inspect.iscoroutinefunction(plain) or inspect.isgeneratorfunction(plain) or inspect.isasyncgenfunction(plain)
    )


class UnitOfWorkRoute(APIRoute):
    """The route class of the API routers: a sync handler's request does its database work in one
    hop (see the module docstring). Async handlers and generators are served as FastAPI serves them."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.one_hop = _runs_in_one_hop(endpoint)
        super().__init__(path, _in_one_hop(endpoint) if self.one_hop else endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if not getattr(self, "one_hop", False):
            return handler

        async def in_one_unit(request: Request) -> Response:
            token = _SLOT.set(slot := UnitSlot())
            try:
                return await handler(request)
            except Exception:
                if slot.unit is not None and slot.unit.pending is not None:
                    await run_in_threadpool(slot.unit.check_caller)  # a revoked key is 401 first
                raise
            finally:
                _SLOT.reset(token)

        return in_one_unit
