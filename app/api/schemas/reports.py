"""JSON shapes of the reports. CSV/XLSX carry the same rows, flattened (see the route docs)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.api.schemas.common import ResponseModel


class DutyReportMember(ResponseModel):
    """One member's line of the annual duty report (``GET /v1/reports/duty``)."""

    member_id: int
    name: str
    group_id: int | None
    group_name: str | None
    home_area_id: int
    home_area_name: str
    counts: dict[str, int] = Field(description="Records this year per kind: suggestion, information, activity.")
    met: bool = Field(description="At least one record of every kind this year.")
    missing: list[str] = Field(description="Kinds still missing this year.")


class DutyGroupOut(ResponseModel):
    key_id: int | None = Field(description="Group id (by=group) or area id (by=area); null = members without a group.")
    name: str
    members: int
    met: int
    counts: dict[str, int] = Field(description="Records per kind, summed over the members.")
    missing_counts: dict[str, int] = Field(description="Members still missing each kind.")
    missing_members: dict[str, list[str]] = Field(description="Their names, per kind.")


class DutyReportOut(ResponseModel):
    year: int
    by: str
    kinds: list[str]
    total_members: int
    total_met: int
    members: list[DutyReportMember] = Field(description="Per member (every `by`).")
    groups: list[DutyGroupOut] = Field(description="Per group or area (by=group|area); empty for by=member.")


class NeedsRowOut(ResponseModel):
    key: str = Field(
        description="Area code (by=area), skill code (by=skill; '(none)' for open demands), '*' for the total."
    )
    name: str
    raised: int
    covered: int
    unmet: int
    causes: dict[str, int] = Field(
        description="Unmet demands per cause (UnmetDemand of the latest published run, "
        "else the latest run; 'not_planned' if no run saw it)."
    )
    median_days_to_assignment: float | None
    median_days_to_completion: float | None
    response_methods: dict[str, int]
    mean_satisfaction: float | None


class UnmetDemandOut(ResponseModel):
    demand_id: int
    title: str
    area: str | None
    cause: str | None
    text: str | None


class NeedsReportOut(ResponseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    by: str
    rows: list[NeedsRowOut]
    total: NeedsRowOut
    unmet_demands: list[UnmetDemandOut]


class SkillGapRowOut(ResponseModel):
    code: str
    name: str
    required: int = Field(description="Demands in the period requiring the skill.")
    unmet: int = Field(description="Of those, demands left unmet.")
    holders: int = Field(description="Active members of the district holding the skill.")


class SkillGapReportOut(ResponseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    rows: list[SkillGapRowOut] = Field(description="Most unmet first: a recruiting signal.")


class MetricRowOut(ResponseModel):
    metric: str
    label: str
    optimized: float | None
    fixed_pairing: float | None
    greedy: float | None


class AreaCoverageOut(ResponseModel):
    area_id: int
    code: str
    name: str
    demands: int
    covered: int
    unmet: int


class FlowOut(ResponseModel):
    from_area: str
    to_area: str
    count: int


class MemberLoadOut(ResponseModel):
    member_id: int
    name: str
    home_area: str
    load: int


class UnmetRowOut(ResponseModel):
    demand_id: int
    title: str
    area: str
    area_name: str
    cause: str
    cause_label: str
    assigned: int
    text: str


class RunReportOut(ResponseModel):
    id: int
    status: str
    week: str | None
    window_start: date
    window_end: date
    mode: str
    solver_status: str | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    published_at: datetime | None
    finished_at: datetime | None
    scoped_to_area: str | None = Field(description="Set for a liaison key: rows are limited to this area.")
    metrics: list[MetricRowOut] = Field(description="The plan's figures beside the fixed-pairing and greedy baselines.")
    coverage: list[AreaCoverageOut]
    flows: list[FlowOut] = Field(description="Member home area -> demand area, non-declined assignments of the run.")
    loads: list[MemberLoadOut]
    unmet: list[UnmetRowOut]
