"""Optimization runs, their proposals (assignments) and what they left unmet."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import AssignmentStatus, ResponseMethod, RunMode, RunStatus
from app.models.base import Base, DistrictOwned, EnumText, UTCDateTime, Versioned
from app.models.demand import Demand
from app.models.member import Member


class OptimizationRun(DistrictOwned, Versioned, Base):
    __tablename__ = "optimization_runs"
    __table_args__ = (
        # One active run per district and window, enforced by the database itself.
        Index(
            "uq_optimization_runs_active_window",
            "district_id",
            "window_start",
            "window_end",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)  # inclusive
    week: Mapped[str | None] = mapped_column(String(10))  # e.g. 2026-W48
    mode: Mapped[RunMode] = mapped_column(EnumText(RunMode, 10), default=RunMode.FULL)
    scope_area_ids: Mapped[list[int] | None] = mapped_column(JSON)
    weights: Mapped[dict | None] = mapped_column(JSON)
    time_limit_s: Mapped[float] = mapped_column(Float, default=10.0)
    status: Mapped[RunStatus] = mapped_column(EnumText(RunStatus), default=RunStatus.QUEUED, index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    solver_status: Mapped[str | None] = mapped_column(String(20))
    objective: Mapped[float | None] = mapped_column(Float)
    best_bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[dict | None] = mapped_column(JSON)
    stats: Mapped[dict | None] = mapped_column(JSON)  # metrics of the plan and of both baselines
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Assignment(DistrictOwned, Versioned, Base):
    """A member serving a demand.

    status: proposed (in a run) -> published (current plan) -> accepted -> completed,
    or declined; superseded when a later publish replaces it.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_run_demand", "run_id", "demand_id"),
        # The list's filters in keyset order (migration 0007; ``python -m bench explain``).
        Index("ix_assignments_district_status_cursor", "district_id", "status", "id"),
        Index("ix_assignments_district_area_cursor", "district_id", "area_id", "id"),
        Index("ix_assignments_run_cursor", "run_id", "id"),
        Index("ix_assignments_member_cursor", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("optimization_runs.id"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(
        EnumText(AssignmentStatus), default=AssignmentStatus.PROPOSED, index=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict | None] = mapped_column(JSON)
    explanation_text: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    response_method: Mapped[ResponseMethod | None] = mapped_column(EnumText(ResponseMethod))
    outcome: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    demand: Mapped[Demand] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(lazy="joined")


class UnmetDemand(DistrictOwned, Base):
    """A demand a run could not bring to ``min_members``, and the computed reason."""

    __tablename__ = "unmet_demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("optimization_runs.id", ondelete="CASCADE"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    cause: Mapped[str] = mapped_column(String(40))
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text)
