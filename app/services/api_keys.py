"""API keys: issue, look up, list, revoke, rotate. Keys are ``mk_<prefix>_<secret>``; only a SHA-256 is stored.

A key is *usable* while it is active (not revoked), not past its ``expires_at`` and its district
(if any) is active. ``authenticate`` checks that on every request against the database, with no
cache, so a revocation applies at once to the next request in every process. Other faces that
hold something bound to a key (console sessions, personal links) call ``key_usable`` on each use.

``last_used_at`` is written at most once per key per minute (a conditional UPDATE), so reading
does not turn every request into a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.errors import Msg, Problem, invalid, msg, not_found
from app.models import ApiKey, Area, District
from app.models.base import utcnow
from app.services.identity import NO_DISTRICT, ROLES, Caller
from app.services.pagination import Page, paginate

ROTATION_GRACE = timedelta(hours=24)
"""How long the old secret keeps working after a rotation, by default."""
MAX_ROTATION_GRACE = timedelta(days=30)
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _KeyState(Protocol):
    """What decides whether a key works: an ``ApiKey`` or a row of ``_KEY_BY_HASH``."""

    active: bool
    revoked_at: datetime | None
    expires_at: datetime | None


class _KeyInUse(Protocol):
    """What recording a key's use and naming its caller read: an ``ApiKey`` or a key row."""

    id: int
    name: str
    last_used_at: datetime | None


def key_status(key: _KeyState, *, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired`` (the state the key list shows)."""
    now = now or utcnow()
    if not key.active or key.revoked_at is not None:
        return "revoked"
    expires = _aware(key.expires_at)
    if expires is not None and expires <= now:
        return "expired"
    return "active"


def is_key_usable(key: ApiKey | None, *, now: datetime | None = None) -> bool:
    return key is not None and key_status(key, now=now) == "active"


def key_usable(session: Session, *, api_key_id: int) -> bool:
    """For sessions and links bound to a key: is that key (and its district) still usable now?"""
    key = session.get(ApiKey, api_key_id, populate_existing=True)
    if not is_key_usable(key):
        return False
    assert key is not None
    return key.district_id is None or _district_active(session, key.district_id)


def _district_active(session: Session, district_id: int) -> bool:
    return bool(session.scalar(select(District.active).where(District.id == district_id)))


def _unauthorized(code: str, detail: Msg) -> Problem:
    return Problem(401, code, detail, headers={"WWW-Authenticate": "Bearer"})


def _resolve_area(session: Session, district_id: int | None, role: str, area_code: str | None) -> int | None:
    if role == Role.LIAISON:
        if not area_code:
            raise invalid("area", msg("liaison_key_area"))
        area_id = session.scalar(select(Area.id).where(Area.district_id == district_id, Area.code == area_code))
        if area_id is None:
            raise invalid("area", msg("unknown_area_code", code=area_code))
        return area_id
    if area_code:
        raise invalid("area", msg("only_liaison_area"))
    return None


def _new_key(
    session: Session,
    *,
    district_id: int | None,
    role: str,
    name: str,
    area_id: int | None,
    expires_at: datetime | None,
) -> IssuedKey:
    prefix = secrets.token_hex(4)
    raw = f"mk_{prefix}_{secrets.token_urlsafe(24)}"
    key = ApiKey(
        district_id=district_id,
        name=name,
        role=Role(role),
        area_id=area_id,
        prefix=prefix,
        key_hash=hash_key(raw),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, secret=raw)


def _check_expiry(expires_at: datetime | None) -> datetime | None:
    expires_at = _aware(expires_at)
    if expires_at is not None and expires_at <= utcnow():
        raise invalid("expires_at", msg("must_be_future"))
    return expires_at


def create_api_key(
    session: Session,
    *,
    district_id: int | None,
    role: str,
    name: str,
    area_code: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a key and return the raw secret (shown once, never stored).

    ``platform`` keys have no district; every other role is bound to exactly one.
    """
    if role not in ROLES:
        raise invalid("role", msg("one_of", values=", ".join(ROLES)))
    if (role == Role.PLATFORM) != (district_id is None):
        raise invalid("district", msg("platform_key_district"))
    area_id = _resolve_area(session, district_id, role, area_code)
    issued = _new_key(
        session,
        district_id=district_id,
        role=role,
        name=name,
        area_id=area_id,
        expires_at=_check_expiry(expires_at),
    )
    return issued.secret


#: Built once: every request runs it, and building a statement costs more than running it here.
_KEY_BY_HASH = (
    select(
        ApiKey.id,
        ApiKey.name,
        ApiKey.role,
        ApiKey.district_id,
        ApiKey.area_id,
        ApiKey.active,
        ApiKey.revoked_at,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        District.active.label("district_active"),
    )
    .outerjoin(District, District.id == ApiKey.district_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)


def authenticate(session: Session, *, raw: str, act_as: str | None = None) -> Caller:
    """The caller behind a raw key, or 401 when the key is unknown, revoked or expired.

    ``act_as`` (a district code, from ``X-Act-As-District``) is honoured for platform keys
    only: the caller becomes that district's admin, marked ``acting_as`` in the audit trail.
    """
    # Through the connection (Core): the ORM's execution layer (entity loading, events) costs a
    # third of this lookup, and a row of plain columns needs none of it.
    key = session.connection().execute(_KEY_BY_HASH, {"key_hash": hash_key(raw)}).first()
    if key is None:
        raise _unauthorized("invalid_api_key", msg("invalid_api_key"))
    status = key_status(key)
    if status != "active":
        raise _unauthorized(f"{status}_api_key", msg(f"{status}_api_key"))
    if key.district_id is not None and not key.district_active:
        raise _unauthorized("district_inactive", msg("district_inactive"))
    _touch(session, key)
    if key.role == Role.PLATFORM:
        return _platform_caller(session, key, act_as)
    if act_as:
        raise Problem(403, "act_as_forbidden", msg("act_as_forbidden"))
    assert key.district_id is not None
    return Caller(api_key_id=key.id, name=key.name, role=key.role, district_id=key.district_id, area_id=key.area_id)


def _platform_caller(session: Session, key: _KeyInUse, act_as: str | None) -> Caller:
    if not act_as:
        return Caller(api_key_id=key.id, name=key.name, role=Role.PLATFORM, district_id=NO_DISTRICT)
    district = session.scalar(select(District).where(District.code == act_as))
    if district is None:
        raise invalid("X-Act-As-District", msg("unknown_district_code", code=act_as), status=404)
    return Caller(api_key_id=key.id, name=key.name, role=Role.ADMIN, district_id=district.id, acting_as=district.code)


def _touch(session: Session, key: _KeyInUse) -> None:
    """Record use, at most once a minute per key (the WHERE makes concurrent requests write once)."""
    now = utcnow()
    last = _aware(key.last_used_at)
    if last is not None and now - last < TOUCH_INTERVAL:
        return
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - TOUCH_INTERVAL))
        .values(last_used_at=now, updated_at=ApiKey.updated_at)  # use is not a change of the key
        .execution_options(synchronize_session=False)
    )


