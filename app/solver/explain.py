"""Turning chosen pairs into a Solution that says why.

District office staff read these texts, so they are plain Chinese; the structured fields next to
them let integrators build their own wording. Unmet causes are computed by re-running the
eligibility filters one at a time for the demand, not inferred from the plan.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from app.solver.eligibility import Prepared, distance_km, filter_counts, pair_value, skill_score
from app.solver.metrics import plan_metrics
from app.solver.types import Assignment, PairExplanation, Solution, SolveStats, Unmet, UnmetCause


def _pair_text(overlap, open_demand, home, paired, km, load_after, cap, first, kept, served, pinned) -> str:
    parts = []
    if pinned:
        parts.append("已接受的安排，保持不变")
    if open_demand:
        parts.append("开放需求（无技能要求）")
    elif overlap:
        parts.append("持有 " + "、".join(overlap))
    if home:
        parts.append("本片区")
    elif paired:
        parts.append(f"结对片区 {km:.1f} km")
    else:
        parts.append(f"跨片 {km:.1f} km")
    parts.append(f"本期第 {load_after} 项任务（上限 {cap}）")
    if first:
        parts.append("本年度首次活动")
    if kept:
        parts.append("沿用上次方案")
    if served:
        parts.append("曾服务该社区")
    return "; ".join(parts)


_CAUSE_TEXT = {
    UnmetCause.NO_SKILL_HOLDER: "在册委员中具备所需技能（{skills}）的不足：{holders} 人，需 {need} 人",
    UnmetCause.CONFLICTED: "具备技能的 {holders} 名委员中 {conflicted} 名存在利益冲突或已婉拒，剩余不足 {need} 人",
    UnmetCause.CROSS_AREA_BLOCKED: "其余具备技能的委员中 {blocked} 名不接受跨片或超出其距离上限，剩余不足 {need} 人",
    UnmetCause.UNAVAILABLE: "其余具备技能的委员中 {unavailable} 名在该时段不可用（请假、每周可用时段或已有安排冲突），剩余不足 {need} 人",
    UnmetCause.AT_CAPACITY: "符合条件的 {at_capacity} 名委员本期任务已满、时间冲突或已安排到更高价值的需求",
}


def unmet_for(p: Prepared, j: int, assigned: int) -> Unmet:
    d = p.problem.demands[j]
    need = int(d.min_members - p.pinned_count[j])
    c = filter_counts(p, j)
    detail = {
        "needed": need,
        "holders": c["holders"],
        "conflicted": c["holders"] - c["not_conflicted"],
        "blocked": c["not_conflicted"] - c["cross_ok"],
        "unavailable": c["cross_ok"] - c["available"],
        "at_capacity": c["available"],
        "assigned": assigned,
    }
    if c["holders"] < need:
        cause = UnmetCause.NO_SKILL_HOLDER
    elif c["not_conflicted"] < need:
        cause = UnmetCause.CONFLICTED
    elif c["cross_ok"] < need:
        cause = UnmetCause.CROSS_AREA_BLOCKED
    elif c["available"] < need:
        cause = UnmetCause.UNAVAILABLE
    else:
        cause = UnmetCause.AT_CAPACITY
    skills = "、".join(sorted(d.required_skills)) or "无"
    text = f"已安排 {assigned}/{d.min_members} 人。" + _CAUSE_TEXT[cause].format(skills=skills, need=need, **detail)
    return Unmet(demand_id=d.id, assigned=assigned, min_members=d.min_members, cause=cause, detail=detail, text=text)


def assemble(p: Prepared, chosen: list[tuple[int, int]], stats: SolveStats) -> Solution:
    """Build the Solution from proposed (demand index, member index) pairs plus pinned pairs."""
    problem = p.problem
    w = problem.weights
    members, demands = problem.members, problem.demands
    pinned = [(int(j), int(i)) for j, i in zip(p.pin_d, p.pin_m, strict=True)]
    new_of: dict[int, list[int]] = defaultdict(list)
    for j, i in chosen:
        new_of[i].append(j)
    # order each member's new assignments by time: the earliest is their k=1 load tier
    tier_of: dict[tuple[int, int], int] = {}
    for i, js in new_of.items():
        for k, j in enumerate(sorted(js, key=lambda j: (p.d_start[j], j))):
            tier_of[(j, i)] = k
    load_after = {i: int(p.base_load[i]) + len(js) for i, js in new_of.items()}
    out: list[Assignment] = []
    for j, i, is_pinned in [(j, i, True) for j, i in pinned] + [(j, i, False) for j, i in chosen]:
        m, d = members[i], demands[j]
        overlap, score = skill_score(m, d)
        home = d.area == m.home_area
        paired = (not home) and d.area in m.paired_areas
        km = 0.0 if home else distance_km(p, i, j)
        kept = (d.id, m.id) in problem.previous
        served = d.community in m.served_communities
        first = False
        if is_pinned:
            terms: dict[str, float] = {}
        else:
            terms = pair_value(w, score, home, paired, km, kept, served)
            k = tier_of[(j, i)]
            first = bool(p.zero_activity[i]) and k == 0
            terms["balance"] = -w.balance_convex * (int(p.base_load[i]) + k)
            if first:
                terms["duty"] = w.duty
        la = load_after.get(i, int(p.base_load[i]))
        text = _pair_text(overlap, not d.required_skills, home, paired, km, la, m.cap, first, kept, served, is_pinned)
        expl = PairExplanation(
            skill_overlap=overlap,
            skill_score=round(float(score), 4),
            home_area=home,
            paired_area=paired,
            distance_km=round(km, 2),
            load_after=la,
            first_activity_this_year=first,
            kept_from_previous=kept,
            served_community_before=served,
            terms={k: round(float(v), 4) for k, v in terms.items()},
            text=text,
        )
        out.append(Assignment(demand_id=d.id, member_id=m.id, pinned=is_pinned, explanation=expl))
    out.sort(key=lambda a: (a.demand_id, a.member_id))
    count = np.bincount([j for j, _ in pinned] + [j for j, _ in chosen], minlength=p.D)
    unmet = tuple(unmet_for(p, j, int(count[j])) for j, d in enumerate(demands) if count[j] < d.min_members)
    return Solution(
        assignments=tuple(out),
        unmet=unmet,
        stats=stats,
        metrics=plan_metrics(problem, [(a.demand_id, a.member_id) for a in out]),
    )
