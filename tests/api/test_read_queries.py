"""Read responses load what they show with a fixed number of queries, and the fast
serialization paths answer exactly what the response models would."""

from __future__ import annotations

from contextlib import contextmanager

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
    assert counts[1][0] <= 6 and counts[1][1] <= 6, counts


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
