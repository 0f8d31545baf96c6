"""Read responses load what they show with a fixed number of queries, and the fast
serialization paths answer exactly what the response models would."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.api.schemas.changes import ChangeOut, ChangePage
from app.db import get_engine
from app.models import Demand, Member, Skill
from app.services.changes import read_changes
from app.services.identity import Caller
from tests.factories import add_assigned_demand, add_explained_assignment, add_run


@contextmanager
def counted(url: str):
    """Counts the SQL statements the app runs on ``url``'s engine inside the block."""
    statements: list[str] = []

    def _count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _decorate(db, world, demand_id: int) -> None:
    """Give a demand skills and excluded members: collections the lists must not load per row."""
    with db.session() as s:
        d = s.get(Demand, demand_id)
        d.required_skills = [s.get(Skill, world.skills["law"]), s.get(Skill, world.skills["finance"])]
        d.excluded_members = [s.get(Member, world.members["李娜"]), s.get(Member, world.members["王强"])]
        s.commit()


def _list_statements(client, url: str, path: str, headers: dict) -> tuple[int, dict]:
    client.get(path, headers=headers)  # warm: key lookups, first-use caches
    with counted(url) as statements:
        resp = client.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return len(statements), resp.json()


def test_list_queries_do_not_grow_with_rows(client, world, db, settings):
    run = add_run(db, world)
    h = world.h("reader")
    counts = []
    for rows in (2, 8):
        while True:
            d = add_assigned_demand(db, world, max_members=3)
            _decorate(db, world, d)
            add_explained_assignment(db, world, d, "张伟", run_id=run)
            n_assignments, body = _list_statements(client, settings.database_url, "/v1/assignments?limit=100", h)
            if len(body["items"]) >= rows:
                break
        n_demands, demands = _list_statements(client, settings.database_url, "/v1/demands?limit=100", h)
        assert {s["code"] for s in demands["items"][0]["required_skills"]} == {"law", "finance"}
        assert demands["items"][0]["excluded_member_ids"] == sorted([world.members["李娜"], world.members["王强"]])
        assert body["items"][0]["member_name"] == "张伟" and body["items"][0]["community_name"] == "建外社区"
        counts.append((n_assignments, n_demands))
    assert counts[0] == counts[1], counts  # no per-row lazy loads
    # the key, then the page; a demands page reads its skills and exclusions in one more
    assert counts[1][0] <= 2 and counts[1][1] <= 3, counts


def test_single_reads_show_the_whole_demand(client, world, db):
    d = add_assigned_demand(db, world)
    _decorate(db, world, d)
    body = client.get(f"/v1/demands/{d}", headers=world.h("reader")).json()
    assert [s["code"] for s in body["required_skills"]] == ["law", "finance"]
    assert body["excluded_member_ids"] == sorted([world.members["李娜"], world.members["王强"]])
    assert body["community_name"] == "建外社区" and body["area"] == "JW" and body["area_name"] == "建外街道"


def test_change_feed_fast_path_matches_the_response_model(client, world, db):
    run = add_run(db, world)
    d = add_assigned_demand(db, world)
    add_explained_assignment(db, world, d, "张伟", run_id=run)
    with db.session() as s:  # a change with Chinese text, nulls and nested JSON in its state
        s.get(Demand, d).description = '居民反映 "楼道" 照明\\n不足'
        s.commit()
    resp = client.get("/v1/changes?limit=1000", headers=world.h("reader"))
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    caller = Caller(api_key_id=0, name="t", role="reader", district_id=world.district_id)
    with db.session() as s:
        page = read_changes(s, caller, after=None, limit=1000)
        expected = ChangePage(items=[ChangeOut.of(e) for e in page.items], next_cursor=page.next_cursor)
    assert len(expected.items) >= 3
    assert resp.json() == expected.model_dump(mode="json")


def test_a_revoked_key_fails_at_once_despite_the_key_cache(client, world, db):
    from sqlalchemy import update

    from app.models import ApiKey
    from app.services.api_keys import hash_key

    h = world.h("reader")
    assert client.get("/v1/demands", headers=h).status_code == 200  # now cached
    with db.session() as s:
        key = s.query(ApiKey).filter_by(key_hash=hash_key(world.keys["reader"])).one()
        key.active = False
        s.commit()
    assert client.get("/v1/demands", headers=h).status_code == 401
    h2 = world.h("admin")
    assert client.get("/v1/demands", headers=h2).status_code == 200
    with db.session() as s:  # a bulk UPDATE bypasses the flush: also noticed
        s.execute(update(ApiKey).where(ApiKey.key_hash == hash_key(world.keys["admin"])).values(active=False))
        s.commit()
    assert client.get("/v1/demands", headers=h2).status_code == 401