def touch(session: Session, caller: Caller) -> None:
    key = session.get(ApiKey, caller.api_key_id)
    if key is not None:
        _touch(session, key)


# --------------------------------------------------------------------------- management


def _require_manager(caller: Caller) -> None:
    if caller.role not in (Role.ADMIN, Role.PLATFORM):
        raise Problem(403, "forbidden_role", msg("keys_role"))


def _scoped_key(session: Session, caller: Caller, key_id: int) -> ApiKey:
    """Admins see their district's keys only (others are 404); platform keys see all."""
    _require_manager(caller)
    key = session.get(ApiKey, key_id)
    if key is None or (not caller.is_platform and key.district_id != caller.district_id):
        raise not_found("api key", key_id)
    return key


def list_keys(session: Session, caller: Caller, *, cursor: str | None, limit: int) -> Page[ApiKey]:
    _require_manager(caller)
    stmt = select(ApiKey)
    if not caller.is_platform:
        stmt = stmt.where(ApiKey.district_id == caller.district_id)
    return paginate(session, stmt=stmt, id_column=ApiKey.id, cursor=cursor, limit=limit)


def issue_key(
    session: Session,
    caller: Caller,
    *,
    role: str,
    name: str,
    area_code: str | None = None,
    district_code: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """``POST /v1/api-keys``: admins issue keys in their own district; platform keys in any."""
    _require_manager(caller)
    if role not in ROLES:
        raise invalid("role", msg("one_of", values=", ".join(ROLES)))
    district_id: int | None
    if caller.is_platform:
        if role == Role.PLATFORM:
            if district_code:
                raise invalid("district", msg("platform_key_no_district"))
            district_id = None
        else:
            if not district_code:
                raise invalid("district", msg("key_needs_district"))
            found = session.scalar(select(District.id).where(District.code == district_code))
            if found is None:
                raise invalid("district", msg("unknown_district_code", code=district_code))
            district_id = found
    else:
        if role == Role.PLATFORM:
            raise invalid("role", msg("platform_issues_platform"), status=403)
        if district_code and district_code != caller.acting_as and not _is_own(session, caller, district_code):
            raise invalid("district", msg("admin_own_district_keys"), status=403)
        district_id = caller.district_id
    area_id = _resolve_area(session, district_id, role, area_code)
    return _new_key(
        session, district_id=district_id, role=role, name=name, area_id=area_id, expires_at=_check_expiry(expires_at)
    )


def _is_own(session: Session, caller: Caller, district_code: str) -> bool:
    return session.scalar(select(District.id).where(District.code == district_code)) == caller.district_id


def revoke_key(session: Session, caller: Caller, *, key_id: int) -> ApiKey:
    """Revoke at once (idempotent: revoking a revoked key changes nothing)."""
    key = _scoped_key(session, caller, key_id)
    if key.revoked_at is None:
        key.active = False
        key.revoked_at = utcnow()
        session.flush()
    return key


def rotate_key(
    session: Session, caller: Caller, *, key_id: int, grace: timedelta = ROTATION_GRACE
) -> tuple[ApiKey, IssuedKey]:
    """A new secret for the same name, role and scope; the old one works for ``grace`` more."""
    if grace < timedelta(0) or grace > MAX_ROTATION_GRACE:
        raise invalid("grace_hours", msg("between", low=0, high=int(MAX_ROTATION_GRACE.total_seconds() // 3600)))
    old = _scoped_key(session, caller, key_id)
    if key_status(old) != "active":
        raise Problem(409, "key_not_active", msg("key_not_active", id=key_id, status=key_status(old)))
    new = _new_key(
        session,
        district_id=old.district_id,
        role=old.role,
        name=old.name,
        area_id=old.area_id,
        expires_at=old.expires_at,
    )
    end = utcnow() + grace
    current = _aware(old.expires_at)
    old.expires_at = end if current is None else min(current, end)
    old.replaced_by_id = new.key.id
    session.flush()
    return old, new
