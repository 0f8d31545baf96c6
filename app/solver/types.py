"""Plain data in and out of the matcher.

The service layer translates database rows into these frozen dataclasses and back, so the
optimisation core never sees ORM objects, sessions or HTTP requests. Keeping them frozen lets
the solver, the checker and the baselines share one input without defensive copies.

Datetimes: the solver compares them as given. Naive and aware values must not be mixed in one
Problem; weekly slots and blackout dates are read in the datetimes' own (local) time, so the
caller should convert to the district's local time zone first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum


class SolverStatus(StrEnum):
    """Outcome of one solve. The values are stored on runs and shown in the API as they are."""

    OPTIMAL = "OPTIMAL"  # every reported bound is reached: nothing better exists
    FEASIBLE = "FEASIBLE"  # a checked plan, not proven optimal (gap > 0)
    INFEASIBLE = "INFEASIBLE"  # no plan at all (never returned by solve(): the empty plan is feasible)
    UNKNOWN = "UNKNOWN"  # no plan yet (e.g. a run that failed before the solver finished)
    CANCELLED = "CANCELLED"  # stopped on request; the plan is the best found so far, checked


class InfeasiblePlanError(RuntimeError):
    """Raised when a plan breaks a hard rule; such a plan must never reach the operators."""

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        head = "; ".join(self.violations[:5])
        more = f" (+{len(self.violations) - 5} more)" if len(self.violations) > 5 else ""
        super().__init__(f"plan breaks {len(self.violations)} hard rule(s): {head}{more}")


@dataclass(frozen=True)
class TimeSlot:
    """A weekly availability slot."""

    weekday: int  # 0=Monday .. 6=Sunday
    start: time
    end: time


@dataclass(frozen=True)
class SolverMember:
    id: int
    home_area: str  # area code
    paired_areas: frozenset[str] = frozenset()  # areas the member's group is paired with
    skills: dict[str, float] = field(default_factory=dict)  # skill code -> strength in (0, 1]
    cap: int = 2  # max assignments in the window, INCLUDING already-accepted ones
    busy: tuple[tuple[datetime, datetime], ...] = ()  # accepted assignments in the window
    activities_this_year: int = 0  # community activities already done this year (annual duty)
    blackout_dates: frozenset[date] = frozenset()
    weekly_slots: tuple[TimeSlot, ...] = ()  # empty = available at any time
    accepts_cross_area: bool = True
    max_distance_km: float | None = None  # None = no limit
    active: bool = True
    served_communities: frozenset[int] = frozenset()  # communities served before (continuity)

    def __hash__(self) -> int:  # skills is a dict; identity by id is what the solver needs
        return hash(self.id)


@dataclass(frozen=True)
class SolverDemand:
    id: int
    area: str  # area code
    community: int
    priority: int  # 1 (low) .. 5 (high)
    required_skills: frozenset[str]  # empty = open to all
    min_members: int
    max_members: int
    start: datetime
    end: datetime
    excluded_members: frozenset[int] = frozenset()  # conflicts of interest


@dataclass(frozen=True)
class Weights:
    """Objective weights, per unit of each term.

    Defaults put the terms in the order of the domain brief: a covered demand of priority 1
    (``coverage`` per priority point) outweighs any realistic sum of the other terms, quality
    comes next, then home preference, balance and stability. In lexicographic mode ``coverage``
    is only used to rank demands inside stage 1; the other weights drive stage 2.

    ``duty`` is deliberately larger than ``quality``: every member owes one community activity
    a year, so a member's first activity outweighs a better skill score for someone already
    served. With 3.0 the demo week served 139 of the 164 members still without an activity;
    with 50 it serves all 155 who have any eligible need, at the same coverage and a lower
    peak load (mean skill score 0.79 -> 0.78).
    """

    coverage: float = 1000.0  # per priority point of a demand reaching min_members
    quality: float = 10.0  # per pair, times the skill score in [0, 1]
    home: float = 4.0  # bonus for a pair in the member's home area
    distance: float = 0.3  # cost per km of a cross-area pair
    balance_peak: float = 2.0  # cost per unit of the peak member load
    balance_convex: float = 1.0  # cost of the k-th assignment of a member is (k-1) * this
    duty: float = 50.0  # bonus for giving a member with no activity this year their first one
    stability: float = 2.0  # bonus for keeping a pair proposed earlier
    continuity: float = 1.0  # bonus for a member who served the community before
    lexicographic: bool = True  # True: solve coverage first, fix it, then optimise the rest
    # Added (optional): bonus for a pair in an area the member's group is paired with.
    paired: float = 3.0


@dataclass(frozen=True)
class Problem:
    members: tuple[SolverMember, ...]
    demands: tuple[SolverDemand, ...]
    area_coords: dict[str, tuple[float, float]]  # area code -> (lat, lon); haversine km
    pinned: frozenset[tuple[int, int]] = frozenset()  # (demand_id, member_id) accepted
    forbidden: frozenset[tuple[int, int]] = frozenset()  # (demand_id, member_id) declined
    previous: frozenset[tuple[int, int]] = frozenset()  # earlier proposals (stability)
    weights: Weights = Weights()
    time_limit_s: float = 10.0
    num_workers: int = 2
    relative_gap: float = 0.0  # stop when within this gap
    # Added (optional): candidate pruning. Only K eligible members per demand become variables:
    # K = top_k if set, else max_pairs // len(demands), never below 3 x the largest max_members;
    # both None keeps every eligible pair. Three quarters of K are chosen by a weight-independent
    # coverage key (home, paired areas, distance, skill score with the default weights; never
    # the duty bonus or per-run weights, which would send every demand the same few members),
    # the rest by the run's pair value plus duty bonus; each member also keeps its best 2 pairs,
    # and the greedy baseline's plan is always kept, so the optimiser never covers less than it.
    # Demands with at most K eligible members lose nothing (a 410 x 300 district is never
    # pruned by default). Pruning can lose optimality, never feasibility; the reported bounds
    # stay valid for the unpruned problem (the flow bounds are corrected for every left-out
    # pair), so they are looser than the pruned model's own.
    top_k: int | None = None
    max_pairs: int | None = 200_000
    # Added (optional): "auto" = min-cost flow (bound + plan), reduced-cost fixing, LP (GLOP)
    # and CP-SAT where the model is small enough; "cp-sat" = plain CP-SAT from the greedy plan;
    # "flow" = min-cost flow phase only.
    method: str = "auto"
    random_seed: int = 0  # CP-SAT seed
    # Same input, seed, workers and limit -> same plan: CP-SAT runs its workers interleaved on
    # a deterministic time budget, and every phase that reads the clock is given work limits
    # instead (see pipeline.Budget). Costs some speed, so library callers opt in; runs do.
    deterministic: bool = False


class UnmetCause(StrEnum):
    NO_SKILL_HOLDER = "no_skill_holder"  # no active member holds any required skill
    CONFLICTED = "only_conflicted_or_declined"  # holders exist but all excluded or declined
    UNAVAILABLE = "holders_unavailable"  # blackout / weekly slots / time overlap exclude them
    CROSS_AREA_BLOCKED = "cross_area_blocked"  # cross-area consent or distance limit blocks them
    AT_CAPACITY = "holders_at_capacity"  # eligible holders exist but all are used up


@dataclass(frozen=True)
class PairExplanation:
    skill_overlap: tuple[str, ...]  # required skills the member holds (or () for an open demand)
    skill_score: float
    home_area: bool  # demand in member's home area
    paired_area: bool  # demand in an area the member's group is paired with
    distance_km: float  # 0 for home area
    load_after: int  # member's assignments in window after this plan (incl. accepted)
    first_activity_this_year: bool
    kept_from_previous: bool
    served_community_before: bool
    terms: dict[str, float]  # objective contribution per term name
    text: str  # plain Chinese


@dataclass(frozen=True)
class Assignment:
    demand_id: int
    member_id: int
    pinned: bool
    explanation: PairExplanation


@dataclass(frozen=True)
class Unmet:
    demand_id: int
    assigned: int
    min_members: int
    cause: UnmetCause
    detail: dict[str, int]  # holders, conflicted, unavailable, blocked, at_capacity
    text: str  # plain Chinese reason


@dataclass(frozen=True)
class PlanMetrics:
    demands_total: int
    demands_covered: int
    weighted_coverage: float  # priority-weighted share of demands reaching min_members, 0..1
    assignments: int
    mean_skill_score: float
    cross_area_share: float
    mean_distance_km: float
    load_peak: int
    load_std: float
    zero_activity_members: int  # members with no activity this year
    zero_activity_members_served: int  # ... and how many of them got one in this plan


@dataclass(frozen=True)
class SolveStats:
    status: SolverStatus
    objective: float
    best_bound: float
    gap: float  # relative gap
    build_s: float
    solve_s: float
    wall_s: float
    members: int
    demands: int
    candidate_pairs: int
    method: str  # e.g. "cp-sat lexicographic", "min-cost-flow + cp-sat"
    # Added (optional). The objective is coverage_weight * coverage + rest; in lexicographic
    # mode each part has its own bound and `gap` is the larger of the two relative gaps.
    coverage_value: float = 0.0  # sum of priorities of demands reaching min_members
    coverage_bound: float = 0.0
    rest_value: float = 0.0  # quality, home, distance, balance, duty, stability, continuity
    rest_bound: float = 0.0
    top_k: int | None = None  # members kept per demand when candidates were pruned
    # False when candidate generation stopped (deadline or cancel) before every demand was reached:
    # the plan then says nothing about the demands not reached.
    candidates_complete: bool = True


@dataclass(frozen=True)
class Solution:
    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    stats: SolveStats
    metrics: PlanMetrics
