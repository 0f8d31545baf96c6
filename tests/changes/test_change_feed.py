"""GET /v1/changes: every change of the four tracked entities, once, in commit order."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.models import ChangeEvent, Demand, OptimizationRun
from tests.factories import new_assignment, new_demand, new_duty_record, new_run


def _feed(client, headers, after=None, limit=None):
    params = {k: v for k, v in {"after": after, "limit": limit}.items() if v is not None}
    r = client.get("/v1/changes", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _all(client, headers, limit=1000):
    items, cursor = [], "0"
    while True:
        page = _feed(client, headers, cursor, limit)
        if not page["items"]:
            assert page["next_cursor"] == cursor
            return items
        items += page["items"]
        assert page["next_cursor"] == page["items"][-1]["cursor"]
        cursor = page["next_cursor"]


def _touch_everything(db, world):
    """One of each change, in a known order; returns the ids."""
    jw, cw = world.areas["JW"], world.areas["CW"]
    with db.session() as s:
        d1 = new_demand(world.district_id, jw, world.communities["建外社区"], "法律咨询")
        d2 = new_demand(world.district_id, cw, world.communities["朝外社区"], "文艺队教学")
        s.add_all([d1, d2])
        s.commit()
        d1.priority = 5
        s.flush()
        d1.title = "法律咨询（业主纠纷）"  # two flushes, one transaction: one event, final state
        s.commit()
        run = new_run(world.district_id)
        s.add(run)
        s.commit()
        a = new_assignment(world.district_id, d1, world.members["张伟"], run.id)
        s.add(a)
        s.commit()
        run.status, a.status = "published", "published"
        s.commit()
        duty = new_duty_record(world.district_id, world.members["李娜"], cw)
        s.add(duty)
        s.commit()
        s.delete(duty)
        s.commit()
        return {"d1": d1.id, "d2": d2.id, "run": run.id, "a": a.id, "duty": duty.id}


def test_feed_lists_every_change_in_commit_order_with_state(client, world, db):
    ids = _touch_everything(db, world)
    items = _all(client, world.h("admin"))
    got = [(i["entity_type"], i["entity_id"], i["change_kind"]) for i in items]
    assert got == [
        ("demand", ids["d1"], "created"),
        ("demand", ids["d2"], "created"),
        ("demand", ids["d1"], "updated"),
        ("optimization_run", ids["run"], "created"),
        ("assignment", ids["a"], "created"),
        ("optimization_run", ids["run"], "published"),
        ("assignment", ids["a"], "updated"),
        ("duty_record", ids["duty"], "created"),
        ("duty_record", ids["duty"], "deleted"),
    ]
    cursors = [int(i["cursor"]) for i in items]
    assert cursors == sorted(set(cursors)) and [i["id"] for i in items] == cursors
    update_d1 = items[2]["state"]
    assert update_d1["title"] == "法律咨询（业主纠纷）" and update_d1["priority"] == 5 and update_d1["version"] == 3
    assert update_d1["starts_at"] == "2026-12-07T09:00:00+00:00"  # same JSON on both databases
    assert items[0]["state"]["version"] == 1 and items[0]["area_id"] == world.areas["JW"]
    assert items[3]["area_id"] is None and items[5]["state"]["status"] == "published"
    assert items[8]["state"]["title"] == "社区普法活动"  # a deleted row keeps its last state
    r = client.get("/v1/changes", headers=world.h("reader"))
    assert [i["id"] for i in r.json()["items"]] == cursors


def test_cursor_paging_never_repeats_and_empty_page_keeps_cursor(client, world, db):
    _touch_everything(db, world)
    everything = [i["id"] for i in _all(client, world.h("admin"))]
    assert [i["id"] for i in _all(client, world.h("admin"), limit=2)] == everything
    page = _feed(client, world.h("admin"), after=str(everything[3]), limit=3)
    assert [i["id"] for i in page["items"]] == everything[4:7] and page["next_cursor"] == str(everything[6])
    assert _feed(client, world.h("admin"), after=str(everything[-1])) == {
        "items": [],
        "next_cursor": str(everything[-1]),
    }
    assert _feed(client, world.h("admin"))["items"][0]["id"] == everything[0]  # no cursor = from the start
    with db.session() as s:  # later changes continue after the stored cursor
        s.add(new_demand(world.district_id, world.areas["LGY"], world.communities["清友园社区"]))
        s.commit()
    nxt = _feed(client, world.h("admin"), after=str(everything[-1]))
    assert [(i["entity_type"], i["change_kind"]) for i in nxt["items"]] == [("demand", "created")]
    assert int(nxt["next_cursor"]) > everything[-1]


def test_liaison_sees_only_its_area_and_other_district_nothing(client, world, db):
    ids = _touch_everything(db, world)
    jw = [(i["entity_type"], i["entity_id"], i["change_kind"]) for i in _all(client, world.h("liaison_jw"))]
    assert jw == [
        ("demand", ids["d1"], "created"),
        ("demand", ids["d1"], "updated"),
        ("assignment", ids["a"], "created"),
        ("assignment", ids["a"], "updated"),
    ]
    cw = [(i["entity_type"], i["entity_id"]) for i in _all(client, world.h("liaison_cw"))]
    assert cw == [("demand", ids["d2"]), ("duty_record", ids["duty"]), ("duty_record", ids["duty"])]
    assert _all(client, world.h("other_admin")) == []


def test_bad_cursor_and_limit_are_422_naming_the_field(client, world):
    h = world.h("reader")
    assert client.get("/v1/changes").status_code == 401
    for after in ("abc", "-1", "1.5"):
        r = client.get("/v1/changes", params={"after": after}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "after", r.text
    for limit in (0, 1001):
        r = client.get("/v1/changes", params={"limit": limit}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"
    assert client.get("/v1/changes", params={"limit": 1000}, headers=h).status_code == 200


def test_rolled_back_work_leaves_no_event_and_bulk_updates_are_recorded(db, world):
    jw, community = world.areas["JW"], world.communities["建外社区"]
    with db.session() as s:
        s.add(new_demand(world.district_id, jw, community))
        s.flush()
        s.rollback()  # flushed but never committed
        kept = new_demand(world.district_id, jw, community, "保留")
        s.add(kept)
        savepoint = s.begin_nested()
        s.add(new_demand(world.district_id, jw, community, "撤销"))
        s.flush()
        savepoint.rollback()
        s.commit()
        assert [(e.entity_id, e.change_kind) for e in s.scalars(select(ChangeEvent))] == [(kept.id, "created")]
        run = new_run(world.district_id)
        s.add(run)
        s.commit()
        s.execute(update(Demand).where(Demand.area_id == jw).values(status="closed"))
        s.execute(update(OptimizationRun).where(OptimizationRun.id == run.id).values(status="published"))
        s.commit()
        last = list(s.scalars(select(ChangeEvent).order_by(ChangeEvent.id)))[-2:]
        assert [(e.entity_type, e.change_kind, e.state["status"]) for e in last] == [
            ("demand", "updated", "closed"),
            ("optimization_run", "published", "published"),
        ]
        s.commit()  # a commit with nothing changed writes nothing
        assert s.scalar(select(func.count()).select_from(ChangeEvent)) == 4