def test_demand_documents_match_the_response_model_built_from_the_object(client, world, db):
    from app.api.schemas.demands import DemandOut
    from app.services.demand_documents import demand_document

    decorated = add_assigned_demand(db, world, community="清友园社区")
    _decorate(db, world, decorated)
    plain = add_assigned_demand(db, world, title="无技能的需求")  # no skills, no exclusions
    with db.session() as s:
        s.get(Demand, plain).description = '楼道 "照明" 不足'
        s.commit()
    reader = Caller(api_key_id=0, name="t", role="reader", district_id=world.district_id)
    for demand_id in (decorated, plain):
        with db.session() as s:
            from_object = DemandOut.model_validate(s.get(Demand, demand_id)).model_dump(mode="json")
            document = DemandOut.model_validate(demand_document(s, reader, demand_id=demand_id))
        assert document.model_dump(mode="json") == from_object
        listed = client.get("/v1/demands?limit=100", headers=world.h("reader")).json()["items"]
        assert [d for d in listed if d["id"] == demand_id] == [from_object]
        single = client.get(f"/v1/demands/{demand_id}", headers=world.h("reader"))
        assert single.json() == from_object and single.headers["etag"] == f'"v{from_object["version"]}"'


def test_a_demand_outside_the_callers_scope_is_missing_not_forbidden(client, world, db):
    jw = add_assigned_demand(db, world)  # 建外社区, area JW
    assert client.get(f"/v1/demands/{jw}", headers=world.h("liaison_jw")).status_code == 200
    other_area = client.get(f"/v1/demands/{jw}", headers=world.h("liaison_cw"))
    other_district = client.get(f"/v1/demands/{jw}", headers=world.h("other_admin"))
    assert other_area.status_code == other_district.status_code == 404
    assert other_area.headers["content-type"].startswith("application/problem+json")
    listed = client.get("/v1/demands?limit=100", headers=world.h("liaison_cw")).json()["items"]
    assert jw not in [d["id"] for d in listed]


def _assignment_documents_by_id(db, caller: Caller) -> dict[int, dict]:
    """Every listed assignment twice: from rows (the list's path) and from the ORM objects."""
    from app.api.schemas.assignments import AssignmentOut
    from app.models import Assignment
    from app.services.assignments import AssignmentFilter, document, list_assignment_documents

    with db.session() as s:
        page = list_assignment_documents(s, caller, where=AssignmentFilter(statuses=["published", "completed"]))
        from_rows = {d["id"]: AssignmentOut.of(d).model_dump(mode="json") for d in page.items}
        from_objects = {
            i: AssignmentOut.of(document(s, caller, assignment=s.get_one(Assignment, i))).model_dump(mode="json")
            for i in from_rows
        }
    assert from_rows == from_objects
    return from_rows


def test_assignment_documents_match_the_objects_they_are_read_from(db, world):
    from app.models import Assignment
    from tests.factories import add_assignment, new_duty_record

    run = add_run(db, world)
    explained = add_explained_assignment(db, world, add_assigned_demand(db, world), "张伟", run_id=run)
    bare = add_assignment(db, world, add_assigned_demand(db, world, community="清友园社区"), "李娜")
    odd = add_assignment(db, world, add_assigned_demand(db, world), "王强", explanation={"skill_score": "高"})
    done = add_assignment(db, world, add_assigned_demand(db, world), "张伟", status="completed")
    with db.session() as s:
        record = new_duty_record(world.district_id, world.members["张伟"], world.areas["JW"])
        record.assignment_id = done
        s.add(record)
        s.get_one(Assignment, bare).decline_reason = '"时间" 冲突'
        s.commit()
        record_id = record.id
    admin = Caller(api_key_id=0, name="t", role="admin", district_id=world.district_id)
    reader = Caller(api_key_id=0, name="t", role="reader", district_id=world.district_id)
    by_admin, by_reader = _assignment_documents_by_id(db, admin), _assignment_documents_by_id(db, reader)
    assert set(by_admin) == {explained, bare, odd, done}
    assert by_admin[explained]["explanation_text"] and by_admin[explained]["explanation"]["skill_score"] == 1.0
    assert by_admin[odd]["explanation"] == {"skill_score": "高"}  # an unexpected shape passes through
    assert by_admin[done]["duty_record_id"] == record_id and by_admin[done]["completed_on"] == "2026-12-07"
    assert by_admin[bare]["duty_record_id"] is None and by_admin[bare]["community_name"] == "清友园社区"
    assert by_admin[bare]["member_phone"] is not None and by_reader[bare]["member_phone"] is None


def test_a_single_assignment_reads_as_its_list_entry_with_its_etag(client, world, db):
    run = add_run(db, world)
    a = add_explained_assignment(db, world, add_assigned_demand(db, world), "张伟", run_id=run)
    listed = client.get("/v1/assignments?limit=100", headers=world.h("admin")).json()["items"]
    single = client.get(f"/v1/assignments/{a}", headers=world.h("admin"))
    assert single.status_code == 200 and [single.json()] == [x for x in listed if x["id"] == a]
    assert single.headers["etag"] == f'"v{single.json()["version"]}"'
    assert client.get(f"/v1/assignments/{a}", headers=world.h("liaison_cw")).status_code == 404  # JW's
    assert client.get(f"/v1/assignments/{a}", headers=world.h("other_admin")).status_code == 404
    assert client.get(f"/v1/assignments/{a}", headers=world.h("reader")).json()["member_phone"] is None


