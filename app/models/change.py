"""The integrator change feed and webhook subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import ChangeKind, DeliveryStatus, EntityType
from app.models.base import Base, DistrictOwned, EnumText, Timestamped, Versioned, utcnow


class ChangeEvent(Base):
    """One create/update/delete, written in the same transaction as the change itself.

    ``id`` is the feed cursor; ``app.services.changes`` makes ids commit in order.
    ``area_id`` scopes the event for liaisons; NULL means district-level (runs),
    which liaisons do not see. Neither ``district_id`` nor ``area_id`` has a foreign
    key, on purpose: events are written while holding the feed's ordering lock, and
    a foreign-key check would take a share lock on the district row, which another
    transaction (a run publish locks its district row) may hold while it waits for
    the ordering lock: a deadlock. Without them the lock holder waits on nothing.
    """

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_district_cursor", "district_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    district_id: Mapped[int] = mapped_column(Integer)  # indexed by ix_change_events_district_cursor
    entity_type: Mapped[EntityType] = mapped_column(EnumText(EntityType, 30))
    entity_id: Mapped[int] = mapped_column(Integer)
    change_kind: Mapped[ChangeKind] = mapped_column(EnumText(ChangeKind))
    area_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Webhook(DistrictOwned, Versioned, Base):
    """A subscription; ``last_change_id`` is the dispatcher's position in the change feed."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_change_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


class WebhookDelivery(Timestamped, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook_status", "webhook_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("change_events.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(EnumText(DeliveryStatus), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
