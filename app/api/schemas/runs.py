"""Optimization runs on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestModel, ServiceDate, Stamped, enum_literal
from app.domain import enums
from app.schemas.runs import WeightsIn
from app.solver.types import SolverStatus

__all__ = ["PublishOut", "RunCreate", "RunMode", "RunOut", "RunStatus", "UnmetOut", "WeightsIn"]

if TYPE_CHECKING:
    RunStatus = enums.RunStatus
    RunMode = enums.RunMode
    SolverStatusField = SolverStatus
else:
    RunStatus = enum_literal(enums.RunStatus)
    RunMode = enum_literal(enums.RunMode)
    SolverStatusField = enum_literal(SolverStatus)


class RunCreate(RequestModel):
    week: str | None = Field(
        None,
        pattern=r"^[0-9]{4}-?W[0-9]{2}$",
        description="ISO week, e.g. 2026-W48 or 2026W48, years 2000-2100. Required unless window_start and "
        "window_end are given (not both: 422 on `week`).",
        examples=["2026-W48"],
    )
    window_start: ServiceDate | None = Field(None, description="First day of the window (inclusive).")
    window_end: ServiceDate | None = Field(None, description="Last day of the window (inclusive).")
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

    model_config = {
        "json_schema_extra": {
            "examples": [{"week": "2026-W48", "time_limit_s": 20, "weights": {"distance": 0.5}}],
            # the server's rule (422 otherwise): a week, or a window given by both of its ends
            "anyOf": [
                {"required": ["week"], "properties": {"week": {"type": "string"}}},
                {
                    "required": ["window_start", "window_end"],
                    "properties": {"window_start": {"type": "string"}, "window_end": {"type": "string"}},
                },
            ],
        }
    }


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
