"""``Idempotency-Key`` for POST: a retry replays the first response and creates nothing.

The record is written in the same transaction as the object it created, so a
crash between the two cannot leave one without the other. Two racing requests
with one key hit the unique (api_key, key) constraint; the loser replays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, msg
from app.models import IdempotencyRecord
from app.services.identity import Caller


@dataclass(frozen=True)
class IdempotencyKey:
    key: str | None
    method: str
    path: str
    body_hash: str

    @staticmethod
    def from_request(key: str | None, method: str, path: str, body: bytes) -> IdempotencyKey:
        if key is not None and not (1 <= len(key) <= 200):
            from app.errors import invalid, msg

            raise invalid("Idempotency-Key", msg("idempotency_key_length"))
        return IdempotencyKey(key, method, path, hashlib.sha256(body).hexdigest())


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]
    replayed: bool


def _lookup(session: Session, caller: Caller, idem: IdempotencyKey) -> StoredResponse | None:
    rec = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == caller.api_key_id, IdempotencyRecord.key == idem.key
        )
    )
    if rec is None:
        return None
    if rec.request_hash != idem.body_hash or rec.path != idem.path or rec.method != idem.method:
        raise Problem(
            422,
            "idempotency_key_reused",
            msg("idempotency_key_reused"),
            errors=[field_error("Idempotency-Key", msg("idempotency_key_reused_field"), "reused")],
        )
    return StoredResponse(rec.status_code, rec.response_body, dict(rec.response_headers or {}), True)


def run_idempotent(
    session: Session,
    caller: Caller,
    *,
    idem: IdempotencyKey,
    create: Callable[[], tuple[int, Any, dict[str, str]]],
) -> StoredResponse:
    """Run ``create`` once per key, inside a savepoint with the record of its response.

    Flushes only (the request's unit of work commits). A racing twin with the same key trips
    the unique (api_key, key) constraint at the flush: the savepoint undoes this attempt's
    object and record, and the twin's stored response is replayed instead.
    """
    if idem.key:
        prior = _lookup(session, caller, idem)
        if prior is not None:
            return prior
    try:
        with session.begin_nested():
            status, body, headers = create()
            if idem.key:
                session.add(
                    IdempotencyRecord(
                        api_key_id=caller.api_key_id,
                        key=idem.key,
                        method=idem.method,
                        path=idem.path,
                        request_hash=idem.body_hash,
                        status_code=status,
                        response_body=body,
                        response_headers=headers,
                    )
                )
    except IntegrityError:
        if idem.key:
            prior = _lookup(session, caller, idem)
            if prior is not None:
                return prior
        raise
    return StoredResponse(status, body, headers, False)