def test_member_documents_match_the_response_model_built_from_the_object(client, world, db):
    from app.api.schemas.members import MemberOut

    with db.session() as s:  # one member with everything optional set, so every column is compared
        m = s.get_one(Member, world.members["李娜"])
        m.blackout_dates, m.weekly_slots = ["2026-12-08"], [{"weekday": 1, "start": "09:00", "end": "12:00"}]
        m.email, m.max_distance_km = "lina@example.org", 4.5
        s.commit()
    for role, phones in (("admin", True), ("reader", False)):
        listed = {d["id"]: d for d in client.get("/v1/members?limit=100", headers=world.h(role)).json()["items"]}
        with db.session() as s:
            expected = {
                i: MemberOut.model_validate(s.get_one(Member, i)).for_caller(phones).model_dump(mode="json")
                for i in world.members.values()
            }
        assert listed == expected
        single = client.get(f"/v1/members/{world.members['李娜']}", headers=world.h(role))
        assert single.json() == expected[world.members["李娜"]]
        assert single.headers["etag"] == f'"v{single.json()["version"]}"'
    assert listed[world.members["李娜"]]["email"] is None and expected[world.members["李娜"]]["skills"]
    assert client.get(f"/v1/members/{world.members['李娜']}", headers=world.h("other_admin")).status_code == 404


def test_a_stored_explanation_is_parsed_once_and_shared_read_only():
    from pydantic import ValidationError

    from app.api.schemas.assignments import _parsed_explanation

    text = '{"skill_score": 0.5, "home_area": true, "terms": {"quality": 5.0}, "custom_term": 1}'
    first, again = _parsed_explanation(text), _parsed_explanation(text)
    assert first is again and first is not None
    assert first.skill_score == 0.5 and first.model_extra == {"custom_term": 1}
    with pytest.raises(ValidationError):
        first.skill_score = 0.9  # shared between responses, so never changed in place
    misses = _parsed_explanation.cache_info().misses
    with pytest.raises(ValidationError):
        _parsed_explanation('{"skill_score": "高"}')
    with pytest.raises(ValidationError):
        _parsed_explanation('{"skill_score": "高"}')  # a shape that does not fit is not kept
    assert _parsed_explanation.cache_info().misses == misses + 2


@pytest.mark.parametrize(
    ("stored", "utc"),
    [
        ("2026-11-30 08:15:42.123456", "2026-11-30T08:15:42.123456+00:00"),
        ("2026-11-30 08:15:42", "2026-11-30T08:15:42+00:00"),
        ("2026-11-30T16:15:42+08:00", "2026-11-30T08:15:42+00:00"),  # text with its own offset
    ],
)
def test_stored_utc_text_reads_as_aware_utc(stored, utc):
    from app.services.pagination import _utc_from_text

    value = _utc_from_text(stored)
    assert value is not None and value.isoformat() == utc and value.utcoffset() is not None


def _walk(fetch, limit: int) -> list[list[int]]:
    """Every page of a list, as the ids of each page, by following its cursors."""
    pages, cursor = [], None
    while True:
        page = fetch(cursor, limit)
        pages.append([item["id"] if isinstance(item, dict) else item.id for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_unfiltered_lists_built_once_per_caller_page_as_the_object_path(db, world):
    # The pre-built statements (``UnfilteredPages``) are kept per caller: after an admin's walk, a
    # liaison's and another district's walks still see only their own scope, page by page.
    from app.services import assignments, demands, members

    for community in ("清友园社区", "建外社区", "清友园社区"):
        add_assigned_demand(db, world, community=community)
    callers = [
        Caller(api_key_id=0, name="t", role="admin", district_id=world.district_id),
        Caller(api_key_id=0, name="t", role="liaison", district_id=world.district_id, area_id=world.areas["JW"]),
        Caller(api_key_id=0, name="t", role="admin", district_id=world.other_district_id),
    ]
    lists = [
        (demands.list_demand_documents, demands.list_demands, demands.DemandFilter()),
        (members.list_member_documents, members.list_members, members.MemberFilter()),
        (assignments.list_assignment_documents, assignments.list_assignments, assignments.AssignmentFilter()),
    ]
    with db.session() as s:
        for documents, objects, where in lists:
            for caller in callers:
                for limit in (1, 2, 50):
                    fast = _walk(lambda c, n: documents(s, caller, where=where, cursor=c, limit=n), limit)  # noqa: B023
                    slow = _walk(lambda c, n: objects(s, caller, where=where, cursor=c, limit=n), limit)  # noqa: B023
                    assert fast == slow, (documents.__name__, caller.role, caller.district_id, limit)
