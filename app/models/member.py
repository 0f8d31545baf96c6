"""Committee members (委员) and what they offer."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import NotificationChannel
from app.models.base import Base, DistrictOwned, EnumText, Versioned
from app.models.district import Area, Group
from app.models.skill import Skill


class MemberSkill(Base):
    __tablename__ = "member_skills"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer, default=2)  # 1 basic .. 3 expert

    skill: Mapped[Skill] = relationship(lazy="joined")


class Member(DistrictOwned, Versioned, Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("district_id", "external_id"),
        Index("ix_members_district_group_cursor", "district_id", "group_id", "id"),  # migration 0007
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(60))
    sector: Mapped[str | None] = mapped_column(String(60))  # 界别
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    home_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    work_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    preferred_channel: Mapped[NotificationChannel | None] = mapped_column(
        EnumText(NotificationChannel, 10)
    )  # None: default
    weekly_cap: Mapped[int] = mapped_column(Integer, default=2)
    accepts_cross_area: Mapped[bool] = mapped_column(Boolean, default=True)
    max_distance_km: Mapped[float | None] = mapped_column(Float)
    blackout_dates: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    weekly_slots: Mapped[list[dict]] = mapped_column(JSON, default=list)  # {weekday, start, end}
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    skills: Mapped[list[MemberSkill]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=MemberSkill.skill_id
    )
    group: Mapped[Group | None] = relationship(lazy="joined")
    home_area: Mapped[Area] = relationship(foreign_keys=[home_area_id], lazy="joined")
    work_area: Mapped[Area | None] = relationship(foreign_keys=[work_area_id], lazy="joined")
