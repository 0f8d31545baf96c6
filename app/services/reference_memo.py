"""Reference data (skill catalogue, areas) read once per transaction, not once per lookup.

Resolving a member's skills reads the district's whole skill catalogue, and every area code
in a payload is a query. One request resolves a handful; an import of 10,000 rows resolved
tens of thousands, re-reading the same catalogue each time. Lookups go through ``memo``: the
first one in a transaction reads, the rest reuse it. The memo is dropped whenever the
transaction changes a reference row (flush or bulk statement) and when it ends, so nothing
stale outlives a change or a commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.models import Area, Community, Group, Skill

T = TypeVar("T")
_INFO_KEY = "matcher_reference_memo"
_REFERENCE_MODELS = (Skill, Area, Group, Community)


def memo(session: Session, *, key: tuple[Any, ...], load: Callable[[], T]) -> T:
    cache = session.info.setdefault(_INFO_KEY, {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def forget(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


@event.listens_for(Session, "after_flush")
def _references_flushed(session: Session, _context: Any) -> None:
    if _INFO_KEY in session.info and any(
        isinstance(obj, _REFERENCE_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        forget(session)


@event.listens_for(Session, "do_orm_execute")
def _references_bulk_changed(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ in _REFERENCE_MODELS for m in state.all_mappers):
        forget(state.session)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    forget(session)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    forget(session)
