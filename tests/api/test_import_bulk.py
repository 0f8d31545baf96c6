"""The member import's bulk write path (``prepare_member`` + ``insert_members`` + ``audited_insert``).

New members are checked row by row and stored in a few multi-row INSERTs instead of a flush
each: these tests pin that the result is what ``create_member`` stores and audits, that a file
is still all-or-nothing with its per-row report at full size, and that a clash found only at
the bulk write is reported on its row.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.enums import Role
from app.errors import Problem
from app.models import AuditEvent, Member, MemberSkill
from app.services.identity import Caller
from app.services.imports.core import run_import
from app.services.imports.members import MemberImporter
from tests.factories import build_world, csv_bytes
from tests.support import count, upload

HEADER = [
    "编号",
    "姓名",
    "界别",
    "小组",
    "居住片区",
    "工作片区",
    "电话",
    "每周上限",
    "接受跨片",
    "最远距离km",
    "技能",
    "每周时段",
]
ROW = [
    "CY-501",
    "刘建国",
    "经济界",
    "第一小组",
    "LGY",
    "CW",
    "13901234567",
    "3",
    "否",
    "12.5",
    "法律咨询:3;金融",
    "周六 09:00-12:00",
]
# The same member as an API body (what create_member is given).
BODY = {
    "external_id": "CY-502",
    "name": "刘建国",
    "sector": "经济界",
    "home_area": "LGY",
    "work_area": "CW",
    "phone": "13901234567",
    "weekly_cap": 3,
    "accepts_cross_area": False,
    "max_distance_km": 12.5,
    "skills": [{"code": "law", "level": 3}, {"code": "finance", "level": 2}],
    "weekly_slots": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
}
_BOOKKEEPING = {"id", "external_id", "version", "etag", "created_at", "updated_at"}


def _member(client, world, member_id: int) -> dict[str, Any]:
    r = client.get(f"/v1/members/{member_id}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return {k: v for k, v in r.json().items() if k not in _BOOKKEEPING}


def _audit(db, member_id: int) -> list[tuple[str, str | None, dict]]:
    """The member's created audit rows and its skills', without the ids that differ."""
    with db.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "created").order_by(AuditEvent.id)))
    found = []
    for e in events:
        if e.entity == "members" and e.entity_id == member_id:
            found.append(
                (e.entity, e.actor_role, {k: v for k, v in e.changes.items() if k not in ("id", "external_id")})
            )
        elif e.entity == "member_skills" and e.changes["member_id"] == [None, member_id]:
            found.append((e.entity, e.actor_role, {k: v for k, v in e.changes.items() if k != "member_id"}))
    return sorted(found, key=repr)


def test_a_member_imported_in_bulk_is_stored_and_audited_as_create_member_does(client, world, db):
    r = upload(client, "members", csv_bytes([HEADER, ROW]), world.h("admin"))
    assert r.status_code == 200, r.text
    imported = r.json()["items"][0]["id"]
    body = {**BODY, "group_id": world.groups["第一小组"]}
    r = client.post("/v1/members", json=body, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    created = r.json()["id"]

    assert _member(client, world, imported) == _member(client, world, created)
    with db.session() as s:
        versions = {m.id: m.version for m in s.scalars(select(Member).where(Member.id.in_([imported, created])))}
        assert versions == {imported: 1, created: 1}
    audit = _audit(db, imported)
    assert audit == _audit(db, created)
    assert [entity for entity, _, _ in audit] == ["member_skills", "member_skills", "members"]
    members_row = next(changes for entity, _, changes in audit if entity == "members")
    assert members_row["phone"] == [None, "139******67"]  # masked, as a flush masks it
    assert all(role == "admin" for _, role, _ in audit)


def _big_file(world, rows: int, bad_line: int) -> bytes:
    """``rows`` data rows (lines 2 .. rows+1); the row on spreadsheet line ``bad_line`` names no area."""
    areas = ["JW", "CW", "LGY"]
    data = [
        [f"BIG-{i:05d}", f"委员{i:05d}", "", "", areas[i % 3], "", "", "", "", "", "法律咨询" if i % 2 else "", ""]
        for i in range(rows)
    ]
    data[bad_line - 2][4] = "火星片区"
    return csv_bytes([HEADER, *data])


def test_one_bad_row_deep_in_a_full_file_rejects_it_whole_with_its_row(client, world, db):
    data = _big_file(world, 9_999, bad_line=9_999)
    members, skills, audit = count(db, Member), count(db, MemberSkill), count(db, AuditEvent)
    zh = upload(client, "members", data, {**world.h("admin"), "Accept-Language": "zh-CN"})
    assert zh.status_code == 422, zh.text
    problem = zh.json()
    assert problem["bad_rows"] == [9_999] and problem["error_count"] == 1
    (error,) = problem["errors"]
    assert (error["row"], error["field"], error["column"]) == (9_999, "home_area", "居住片区")
    assert "未知的片区“火星片区”" in error["message"]
    # Nothing of the 9,998 good rows, their skills or their audit rows was kept.
    assert (count(db, Member), count(db, MemberSkill), count(db, AuditEvent)) == (members, skills, audit)


def test_more_rows_than_one_insert_statement_holds_get_their_own_ids(client, world, db):
    """1,200 new members: more than one multi-row INSERT (1,000 rows) and one IN query (500 ids)."""
    data = _big_file(world, 1_201, bad_line=1_202).replace("火星片区".encode(), b"JW")
    before, skills = count(db, Member), count(db, MemberSkill)
    r = upload(client, "members", data, world.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1_201 and [i["row"] for i in body["items"]] == list(range(2, 1_203))
    ids = [i["id"] for i in body["items"]]
    assert len(set(ids)) == 1_201 and None not in ids
    assert count(db, Member) == before + 1_201 and count(db, MemberSkill) == skills + 600
    with db.session() as s:  # each row's id is the member of that row
        stored = dict(s.execute(select(Member.id, Member.external_id).where(Member.id.in_(ids))).all())
    assert [stored[i] for i in ids] == [f"BIG-{i:05d}" for i in range(1_201)]
    again = upload(client, "members", data, world.h("admin")).json()  # the same file: every row unchanged
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1_201)

    # Every row changed (written together): each member once more, its version bumped, audited.
    changed = data.replace("法律咨询".encode(), "法律咨询:3".encode())
    r = upload(client, "members", changed, world.h("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["updated"], r.json()["unchanged"]) == (600, 601)  # the rows that have a skill
    with db.session() as s:
        versions = dict(s.execute(select(Member.id, Member.version).where(Member.id.in_(ids))).all())
        levels = set(s.scalars(select(MemberSkill.level).where(MemberSkill.member_id.in_(ids))))
        updated = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "member_skills", AuditEvent.action == "updated")
        ).all()
    assert sorted(set(versions.values())) == [1, 2] and list(versions.values()).count(2) == 600
    assert levels == {3} and len(updated) == 600 and {tuple(e.changes["level"]) for e in updated} == {(2, 3)}


class _RacedImporter(MemberImporter):
    """Checks the file, then another transaction commits a member with row 3's external id
    before the bulk write (what a second import running at the same time does)."""

    def __init__(self, db, district_id: int) -> None:
        super().__init__()
        self._db, self._district_id = db, district_id

    def load(self, session, caller) -> None:
        super().load(session, caller)
        with self._db.session() as other:
            home = session.scalar(select(Member.home_area_id).limit(1))
            other.add(Member(district_id=self._district_id, external_id="CY-602", name="并发委员", home_area_id=home))
            other.commit()


def test_a_member_stored_meanwhile_is_reported_on_its_row_and_nothing_is_kept(pg_db, monkeypatch):
    monkeypatch.setenv("MATCHER_DATABASE_URL", pg_db.url)
    world = build_world(pg_db)
    rows = [HEADER, ["CY-601", "甲", "", "", "JW", *[""] * 7], ["CY-602", "乙", "", "", "CW", *[""] * 7]]
    caller = Caller(api_key_id=0, name="test", role=Role.ADMIN, district_id=world.district_id)
    before = count(pg_db, Member)
    with pg_db.session() as s, pytest.raises(Problem) as raised:
        run_import(s, caller, importer=_RacedImporter(pg_db, world.district_id), data=csv_bytes(rows))
    problem = raised.value
    assert problem.status == 422 and problem.extra["bad_rows"] == [3]
    assert [(e["row"], e["field"], e["code"]) for e in problem.errors or []] == [(3, "row", "conflict")]
    assert count(pg_db, Member) == before + 1  # only the concurrent member; not row 2 either


def test_insert_rows_stores_what_an_insert_through_sqlalchemy_stores(db, world):
    """The bulk writer bypasses SQLAlchemy's per-row parameter handling (a driver executemany on
    SQLite, COPY on PostgreSQL); the stored values must be the same, tricky types included."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import insert

    from app.domain.enums import ActorKind, AuditAction
    from app.models.base import table_of
    from app.services.bulk_insert import insert_rows

    beijing = timezone(timedelta(hours=8))
    row = {
        "district_id": world.district_id,
        "actor_kind": ActorKind.CLI,
        "actor_key_id": None,
        "actor_role": "admin",
        "actor_label": '导入 "委员" \\ 名册',
        "acting_as": None,
        "action": AuditAction.CREATED,
        "entity": "members",
        "entity_id": None,
        "changes": {"name": [None, "阿依古丽·买买提"], "skills": [None, [{"code": "law", "level": 3}]], "x": None},
        "request_id": "r-1",
        "created_at": datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=beijing),
    }
    table = table_of(AuditEvent)
    with db.session() as s:
        s.execute(insert(table), [{**row, "request_id": "orm"}])
        insert_rows(s, table, [{**row, "request_id": "bulk"}, {**row, "request_id": "bulk-default"}])
        without_time = {k: v for k, v in row.items() if k != "created_at"}
        insert_rows(s, table, [{**without_time, "request_id": "no-time"}])
        s.commit()
    with db.session() as s:
        stored = {e.request_id: e for e in s.scalars(select(AuditEvent).where(AuditEvent.request_id.is_not(None)))}
    shown = [c.name for c in table.c if c.name not in ("id", "request_id")]
    expected = [getattr(stored["orm"], name) for name in shown]
    assert [getattr(stored["bulk"], name) for name in shown] == expected
    assert [getattr(stored["bulk-default"], name) for name in shown] == expected
    assert stored["bulk"].created_at == datetime(2026, 12, 7, 1, 30, 15, 123456, tzinfo=UTC)
    assert stored["no-time"].created_at is not None  # the column's default, as an INSERT fills it
    assert stored["bulk"].id < stored["bulk-default"].id < stored["no-time"].id
