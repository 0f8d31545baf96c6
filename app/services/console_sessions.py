"""Office console sign-in: server-side sessions, one-time sign-in links, CSRF tokens, and what a
role may do in the console.

Why server-side sessions: the console must never put an API key in a URL, and signing out must
really end access (a stateless signed cookie cannot be revoked). The browser holds a random token
in an HttpOnly cookie; the database holds its SHA-256, the API key it acts as, and an expiry.
A session acts as its API key: a revoked key ends its sessions at the next request.

CSRF: each session has its own CSRF token, derived from the session token (so the server can put
it into every page it renders without storing it in clear; another site knows neither). Every
console POST must carry it (form field or ``X-CSRF-Token`` header, as htmx sends it); together
with the SameSite=Strict cookie this refuses cross-site form posts. The sign-in form itself, before any session exists,
uses a double-submit token: a random value in a short-lived cookie that the form repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.domain.times import stored_utc
from app.errors import Problem, msg
from app.models import ApiKey, ConsoleSession, ConsoleSignInLink
from app.models.base import utcnow
from app.services.api_keys import authenticate, create_api_key, hash_key, key_usable
from app.services.audit import Actor, audited_delete, audited_update, set_actor
from app.services.identity import Caller

COOKIE_NAME = "matcher_console"
LOGIN_CSRF_COOKIE = "matcher_console_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# What each role may do in the console; the page handlers refuse, the templates hide the buttons.
# It mirrors the JSON API's role rules (app.api.deps), so both faces allow the same.
_ACTIONS: dict[str, frozenset[Role]] = {
    "demand.write": frozenset({Role.ADMIN, Role.LIAISON}),
    "assignment.respond": frozenset({Role.ADMIN}),  # accept / decline on a member's behalf
    "assignment.complete": frozenset({Role.ADMIN, Role.LIAISON}),
    "run.manage": frozenset({Role.ADMIN}),  # start, cancel, publish
    "duty.write": frozenset({Role.ADMIN, Role.LIAISON}),
}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The session's CSRF token: a one-way function of its cookie token."""
    return hashlib.sha256(b"matcher-console-csrf:" + session_token.encode()).hexdigest()


def can(caller: Caller, *, action: str) -> bool:
    """May this caller do ``action`` (a key of ``_ACTIONS``) in the console?"""
    return caller.role in _ACTIONS[action]


def require(caller: Caller, *, action: str) -> None:
    if not can(caller, action=action):
        raise Problem(403, "forbidden_role", msg("console_role", role=caller.role, action=action))


@dataclass(frozen=True)
class SignedIn:
    """A live session: who is calling, and the session's CSRF check."""

    caller: Caller
    session_id: int
    csrf_hash: str
    csrf_token: str  # to render into forms

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(_hash(token or ""), self.csrf_hash)


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie
    csrf_token: str  # goes into every form
    expires_at: datetime


def _purge_expired(session: Session) -> None:
    """Rows of sessions and links that can no longer be used serve nobody: drop them as we go."""
    cutoff = utcnow() - timedelta(days=1)
    audited_delete(session, ConsoleSession, ConsoleSession.expires_at < cutoff)
    audited_delete(session, ConsoleSignInLink, ConsoleSignInLink.expires_at < cutoff)


def _caller_of(key: ApiKey) -> Caller:
    return Caller(
        api_key_id=key.id, name=key.name, role=key.role, district_id=key.district_id or 0, area_id=key.area_id
    )


def _open(session: Session, key: ApiKey | Caller, hours: float, request_id: str | None) -> NewSession:
    """Open a session acting as ``key``; signing in is already the key's act in the audit trail."""
    caller = key if isinstance(key, Caller) else _caller_of(key)
    set_actor(session, actor=Actor.for_console(caller, request_id=request_id))
    _purge_expired(session)
    token = secrets.token_urlsafe(32)
    csrf = csrf_token_for(token)
    expires = utcnow() + timedelta(hours=hours)
    key_id = key.api_key_id if isinstance(key, Caller) else key.id
    session.add(
        ConsoleSession(
            district_id=key.district_id,
            api_key_id=key_id,
            token_hash=_hash(token),
            csrf_hash=_hash(csrf),
            expires_at=expires,
        )
    )
    session.flush()
    return NewSession(token=token, csrf_token=csrf, expires_at=expires)


