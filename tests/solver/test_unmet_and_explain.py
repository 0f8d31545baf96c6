"""Unmet causes (one test per cause) and the explanation of each assignment."""

from __future__ import annotations

from app.solver import UnmetCause, solve

from .conftest import at, demand, member, problem


def _unmet(prob, demand_id):
    sol = solve(prob)
    return next(u for u in sol.unmet if u.demand_id == demand_id)


def test_cause_no_skill_holder():
    u = _unmet(problem([member(1, skills={"music": 1.0})], [demand(10, skills=("law",))]), 10)
    assert u.cause is UnmetCause.NO_SKILL_HOLDER
    assert u.detail["holders"] == 0
    assert "law" in u.text


def test_inactive_holders_do_not_count_as_holders():
    u = _unmet(problem([member(1, active=False)], [demand(10)]), 10)
    assert u.cause is UnmetCause.NO_SKILL_HOLDER


def test_cause_conflicted_or_declined():
    prob = problem(
        [member(1), member(2)], [demand(10, excluded_members=frozenset({1}))], forbidden=frozenset({(10, 2)})
    )
    u = _unmet(prob, 10)
    assert u.cause is UnmetCause.CONFLICTED
    assert u.detail["holders"] == 2 and u.detail["conflicted"] == 2


def test_cause_cross_area_blocked():
    prob = problem(
        [member(1, home="B", accepts_cross_area=False), member(2, home="A", max_distance_km=3.0)],
        [demand(10, area="C")],
    )
    u = _unmet(prob, 10)
    assert u.cause is UnmetCause.CROSS_AREA_BLOCKED
    assert u.detail["blocked"] == 2


def test_cause_unavailable():
    prob = problem(
        [member(1, blackout_dates=frozenset({at(0, 0).date()})), member(2, busy=((at(0, 9), at(0, 11)),), cap=3)],
        [demand(10, day=0, hour=10)],
    )
    u = _unmet(prob, 10)
    assert u.cause is UnmetCause.UNAVAILABLE
    assert u.detail["unavailable"] == 2


def test_cause_at_capacity():
    # one holder, two simultaneous demands: the higher priority one wins
    prob = problem([member(1, cap=1)], [demand(10, priority=5, day=0), demand(11, priority=1, day=1)])
    sol = solve(prob)
    assert {(a.demand_id, a.member_id) for a in sol.assignments} == {(10, 1)}
    u = next(u for u in sol.unmet if u.demand_id == 11)
    assert u.cause is UnmetCause.AT_CAPACITY
    assert u.detail["at_capacity"] == 1


def test_cause_counts_seats_not_just_emptiness():
    # two members hold the skill, one is in conflict: not enough for min_members = 2
    prob = problem([member(1), member(2)], [demand(10, min_members=2, max_members=2, excluded_members=frozenset({2}))])
    u = _unmet(prob, 10)
    assert u.cause is UnmetCause.CONFLICTED
    assert u.assigned == 0  # nobody is sent to a demand that stays below min_members


def test_explanation_fields_and_text():
    prob = problem(
        [member(1, home="B", skills={"law": 0.8}, activities_this_year=0, served_communities=frozenset({7}))],
        [demand(10, area="A", community=7)],
        previous=frozenset({(10, 1)}),
    )
    sol = solve(prob)
    (a,) = sol.assignments
    e = a.explanation
    assert e.skill_overlap == ("law",)
    assert abs(e.skill_score - 0.8) < 1e-9
    assert not e.home_area and not e.paired_area
    assert 2.0 < e.distance_km < 2.5
    assert e.load_after == 1
    assert e.first_activity_this_year and e.kept_from_previous and e.served_community_before
    for term in ("quality", "distance", "duty", "stability", "continuity", "balance"):
        assert term in e.terms
    assert e.terms["distance"] < 0 < e.terms["quality"]
    for phrase in ("持有 law", "跨片 2.2 km", "本年度首次活动", "沿用上次方案", "曾服务该社区"):
        assert phrase in e.text


def test_explanation_home_and_paired_and_pinned():
    prob = problem(
        [member(1, home="A", cap=3), member(2, home="B", paired_areas=frozenset({"A"}))],
        [demand(10, area="A", min_members=2, max_members=2), demand(11, area="A", day=1)],
        pinned=frozenset({(11, 1)}),
    )
    sol = solve(prob)
    by = {(a.demand_id, a.member_id): a.explanation for a in sol.assignments}
    assert by[(10, 1)].home_area and "本片区" in by[(10, 1)].text
    assert by[(10, 2)].paired_area and "结对片区" in by[(10, 2)].text
    assert "已接受" in by[(11, 1)].text and by[(11, 1)].terms == {}


def test_unmet_text_is_chinese_and_mentions_counts():
    u = _unmet(problem([member(1, skills={"music": 1.0})], [demand(10, skills=("law",))]), 10)
    assert u.text.startswith("已安排 0/1 人")
