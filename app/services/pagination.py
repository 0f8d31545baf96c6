"""Keyset (cursor) pagination in a stable id order.

A cursor is opaque to callers (base64 of the last id seen), so rows inserted
while an integrator pages never shift or repeat what it reads.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.errors import invalid, msg

T = TypeVar("T")
#: Any select a filter narrows and hands back as it came (entities or document rows).
#: A select of any number of columns (the document rows of the read paths).
RowSelect = Select[*tuple[Any, ...]]
SelectT = TypeVar("SelectT", bound=RowSelect)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if not isinstance(value, int) or value < 0:
            raise ValueError
        return value
    except Exception:  # noqa: BLE001 - any malformed cursor is the caller's error
        raise invalid("cursor", msg("malformed_cursor")) from None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _keyset(stmt: RowSelect, id_column: Any, cursor: str | None, limit: int) -> RowSelect:
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(id_column > after)
    return stmt.order_by(id_column).limit(limit + 1)


def _page(rows: list[Any], limit: int) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more and rows else None)


def paginate(session: Session, *, stmt: Select[Any], id_column: Any, cursor: str | None, limit: int) -> Page[Any]:
    """A page of ORM objects (``stmt`` selects one entity)."""
    return _page(list(session.scalars(_keyset(stmt, id_column, cursor, limit)).unique()), limit)


def paginate_rows(session: Session, *, stmt: RowSelect, id_column: Any, cursor: str | None, limit: int) -> Page[Any]:
    """A page of plain rows (``stmt`` selects columns, one of them named ``id``): the fast path
    of read-only lists, which never need ORM objects."""
    return _page(list(session.execute(_keyset(stmt, id_column, cursor, limit))), limit)
