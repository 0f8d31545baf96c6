"""API key issue and lookup. Keys are ``mk_<prefix>_<secret>``; only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

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
