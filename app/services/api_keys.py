"""API key issue and lookup. Keys are ``mk_<prefix>_<secret>``; only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from app.domain.enums import Role
from app.errors import Problem, invalid
from app.models import ApiKey, Area
from app.models.base import utcnow
from app.services.identity import ROLES, Caller


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(session: Session, district_id: int, role: str, name: str, area_code: str | None = None) -> str:
    """Create a key and return the raw secret (shown once, never stored)."""
    if role not in ROLES:
        raise invalid("role", f"must be one of {', '.join(ROLES)}")
    area_id = None
    if role == Role.LIAISON:
        if not area_code:
            raise invalid("area", "a liaison key is bound to one area")
        area_id = session.scalar(select(Area.id).where(Area.district_id == district_id, Area.code == area_code))
        if area_id is None:
            raise invalid("area", f"unknown area code {area_code!r}")
    elif area_code:
        raise invalid("area", "only liaison keys are bound to an area")
    prefix = secrets.token_hex(4)
    raw = f"mk_{prefix}_{secrets.token_urlsafe(24)}"
    session.add(
        ApiKey(district_id=district_id, name=name, role=role, area_id=area_id, prefix=prefix, key_hash=hash_key(raw))
    )
    session.flush()
    return raw


def authenticate(session: Session, raw: str) -> Caller:
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw), ApiKey.active.is_(True)))
    if key is None:
        raise Problem(
            401, "invalid_api_key", "The API key is unknown or revoked.", headers={"WWW-Authenticate": "Bearer"}
        )
    return Caller(api_key_id=key.id, name=key.name, role=key.role, district_id=key.district_id, area_id=key.area_id)


def touch(session: Session, caller: Caller) -> None:
    key = session.get(ApiKey, caller.api_key_id)
    if key is not None:
        key.last_used_at = utcnow()


# --------------------------------------------------------------------------- key cache

#: How long a verified key is trusted without asking the database again. Any change to an
#: ApiKey row made in this process (revoke, rotate, delete) clears the cache at once; a change
#: made by another process (another uvicorn worker, the CLI) is seen within this time.
KEY_CACHE_S = 5.0
_KEY_CACHE: dict[str, tuple[Caller, float]] = {}
_KEY_CACHE_LOCK = threading.Lock()


def authenticate_cached(session: Session, raw: str) -> Caller:
    """``authenticate`` behind a short in-process cache keyed by the key's hash.

    Every request verifies its key; for a read that is one of only a few queries. Unknown
    and revoked keys are never cached, so they keep failing; a key revoked in this process
    fails from the next request on (the cache is dropped when ApiKey rows change).
    """
    digest = hash_key(raw)
    hit = _KEY_CACHE.get(digest)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    caller = authenticate(session, raw)
    with _KEY_CACHE_LOCK:
        _KEY_CACHE[digest] = (caller, now + KEY_CACHE_S)
    return caller


def forget_cached_keys() -> None:
    with _KEY_CACHE_LOCK:
        _KEY_CACHE.clear()


@event.listens_for(Session, "after_flush")
def _keys_changed(session: Session, _context: Any) -> None:
    if any(isinstance(obj, ApiKey) for obj in (*session.new, *session.dirty, *session.deleted)):
        forget_cached_keys()


@event.listens_for(Session, "do_orm_execute")
def _keys_bulk_changed(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ is ApiKey for m in state.all_mappers):
        forget_cached_keys()
