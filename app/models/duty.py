"""Annual duty (履职) records: suggestions, information reports, community activities."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import DutyKind
from app.models.base import Base, DistrictOwned, EnumText, Versioned


class DutyRecord(DistrictOwned, Versioned, Base):
    __tablename__ = "duty_records"
    # An assignment yields at most one activity record, even if completion is sent twice.
    __table_args__ = (UniqueConstraint("assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[DutyKind] = mapped_column(EnumText(DutyKind))
    date: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
