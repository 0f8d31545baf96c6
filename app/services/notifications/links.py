"""Personal links: unguessable tokens bound to one member (and, for ``/t/``, one assignment).

* A token is ``secrets.token_urlsafe(24)``: 192 random bits, far beyond guessing.
* Only ``sha256(token)`` is stored. A token is minted when a message carrying it is sent (see
  the dispatcher), so it exists in clear only in that message.
* A task link expires ``link_days_after_end`` days after its need ends; a member link
  ``member_link_days`` after it was made. Both can be revoked: a task link is revoked when its
  assignment is superseded, withdrawn or its need cancelled (``revoke_for_assignments``).
* ``resolve`` answers with the link or a ``LinkProblem`` (unknown / expired / revoked); pages turn
  that into a clear page that never shows anyone's task.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import LinkKind
from app.models import Assignment, Demand, MemberLink
from app.models.base import utcnow
from app.services.audit import audited_update
from app.settings import NotifySettings

TOKEN_BYTES = 24  # 192 bits
MIN_TOKEN_LEN = 20
MAX_TOKEN_LEN = 100


_PATH_TOKEN = re.compile(r"^/([tm])/[^/]+")


def redact_path(path: str) -> str:
    """A request path fit for a log: ``/t/<token>/...`` becomes ``/t/***/...``."""
    return _PATH_TOKEN.sub(lambda m: f"/{m.group(1)}/***", path)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class MintedLink:
    link: MemberLink
    token: str

    def url(self, base_url: str) -> str:
        prefix = "t" if self.link.kind == LinkKind.TASK else "m"
        return f"{base_url.rstrip('/')}/{prefix}/{self.token}"


def _mint(
    session: Session, *, district_id: int, member_id: int, kind: LinkKind, assignment_id: int | None, expires: datetime
) -> MintedLink:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = MemberLink(
        district_id=district_id,
        token_hash=token_hash(token),
        kind=kind.value,
        member_id=member_id,
        assignment_id=assignment_id,
        form_nonce=secrets.token_urlsafe(24),
        expires_at=expires,
    )
    session.add(link)
    session.flush()
    return MintedLink(link, token)


def mint_task_link(session: Session, *, assignment: Assignment, cfg: NotifySettings | None = None) -> MintedLink:
    """A new link for the assignment's member to answer it (flushes; the caller commits)."""
    cfg = cfg or NotifySettings()
    demand = session.get(Demand, assignment.demand_id)
    end = _aware(demand.ends_at) if demand is not None else utcnow()
    return _mint(
        session,
        district_id=assignment.district_id,
        member_id=assignment.member_id,
        kind=LinkKind.TASK,
        assignment_id=assignment.id,
        expires=end + timedelta(days=cfg.link_days_after_end),
    )


def mint_member_link(
    session: Session, *, district_id: int, member_id: int, cfg: NotifySettings | None = None
) -> MintedLink:
    cfg = cfg or NotifySettings()
    return _mint(
        session,
        district_id=district_id,
        member_id=member_id,
        kind=LinkKind.MEMBER,
        assignment_id=None,
        expires=utcnow() + timedelta(days=cfg.member_link_days),
    )


class LinkProblem(Exception):
    """Why a token opens nothing: ``unknown``, ``expired`` or ``revoked`` (one page each)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve(session: Session, *, token: str, kind: LinkKind, now: datetime | None = None) -> MemberLink:
    """The live link of ``token`` (of the given kind), or ``LinkProblem``."""
    if not MIN_TOKEN_LEN <= len(token) <= MAX_TOKEN_LEN:
        raise LinkProblem("unknown")
    link = session.scalar(select(MemberLink).where(MemberLink.token_hash == token_hash(token)))
    if link is None or link.kind != kind.value:
        raise LinkProblem("unknown")
    if link.revoked_at is not None:
        raise LinkProblem("revoked")
    if _aware(link.expires_at) <= (now or utcnow()):
        raise LinkProblem("expired")
    return link


def nonce_ok(link: MemberLink, nonce: str | None) -> bool:
    return bool(nonce) and hmac.compare_digest(link.form_nonce, nonce or "")


def revoke_for_assignments(session: Session, *, assignment_ids: list[int], reason: str) -> int:
    """Revoke every live task link of these assignments (superseded, withdrawn, need cancelled)."""
    if not assignment_ids:
        return 0
    revoked = audited_update(
        session,
        MemberLink,
        MemberLink.assignment_id.in_(assignment_ids),
        MemberLink.revoked_at.is_(None),
        values={"revoked_at": utcnow(), "revoked_reason": reason[:40]},
    )
    return len(revoked)
