"""The audit trail: who changed what, when, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import ActorKind, AuditAction
from app.models.base import Base, EnumText, UTCDateTime, utcnow


class AuditEvent(Base):
    """One created/updated/deleted row. Append-only: the application has no update or delete path.

    ``district_id`` has no foreign key (like ``change_events``): the trail outlives what it
    describes, and a platform action on no district is recorded with NULL. ``changes`` maps each
    changed field to ``[before, after]`` with phones and e-mail addresses masked.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_district_cursor", "district_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    district_id: Mapped[int | None] = mapped_column(Integer)
    actor_kind: Mapped[ActorKind] = mapped_column(EnumText(ActorKind))
    actor_key_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(200))
    acting_as: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[AuditAction] = mapped_column(EnumText(AuditAction))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
