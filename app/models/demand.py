"""Needs raised by residents (民需)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import Channel, DemandStatus
from app.models.base import Base, DistrictOwned, EnumText, UTCDateTime, Versioned
from app.models.district import Area, Community
from app.models.member import Member
from app.models.skill import Skill

demand_skills = Table(
    "demand_skills",
    Base.metadata,
    Column("demand_id", ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skills.id"), primary_key=True),
)

demand_exclusions = Table(
    "demand_exclusions",
    Base.metadata,
    Column("demand_id", ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id"), primary_key=True),
)


class Demand(DistrictOwned, Versioned, Base):
    __tablename__ = "demands"
    __table_args__ = (
        UniqueConstraint("district_id", "external_id"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("min_members >= 1 AND max_members >= min_members", name="member_bounds"),
        CheckConstraint("ends_at > starts_at", name="window_order"),
        # The list's filters in keyset order (migration 0007; ``python -m bench explain``).
        Index("ix_demands_district_status_cursor", "district_id", "status", "id"),
        Index("ix_demands_district_area_cursor", "district_id", "area_id", "id"),
        Index("ix_demands_district_starts", "district_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(60))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)  # denormalised for scoping
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 30))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    min_members: Mapped[int] = mapped_column(Integer, default=1)
    max_members: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[DemandStatus] = mapped_column(EnumText(DemandStatus), default=DemandStatus.OPEN, index=True)
    created_by: Mapped[str | None] = mapped_column(String(100))

    community: Mapped[Community] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    required_skills: Mapped[list[Skill]] = relationship(secondary=demand_skills, lazy="selectin", order_by=Skill.id)
    excluded_members: Mapped[list[Member]] = relationship(
        secondary=demand_exclusions, lazy="selectin", order_by=Member.id
    )
