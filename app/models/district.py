"""Districts, areas (街道/乡), communities (社区) and working groups (小组)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, String, Table, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import AreaKind
from app.models.base import Base, DistrictOwned, EnumText, UTCDateTime, Versioned, utcnow


class District(Versioned, Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # A repair run started after a decline is published (and its new members told) by itself.
    auto_publish_repairs: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A deactivated district keeps its data; its keys stop working (401) until it is reactivated.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai", server_default="Asia/Shanghai")
    # Per-district settings edited by its admin (app.services.district_settings validates the shape).
    settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")


class Area(DistrictOwned, Versioned, Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AreaKind] = mapped_column(EnumText(AreaKind))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    liaison_name: Mapped[str | None] = mapped_column(String(100))
    liaison_phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Community(DistrictOwned, Versioned, Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("area_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    area: Mapped[Area] = relationship(lazy="joined")


group_areas = Table(
    "group_areas",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id"), primary_key=True),
)


class Group(DistrictOwned, Versioned, Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    areas: Mapped[list[Area]] = relationship(secondary=group_areas, lazy="selectin", order_by=Area.id)


class ScheduledPeriod(Base):
    """One row per district and planned week the weekly schedule has started.

    The unique key is what makes the schedule run each period at most once, however many
    workers (or API processes) tick at the same time: the second insert fails and backs off.
    """

    __tablename__ = "scheduled_periods"
    __table_args__ = (UniqueConstraint("district_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))  # ISO week planned, e.g. 2026-W50
    run_id: Mapped[int | None] = mapped_column(ForeignKey("optimization_runs.id"))
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
