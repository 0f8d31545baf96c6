"""/v1/optimization-runs on both databases, with the in-process executor (a thread)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.models import Assignment, Demand, OptimizationRun, UnmetDemand
from app.models.base import utcnow
from app.services.runs.execute import fail_run, recover_stale_runs
from app.services.runs.executor import InProcessExecutor
from tests.factories import WEEK, WEEK_START, add_demand, add_demands_bulk, add_members, lost_run
from tests.support import app_for, stored_plan_violations, wait_db, wait_for

URL = "/v1/optimization-runs"


def _small_week(db, world) -> dict[str, int]:
    return {
        "law": add_demand(db, world, skills=("law",)),
        "finance": add_demand(db, world, community="朝外社区", skills=("finance",), day=1, priority=5),
        "venue": add_demand(db, world, community="清友园社区", skills=("venue",), day=2),
        "nobody": add_demand(
            db, world, community="清友园社区", skills=("teaching",), day=3, min_members=2, max_members=2
        ),
    }


def _start(client, world, **body) -> dict:
    r = client.post(URL, json={"week": WEEK, "time_limit_s": 5, **body}, headers=world.h("admin"))
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"{URL}/{r.json()['id']}"
    return r.json()


def test_run_lifecycle_stats_and_explanations(client, world, db):
    demands = _small_week(db, world)
    run = _start(client, world)
    assert run["status"] in ("queued", "running", "succeeded") and run["week"] == WEEK
    body = wait_for(client, world, run["id"])
    assert body["status"] == "succeeded", body
    assert body["solver_status"] in ("OPTIMAL", "FEASIBLE") and body["objective"] is not None
    assert body["gap"] is not None and body["best_bound"] >= body["objective"] - 1e-6
    assert body["counts"]["demands"] == 4 and body["counts"]["unmet"] == 1
    stats = body["stats"]
    for plan in ("optimized", "fixed_pairing", "greedy"):
        assert {
            "demands_covered",
            "weighted_coverage",
            "mean_skill_score",
            "cross_area_share",
            "mean_distance_km",
            "load_peak",
            "load_std",
            "zero_activity_members_served",
        } <= set(stats[plan])
    assert stats["partial"] is False and stats["optimized"]["demands_covered"] == 3
    assert stats["optimized"]["demands_covered"] >= stats["fixed_pairing"]["demands_covered"]
    assert stored_plan_violations(db, run["id"]) == []
    with db.session() as s:  # the run records its own members, for its report after the directory changes
        from app.models import OptimizationRun

        assert s.get(OptimizationRun, run["id"]).stats["plan"]["member_ids"] == sorted(world.members.values())

    rows = client.get(f"/v1/assignments?run_id={run['id']}", headers=world.h("admin")).json()["items"]
    assert {(a["demand_id"], a["status"]) for a in rows} == {
        (demands["law"], "proposed"),
        (demands["finance"], "proposed"),
        (demands["venue"], "proposed"),
    }
    law = next(a for a in rows if a["demand_id"] == demands["law"])
    assert law["explanation"]["skill_overlap"] == ["law"] and law["explanation"]["home_area"] is True
    assert "持有 法律咨询" in law["explanation_text"] and "本年度首次活动" in law["explanation_text"]

    unmet = client.get(f"{URL}/{run['id']}/unmet", headers=world.h("reader")).json()["items"]
    assert [(u["demand_id"], u["cause"]) for u in unmet] == [(demands["nobody"], "no_skill_holder")]
    assert "教学" in unmet[0]["text"] and unmet[0]["area"] == "LGY"
    assert client.get(f"{URL}/{run['id']}/unmet", headers=world.h("liaison_jw")).json()["items"] == []

    listed = client.get(f"{URL}?status=succeeded&week={WEEK}", headers=world.h("reader")).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert client.get(f"{URL}?status=queued", headers=world.h("reader")).json()["items"] == []
    assert client.get(f"{URL}/{run['id']}", headers=world.h("other_admin")).status_code == 404


def test_deterministic_and_seed_are_recorded_on_the_run(client, world, db):
    _small_week(db, world)
    default = wait_for(client, world, _start(client, world, time_limit_s=1)["id"])
    assert (default["deterministic"], default["seed"]) == (True, 0)  # API runs are reproducible by default
    assert default["stats"]["solver_options"]["deterministic"] is True
    r = client.post(
        URL, json={"week": WEEK, "time_limit_s": 1, "deterministic": False, "seed": 42}, headers=world.h("admin")
    )
    body = wait_for(client, world, r.json()["id"])
    assert (body["deterministic"], body["seed"]) == (False, 42)
    assert body["stats"]["solver_options"] == {
        "deterministic": False,
        "seed": 42,
        "num_workers": 2,
        "time_limit_s": 1.0,
    }


def test_idempotency_key_replays_the_accepted_run(client, world, db):
    h = {**world.h("admin"), "Idempotency-Key": "weekly-2026"}
    first = client.post(URL, json={"week": WEEK, "time_limit_s": 1}, headers=h)
    again = client.post(URL, json={"week": WEEK, "time_limit_s": 1}, headers=h)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers.get("Idempotent-Replayed") == "true"
    wait_for(client, world, first.json()["id"])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OptimizationRun)) == 1


def test_list_pagination_and_filters(client, world, db):
    with db.session() as s:
        for k in range(3):
            start = WEEK_START + timedelta(days=7 * k)
            s.add(
                OptimizationRun(
                    district_id=world.district_id,
                    window_start=start,
                    window_end=start + timedelta(days=6),
                    status="failed",
                    time_limit_s=5,
                )
            )
        s.commit()
    seen, cursor = [], None
    while True:
        page = client.get(f"{URL}?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=world.h("reader")).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3 and seen == sorted(seen)
    assert client.get(f"{URL}?status=bogus", headers=world.h("reader")).status_code == 422
    r = client.get(f"{URL}?week=2026-W99", headers=world.h("reader"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "week"


def test_second_active_run_for_the_window_is_409(client, world, db):
    with db.session() as s:
        s.add(
            OptimizationRun(
                district_id=world.district_id,
                window_start=WEEK_START,
                window_end=WEEK_START + timedelta(days=6),
                status="running",
                time_limit_s=5,
                heartbeat_at=utcnow(),
            )
        )
        s.commit()
    r = client.post(URL, json={"week": WEEK}, headers=world.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "run_already_active"
    # another window is fine
    other = (WEEK_START + timedelta(days=7)).isocalendar()
    r = client.post(URL, json={"week": f"{other.year}-W{other.week:02d}", "time_limit_s": 1}, headers=world.h("admin"))
    assert r.status_code == 202
    wait_for(client, world, r.json()["id"])


def test_partial_unique_index_rejects_a_second_active_row(db, world):
    def insert(status: str) -> None:
        with db.session() as s:
            s.add(
                OptimizationRun(
                    district_id=world.district_id,
                    window_start=WEEK_START,
                    window_end=WEEK_START + timedelta(days=6),
                    status=status,
                    time_limit_s=5,
                )
            )
            s.commit()

    insert("succeeded")
    insert("failed")
    insert("queued")
    with pytest.raises(IntegrityError):
        insert("running")
    with pytest.raises(IntegrityError):
        insert("queued")


INVALID = [
    ({"week": "2026-W60"}, "week"),
    ({"week": "next week"}, "week"),
    ({}, "week"),
    ({"week": WEEK, "window_start": "2026-11-30"}, "week"),
    ({"window_start": "2026-12-06", "window_end": "2026-11-30"}, "window_end"),
    ({"window_start": "2026-11-30"}, "window_end"),
    ({"week": WEEK, "scope": ["JW", "NOPE"]}, "scope"),
    ({"week": WEEK, "time_limit_s": 0}, "time_limit_s"),
    ({"week": WEEK, "time_limit_s": 301}, "time_limit_s"),
    ({"week": WEEK, "mode": "partial"}, "mode"),
    ({"week": WEEK, "weights": {"gravity": 1}}, "weights.gravity"),
    ({"week": WEEK, "weights": {"distance": -1}}, "weights.distance"),
    ({"week": WEEK, "seed": -1}, "seed"),
    ({"week": WEEK, "deterministic": "sometimes"}, "deterministic"),
]


def test_validation_errors_name_the_field(client, world, db):
    for body, field in INVALID:
        r = client.post(URL, json=body, headers=world.h("admin"))
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OptimizationRun)) == 0


def test_auth(client, world, db):
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            status="succeeded",
            time_limit_s=5,
        )
        s.add(run)
        s.commit()
    assert client.post(URL, json={"week": WEEK}).status_code == 401
    for role in ("reader", "liaison_jw"):
        assert client.post(URL, json={"week": WEEK}, headers=world.h(role)).status_code == 403
        assert client.post(f"{URL}/{run.id}/cancel", headers=world.h(role)).status_code == 403
        assert client.post(f"{URL}/{run.id}/publish", headers=world.h(role)).status_code == 403
        assert client.get(f"{URL}/{run.id}", headers=world.h(role)).status_code == 200
    assert client.post(f"{URL}/{run.id}/publish", headers=world.h("other_admin")).status_code == 404
    r = client.post(f"{URL}/{run.id}/cancel", headers=world.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "run_not_active"


def test_cancel_stops_a_long_solve_and_keeps_its_best_plan(client, world, db):
    # Scarce members, overlapping multi-seat demands: a packing problem no solver proves fast.
    add_members(db, world, 200)
    add_demands_bulk(db, world, 300, days=2, seats=(2, 3))
    run = _start(client, world, time_limit_s=120)
    body = wait_for(client, world, run["id"], statuses=("running", "succeeded", "failed", "cancelled"))
    assert body["status"] == "running", body
    deadline = time.monotonic() + 30
    while body["progress"] is None and body["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)  # the watcher publishes the solver's best objective and bound while it runs
        body = client.get(f"{URL}/{run['id']}", headers=world.h("reader")).json()
    assert body["status"] == "running" and body["progress"]["objective"] is not None, body
    assert isinstance(body["progress"]["best_bound"], float) and body["progress"]["solutions"] >= 1
    r = client.post(f"{URL}/{run['id']}/cancel", headers=world.h("admin"))
    assert r.status_code == 202 and r.json()["cancel_requested"] is True
    body = wait_for(client, world, run["id"], timeout=30)
    assert body["status"] == "cancelled" and body["solver_status"] == "CANCELLED", body
    assert body["stats"]["partial"] is True and body["counts"]["proposals"] > 0
    with db.session() as s:
        stored = s.scalar(select(func.count()).select_from(Assignment).where(Assignment.run_id == run["id"]))
    assert stored == body["counts"]["proposals"]
    assert stored_plan_violations(db, run["id"]) == []
    # a cancelled run that kept its plan can still be published
    r = client.post(f"{URL}/{run['id']}/publish", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["published"] == stored


def test_cancel_a_queued_run(client, world, db):
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            status="queued",
            time_limit_s=5,
        )
        s.add(run)
        s.commit()
    r = client.post(f"{URL}/{run.id}/cancel", headers=world.h("admin"))
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    r = client.post(f"{URL}/{run.id}/publish", headers=world.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "run_not_publishable"


def _statuses(db, demand_id: int) -> dict[tuple[int | None, int], str]:
    with db.session() as s:
        return {
            (a.run_id, a.member_id): a.status
            for a in s.scalars(select(Assignment).where(Assignment.demand_id == demand_id))
        }


def test_publish_supersedes_previous_plan_and_leaves_accepted_alone(client, world, db):
    demands = _small_week(db, world)
    two = add_demand(db, world, community="光华里社区", skills=(), day=4, min_members=2, max_members=2)
    first = wait_for(client, world, _start(client, world)["id"])
    r = client.post(f"{URL}/{first['id']}/publish", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["run"]["status"] == "published" and r.json()["published"] == first["counts"]["proposals"]
    with db.session() as s:
        assert s.get(Demand, demands["law"]).status == "assigned"
        assert s.get(Demand, demands["nobody"]).status == "open"
        pair = s.execute(
            select(Assignment.id, Assignment.member_id).where(
                Assignment.run_id == first["id"], Assignment.demand_id == two
            )
        ).all()
    assert len(pair) == 2
    accepted_id, accepted_member = pair[0]
    with db.session() as s:  # a member accepts one of the two seats
        s.get(Assignment, accepted_id).status = "accepted"
        s.commit()

    second = wait_for(client, world, _start(client, world)["id"])
    assert stored_plan_violations(db, second["id"]) == []
    r = client.post(f"{URL}/{second['id']}/publish", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    by_run = _statuses(db, two)
    assert by_run[(first["id"], accepted_member)] == "accepted"  # never touched
    assert [v for (run_id, _), v in by_run.items() if run_id == first["id"]].count("superseded") == 1
    assert [v for (run_id, _), v in by_run.items() if run_id == second["id"]] == ["published"]
    law = _statuses(db, demands["law"])
    assert sorted(law.values()) == ["published", "superseded"]
    # publishing the same run again changes nothing
    again = client.post(f"{URL}/{second['id']}/publish", headers=world.h("admin"))
    assert again.status_code == 200 and _statuses(db, two) == by_run


def test_publishing_an_older_run_over_a_newer_one_is_refused(client, world, db):
    _small_week(db, world)
    older = wait_for(client, world, _start(client, world)["id"])
    newer = wait_for(client, world, _start(client, world)["id"])
    assert client.post(f"{URL}/{newer['id']}/publish", headers=world.h("admin")).status_code == 200
    r = client.post(f"{URL}/{older['id']}/publish", headers=world.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "newer_run_published"
    with db.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(Assignment.run_id == older["id"], Assignment.status != "proposed")
            )
            == 0
        )


def test_repair_run_replaces_only_what_was_declined(client, world, db):
    demands = _small_week(db, world)
    spare = add_demand(db, world, community="建外社区", skills=("law", "finance"), day=5)
    first = wait_for(client, world, _start(client, world)["id"])
    assert client.post(f"{URL}/{first['id']}/publish", headers=world.h("admin")).status_code == 200
    with db.session() as s:
        rows = {a.demand_id: a for a in s.scalars(select(Assignment).where(Assignment.run_id == first["id"]))}
        declined = rows[spare]
        declined.status, declined.decline_reason = "declined", "出差"
        s.get(Demand, spare).status = "open"
        s.commit()
        declined_member = declined.member_id
    repair = wait_for(client, world, _start(client, world, mode="repair")["id"])
    assert repair["status"] == "succeeded" and repair["counts"]["demands"] == 2  # spare + the unmet one
    assert stored_plan_violations(db, repair["id"]) == []
    r = client.post(f"{URL}/{repair['id']}/publish", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["superseded"] == 0
    after = _statuses(db, spare)
    assert after[(first["id"], declined_member)] == "declined"
    new = [(m, v) for (run_id, m), v in after.items() if run_id == repair["id"]]
    assert new and all(v == "published" and m != declined_member for m, v in new)
    for key in ("law", "finance", "venue"):  # everything else kept exactly
        assert set(_statuses(db, demands[key]).values()) == {"published"}


def test_recovery_requeues_then_fails_stale_running_runs(world, db, settings):
    # No API process (its recovery pass every 3 s would race the one called here).
    _small_week(db, world)
    with db.session() as s:
        once = lost_run(world.district_id, WEEK_START, attempts=1, minutes_ago=5)
        twice = lost_run(world.district_id, WEEK_START + timedelta(days=7), attempts=2, minutes_ago=5)
        alive = lost_run(world.district_id, WEEK_START + timedelta(days=14), attempts=1, minutes_ago=0)
        alive.heartbeat_at = utcnow() + timedelta(minutes=5)  # alive for the whole test, however slow
        s.add_all([once, twice, alive])
        s.commit()
    actions = dict(recover_stale_runs(db.url, InProcessExecutor(db.url).enqueue))
    assert actions == {once.id: "requeued", twice.id: "failed"}
    assert wait_db(db, once.id) == "succeeded"
    with db.session() as s:
        assert s.get(OptimizationRun, once.id).attempts == 2
        failed = s.get(OptimizationRun, twice.id)
        assert failed.status == "failed" and "worker lost" in failed.error
        assert s.get(OptimizationRun, alive.id).status == "running"
    assert stored_plan_violations(db, once.id) == []
    # with nobody to hand a requeued run to, a stale run is failed outright
    with db.session() as s:
        s.get(OptimizationRun, alive.id).heartbeat_at = utcnow() - timedelta(minutes=5)
        s.commit()
    assert recover_stale_runs(db.url, None) == [(alive.id, "failed")]


def test_fail_run_ends_unfinished_runs_and_respects_the_owning_attempt(world, db):
    def stored(week: int, status: str, attempts: int) -> int:
        start = WEEK_START + timedelta(days=7 * week)
        with db.session() as s:
            run = OptimizationRun(
                district_id=world.district_id,
                window_start=start,
                window_end=start + timedelta(days=6),
                status=status,
                attempts=attempts,
                time_limit_s=2,
            )
            s.add(run)
            s.commit()
            return run.id

    queued, running, done = stored(0, "queued", 0), stored(1, "running", 2), stored(2, "succeeded", 1)
    fail_run(db.url, queued, "interrupted (matcher optimize stopped)")  # no attempt: any unfinished run
    fail_run(db.url, running, "solver error", attempt=1)  # attempt 1 lost it to attempt 2: not its run
    fail_run(db.url, done, "too late")  # a finished run keeps its outcome
    with db.session() as s:
        q, r, d = (s.get(OptimizationRun, i) for i in (queued, running, done))
        assert (q.status, q.error) == ("failed", "interrupted (matcher optimize stopped)")
        assert q.finished_at is not None
        assert (r.status, r.error) == ("running", None)
        assert (d.status, d.error) == ("succeeded", None)
    fail_run(db.url, running, "solver error", attempt=2)
    with db.session() as s:
        r = s.get(OptimizationRun, running)
        assert (r.status, r.error) == ("failed", "solver error")


def test_unmet_rows_are_replaced_not_duplicated_on_retry(client, world, db):
    _small_week(db, world)
    run = wait_for(client, world, _start(client, world)["id"])
    from app.services.runs.execute import execute_run

    with db.session() as s:  # simulate a lost attempt being retried on the same run
        r = s.get(OptimizationRun, run["id"])
        r.status = "queued"
        s.commit()
    assert execute_run(db.url, run["id"]) == "succeeded"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UnmetDemand).where(UnmetDemand.run_id == run["id"])) == 1
        assert (
            s.scalar(select(func.count()).select_from(Assignment).where(Assignment.run_id == run["id"]))
            == run["counts"]["proposals"]
        )


def test_app_start_recovers_runs_a_dead_process_left_behind(world, db, settings):
    from fastapi.testclient import TestClient

    _small_week(db, world)
    stale = utcnow() - timedelta(minutes=5)
    nxt = WEEK_START + timedelta(days=7)
    with db.session() as s:
        lost = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            status="running",
            attempts=1,
            time_limit_s=2,
            started_at=stale,
            heartbeat_at=stale,
        )
        orphan = OptimizationRun(
            district_id=world.district_id,
            window_start=nxt,
            window_end=nxt + timedelta(days=6),
            status="queued",
            time_limit_s=1,
        )
        s.add_all([lost, orphan])
        s.commit()
    with TestClient(app_for(settings)):
        assert wait_db(db, lost.id) == "succeeded"
        assert wait_db(db, orphan.id) == "succeeded"
    with db.session() as s:
        assert s.get(OptimizationRun, lost.id).attempts == 2