def sign_in_with_key(session: Session, *, raw_key: str, hours: float, request_id: str | None = None) -> NewSession:
    """Check the API key (401 when unknown or revoked) and open a session acting as it."""
    caller = authenticate(session, raw=raw_key.strip())
    if caller.district_id is None:
        raise Problem(403, "forbidden_role", msg("console_platform_key"))
    return _open(session, caller, hours, request_id)


def create_sign_in_link(session: Session, *, district_id: int, role: str, area_code: str | None, minutes: float) -> str:
    """A one-time sign-in token for a new console key of ``role`` (the key's secret is never shown)."""
    name = f"console-link {role}" + (f" {area_code}" if area_code else "")
    raw = create_api_key(session, district_id=district_id, role=role, name=name, area_code=area_code)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw)))
    assert key is not None  # just flushed
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSignInLink(
            district_id=district_id,
            api_key_id=key.id,
            token_hash=_hash(token),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return token


def redeem_sign_in_link(session: Session, *, token: str, hours: float, request_id: str | None = None) -> NewSession:
    """Use a sign-in link once; a used, expired or unknown link is 401."""
    now = utcnow()
    link = session.scalar(select(ConsoleSignInLink).where(ConsoleSignInLink.token_hash == _hash(token)))
    if link is None or link.used_at is not None or stored_utc(link.expires_at) <= now:
        raise Problem(401, "invalid_sign_in_link", msg("invalid_sign_in_link"))
    key = session.get(ApiKey, link.api_key_id)
    if key is not None:  # using the link is already the key's act
        set_actor(session, actor=Actor.for_console(_caller_of(key), request_id=request_id))
    claimed = audited_update(
        session,
        ConsoleSignInLink,
        ConsoleSignInLink.id == link.id,
        ConsoleSignInLink.used_at.is_(None),
        values={"used_at": now},
    )
    if len(claimed) != 1 or key is None or not _district_key_usable(session, key):  # a racing twin used it first
        raise Problem(401, "invalid_sign_in_link", msg("invalid_sign_in_link"))
    return _open(session, key, hours, request_id)


def _district_key_usable(session: Session, key: ApiKey | None) -> bool:
    """The console works for district keys only, and only while the key itself is usable."""
    return key is not None and key.district_id is not None and key_usable(session, api_key_id=key.id)


def resolve(session: Session, *, token: str | None) -> SignedIn | None:
    """The live session of a cookie token, or None (unknown, expired, signed out, key revoked)."""
    if not token:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or stored_utc(row.expires_at) <= utcnow():
        return None
    key = session.get(ApiKey, row.api_key_id)
    if key is None or key.district_id is None or not _district_key_usable(session, key):
        return None  # the key was revoked, expired or its district deactivated: the session ends with it
    caller = Caller(api_key_id=key.id, name=key.name, role=key.role, district_id=key.district_id, area_id=key.area_id)
    return SignedIn(caller=caller, session_id=row.id, csrf_hash=row.csrf_hash, csrf_token=csrf_token_for(token))


def sign_out(session: Session, *, token: str | None) -> bool:
    """Revoke the session server-side, so the same cookie is refused from now on."""
    if not token:
        return False
    revoked = audited_update(
        session,
        ConsoleSession,
        ConsoleSession.token_hash == _hash(token),
        ConsoleSession.revoked_at.is_(None),
        values={"revoked_at": utcnow()},
    )
    return bool(revoked)


def new_login_csrf() -> str:
    """The double-submit token of the sign-in form (cookie value == form value)."""
    return secrets.token_urlsafe(24)


def login_csrf_ok(cookie_value: str | None, form_value: str | None) -> bool:
    return bool(cookie_value) and bool(form_value) and hmac.compare_digest(cookie_value or "", form_value or "")
