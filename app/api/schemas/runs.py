"""Optimization runs on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestModel, ServiceDate, Stamped, enum_literal
from app.domain import enums
from app.schemas.runs import WeightsIn
from app.solver.types import SolverStatus

__all__ = [
    "BODY_FORMS",
    "PublishOut",
    "RunCreate",
    "RunCreateWeek",
    "RunCreateWindow",
    "RunMode",
    "RunOut",
    "RunStatus",
    "UnmetOut",
    "WeightsIn",
]

if TYPE_CHECKING:
    RunStatus = enums.RunStatus
    RunMode = enums.RunMode
    SolverStatusField = SolverStatus
else:
    RunStatus = enum_literal(enums.RunStatus)
    RunMode = enum_literal(enums.RunMode)
    SolverStatusField = enum_literal(SolverStatus)


_WEEK_PATTERN = r"^[0-9]{4}-?W[0-9]{2}$"
_WEEK_HELP = "ISO week, e.g. 2026-W48 or 2026W48, years 2000-2100."


class RunOptions(RequestModel):
    """What a run takes besides its window (shared by both forms of the body)."""

    weights: WeightsIn | None = None
    time_limit_s: float | None = Field(None, ge=1, le=300, description="Solver time limit, 1..300 s.")
    scope: list[str] | None = Field(None, description="Only demands in these areas (codes).", examples=[["JW", "CW"]])
    deterministic: bool = Field(
        True,
        description="Same input, seed, workers and time limit give the same plan (CP-SAT interleaved on a "
        "deterministic time budget); false lets the solver use the wall clock freely.",
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Solver random seed, recorded on the run.")
    mode: RunMode = Field(
        enums.RunMode.FULL,
        description="full: re-plan the window; repair: only what declines or "
        "unmet demands left open, keeping every other assignment.",
    )


class RunCreateWeek(RunOptions):
    """A run for one ISO week (Monday to Sunday)."""

    week: str = Field(pattern=_WEEK_PATTERN, description=_WEEK_HELP, examples=["2026-W48"])

    model_config = {"json_schema_extra": {"examples": [{"week": "2026-W48", "time_limit_s": 20}]}}


class RunCreateWindow(RunOptions):
    """A run for a window of days given by both of its ends (at most the service's maximum)."""

    window_start: ServiceDate = Field(description="First day of the window (inclusive).")
    window_end: ServiceDate = Field(description="Last day of the window (inclusive).")


class RunCreate(RunOptions):
    """What the server validates: a week, or a window given by both of its ends, never both (422
    naming the field otherwise). The OpenAPI document shows it as ``oneOf`` the two forms above
    (``RunCreateWeek``, ``RunCreateWindow``), so generated clients get a typed model for each."""

    week: str | None = Field(None, pattern=_WEEK_PATTERN, description=_WEEK_HELP)
    window_start: ServiceDate | None = Field(None, description="First day of the window (inclusive).")
    window_end: ServiceDate | None = Field(None, description="Last day of the window (inclusive).")


#: Request bodies documented as ``oneOf`` their forms (operation id -> the forms' models); the
#: handler validates the union model, whose rules the forms state (see ``app.api.openapi``).
BODY_FORMS: dict[str, tuple[type[BaseModel], ...]] = {"runs_create": (RunCreateWeek, RunCreateWindow)}


class RunOut(Stamped):
    id: int
    status: RunStatus
    mode: RunMode
    week: str | None
    window_start: date
    window_end: date
    scope: list[str] | None
    weights: dict[str, Any] | None = Field(description="The weight overrides this run used.")
    time_limit_s: float
    cancel_requested: bool
    attempts: int
    solver_status: SolverStatusField | None = Field(description="The solver's outcome; null until the run finished.")
    deterministic: bool | None = Field(None, description="Whether the run was solved reproducibly.")
    seed: int | None = Field(None, description="The solver seed the run used.")
    objective: float | None
    best_bound: float | None
    gap: float | None
    progress: dict[str, Any] | None = Field(description="Best objective and bound so far while running.")
    counts: dict[str, Any] | None = Field(description="members, demands, proposals, pinned, unmet, covered ...")
    stats: dict[str, Any] | None = Field(
        description="optimized / fixed_pairing / greedy plan metrics on the same problem; partial=true "
        "when a cancelled run kept its best plan so far; solver details."
    )
    error: str | None
    created_by: str | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    published_at: datetime | None


class PublishOut(BaseModel):
    run: RunOut
    published: int
    superseded: int
    skipped: int
    demands_assigned: int
    demands_open: int


class UnmetOut(BaseModel):
    id: int
    run_id: int
    demand_id: int
    demand_title: str | None
    area: str | None
    community_id: int | None
    priority: int | None
    min_members: int | None
    assigned: int
    cause: str = Field(
        description="no_skill_holder | only_conflicted_or_declined | holders_unavailable | "
        "cross_area_blocked | holders_at_capacity"
    )
    detail: dict[str, Any]
    text: str = Field(description="The reason in plain Chinese.")
