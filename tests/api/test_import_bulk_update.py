"""The member import's bulk update path (``prepare_member_update`` + ``update_members``).

Changed rows are checked row by row and written in a few executemany statements instead of an
ORM object and a flush's worth of collection events each. These tests pin that a re-import
where every row changes stores, versions and records (audit trail, change feed) exactly what
the row-by-row path (``update_member`` per row, one flush) did, and that a change import is
still all-or-nothing with its per-row report, also when a member changes or goes meanwhile.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain.enums import Role
from app.errors import Problem
from app.models import AuditEvent, ChangeEvent, Member
from app.services import members as member_service
from app.services.audit import Actor, set_actor
from app.services.identity import Caller
from app.services.imports.core import ImportReport, RowResult, load_by_ids, run_import
from app.services.imports.members import MemberImporter
from tests.factories import build_world, csv_bytes

HEADER = [
    "编号",
    "姓名",
    "界别",
    "小组",
    "居住片区",
    "工作片区",
    "电话",
    "邮箱",
    "每周上限",
    "接受跨片",
    "最远距离km",
    "技能",
    "每周时段",
    "不可用日期",
    "在任",
]
ROWS = 36
AREAS = ["JW", "CW", "LGY"]


def _roster() -> list[list[str]]:
    """The first roster: every member with a group or not, two skills, a slot and a date."""
    return [
        [
            f"CH-{i:03d}",
            f"委员{i:03d}",
            "经济界",
            "第一小组" if i % 2 else "",
            AREAS[i % 3],
            AREAS[(i + 1) % 3],
            f"1390000{i:04d}",
            f"m{i}@example.org",
            "2",
            "是",
            "5",
            "法律咨询;金融",
            "周六 09:00-12:00",
            "2030-01-01",
            "是",
        ]
        for i in range(ROWS)
    ]


def _changed(row: list[str], i: int) -> list[str]:
    """``row`` with something changed, a different mix of fields for each i % 7; the first row
    changes everything. (On the row-by-row path the first area lookup loads the district's area
    codes, and that query autoflushes what the rows before it changed: a first row that looks up
    an area, as every real roster's does, leaves that path one flush and its audit rows in one
    flush's order.)"""
    row = list(row)
    kind = (i + 6) % 7
    if kind in (0, 6):  # skills only: a level up (an updated link), nothing else
        row[11] = "法律咨询:3;金融"
    if kind in (1, 6):  # skills replaced (two links dropped, two created), and the name
        row[1], row[11] = f"新委员{i:03d}", "教学;活动场地:1"
    if kind in (2, 6):  # references and contact details (audited masked)
        row[3] = "" if row[3] else "第一小组"
        row[4], row[5] = AREAS[(i + 1) % 3], ""
        row[6], row[7] = f"1381111{i:04d}", ""
    if kind in (3, 6):  # caps, flags and numbers
        row[8], row[9], row[10], row[14] = "3", "否", "12.5", "否"
    if kind in (4, 6):  # the JSON columns and the sector
        row[2], row[12], row[13] = "教育界", "周日 14:00-17:00;周一 19:00-21:00", "2030-02-01~2030-02-03"
    if kind == 5:  # one plain column, and a date named twice (the same stored value: not a change)
        row[8], row[13] = "1", "2030-01-01;2030-01-01"
    return row


class RowByRowImporter(MemberImporter):
    """The import as it was before the bulk update path: the members that change loaded up front
    (``load_by_ids``, so ``update_member``'s ``session.get`` finds them and never autoflushes),
    ``update_member`` for each changed row, all of them written by one flush in ``finish``."""

    def prefetch(self, session, rows) -> None:
        super().prefetch(session, rows)
        self._loaded = load_by_ids(session, model=Member, ids=list(self.stored))

    def apply(self, session, caller, row) -> RowResult:
        member_id = self.existing.get(row.external_id or "")
        changes = self.changes.get(row.line)
        if member_id is None or not changes:
            return super().apply(session, caller, row)
        member_service.update_member(session, caller, member_id=member_id, changes=changes, if_match=None, flush=False)
        self.updated.append(row.line)
        return RowResult(row.line, row.external_id, "updated", member_id)

    def finish(self, session, caller, errors) -> None:
        session.flush()
        super().finish(session, caller, errors)


def _caller(world) -> Caller:
    return Caller(api_key_id=0, name="名册导入", role=Role.ADMIN, district_id=world.district_id)


def _import(db, world, rows: list[list[str]], importer: MemberImporter | None = None) -> ImportReport:
    with db.session() as s:
        set_actor(s, actor=Actor.for_caller(_caller(world), request_id="roster"))
        report = run_import(s, _caller(world), importer=importer or MemberImporter(), data=csv_bytes([HEADER, *rows]))
        s.commit()
    return report


def _stored(db) -> dict[str, Any]:
    """Every imported member's columns (version and updated_at apart) and skills, by external id."""
    with db.session() as s:
        members = s.scalars(select(Member).where(Member.external_id.like("CH-%")).order_by(Member.id)).all()
        return {
            m.external_id: {
                **{c.key: getattr(m, c.key) for c in Member.__table__.c if c.key not in ("version", "updated_at")},
                "skills": sorted((ms.skill_id, ms.level) for ms in m.skills),
            }
            for m in members
        }


def _versions(db) -> dict[str, tuple[int, Any]]:
    with db.session() as s:
        rows = s.execute(
            select(Member.external_id, Member.version, Member.updated_at).where(Member.external_id.like("CH-%"))
        ).all()
    return {ext: (version, updated) for ext, version, updated in rows}


def _marks(db) -> tuple[int, int]:
    with db.session() as s:
        audit = s.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        changes = s.scalar(select(func.coalesce(func.max(ChangeEvent.id), 0)))
    return audit or 0, changes or 0


def _recorded(db, marks: tuple[int, int]) -> tuple[list[dict[str, Any]], list[tuple]]:
    """The audit rows (in id order, without id and time) and change events written after ``marks``."""
    with db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.id > marks[0]).order_by(AuditEvent.id)).all()
        feed = s.execute(
            select(ChangeEvent.entity_type, ChangeEvent.entity_id, ChangeEvent.change_kind, ChangeEvent.state)
            .where(ChangeEvent.id > marks[1])
            .order_by(ChangeEvent.id)
        ).all()
    fields = ("district_id", "actor_kind", "actor_key_id", "actor_role", "actor_label", "acting_as", "action")
    rows = [
        {**{f: getattr(e, f) for f in fields}, "entity": e.entity, "entity_id": e.entity_id, "changes": e.changes}
        for e in audit
    ]
    return rows, [tuple(f) for f in feed]


def _change_import(db, world, rows, importer: MemberImporter) -> dict[str, Any]:
    """Import ``rows`` over what is stored; what it reported, stored, versioned and recorded."""
    versions, marks = _versions(db), _marks(db)
    report = _import(db, world, rows, importer)
    after = _versions(db)
    audit, feed = _recorded(db, marks)
    return {
        "report": [(i.row, i.external_id, i.action, i.id) for i in report.items],
        "stored": _stored(db),
        "version_bumps": {ext: after[ext][0] - versions[ext][0] for ext in after},
        "touched": sorted(ext for ext in after if after[ext][1] > versions[ext][1]),
        "audit": audit,
        "feed": feed,
    }


def _in_flush_order(audit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit rows with the one order a flush leaves to chance made definite: its updated
    skill links (no id of their own) come in set order, so they are sorted among themselves."""
    links = [e for e in audit if e["entity"] == "member_skills" and e["action"] == "updated"]
    rest = [e for e in audit if e not in links]
    return rest + sorted(links, key=repr)


def test_a_re_import_changing_every_row_stores_and_records_what_the_row_by_row_path_did(db, world):
    roster = _roster()
    changed = [_changed(row, i) for i, row in enumerate(roster)]
    _import(db, world, roster)
    before = _stored(db)

    old = _change_import(db, world, changed, RowByRowImporter())
    _import(db, world, roster, RowByRowImporter())  # back to the first roster (versions move on)
    assert _stored(db) == before
    new = _change_import(db, world, changed, MemberImporter())

    assert new["report"] == old["report"]
    assert [action for _, _, action, _ in new["report"]] == ["updated"] * ROWS
    assert new["stored"] == old["stored"]
    assert new["version_bumps"] == old["version_bumps"] == dict.fromkeys(before, 1)
    assert new["touched"] == old["touched"] == sorted(before)
    assert _in_flush_order(new["audit"]) == _in_flush_order(old["audit"])
    assert new["feed"] == old["feed"] == []  # members are not in the change feed, on either path

    # And what that is, independently of the old path.
    assert new["stored"]["CH-000"]["name"] == "新委员000" and new["stored"]["CH-000"]["active"] is False
    assert new["stored"]["CH-002"]["skills"] == sorted([(world.skills["teaching"], 2), (world.skills["venue"], 1)])
    members = {e["entity_id"]: e["changes"] for e in new["audit"] if e["entity"] == "members"}
    ids = {ext: m["id"] for ext, m in new["stored"].items()}
    assert ids["CH-001"] not in members  # skills only: a version bump, no members row
    assert members[ids["CH-006"]] == {"weekly_cap": [2, 1]}
    assert members[ids["CH-003"]]["phone"] == ["139******03", "138******03"]
    assert members[ids["CH-003"]]["email"] == ["m***@example.org", None]
    assert members[ids["CH-005"]]["blackout_dates"] == [["2030-01-01"], ["2030-02-01", "2030-02-02", "2030-02-03"]]
    assert members[ids["CH-004"]]["max_distance_km"] == [5.0, 12.5]
    rank = {("member_skills", "created"): 0, ("members", "updated"): 1, ("member_skills", "updated"): 2}
    kinds = [rank[e["entity"], e["action"]] for e in new["audit"]]
    assert kinds == sorted(kinds)  # the flush's order: created links, updated members, updated links
    assert all(e["actor_label"] == "名册导入" and e["actor_role"] == "admin" for e in new["audit"])
    levels = [e["changes"] for e in new["audit"] if e["entity"] == "member_skills" and e["action"] == "updated"]
    skills_only = [i for i in range(ROWS) if (i + 6) % 7 == 0]
    assert levels == [{"level": [2, 3]}] * len(skills_only)  # 法律咨询 up on the skills-only rows
    assert not any(e["action"] == "deleted" for e in new["audit"])  # dropped links: orphans, as in a flush


def test_a_bad_row_in_a_change_import_rejects_it_whole_with_its_row(db, world):
    roster = _roster()
    _import(db, world, roster)
    changed = [_changed(row, i) for i, row in enumerate(roster)]
    changed[30][4] = "火星片区"  # spreadsheet line 32
    stored, versions, marks = _stored(db), _versions(db), _marks(db)
    with pytest.raises(Problem) as raised:
        _import(db, world, changed)
    problem = raised.value
    assert problem.status == 422 and problem.extra["bad_rows"] == [32] and problem.extra["error_count"] == 1
    assert [(e["row"], e["field"]) for e in problem.errors or []] == [(32, "home_area")]
    assert _stored(db) == stored and _versions(db) == versions and _recorded(db, marks) == ([], [])


class _MeddlingImporter(MemberImporter):
    """After the file is checked against the stored members, another transaction changes or
    deletes one of them (what a PATCH or DELETE committed during a long import does)."""

    def __init__(self, db, external_id: str, *, delete: bool) -> None:
        super().__init__()
        self._db, self._external_id, self._delete = db, external_id, delete

    def prefetch(self, session, rows) -> None:
        if self._delete:  # gone before its stored row is read: its row is refused
            self._meddle()
        super().prefetch(session, rows)
        if not self._delete:  # changed after its stored row was read: the write finds a new version
            self._meddle()

    def _meddle(self) -> None:
        with self._db.session() as other:
            member = other.scalars(select(Member).where(Member.external_id == self._external_id)).one()
            if self._delete:
                other.delete(member)
            else:
                member.name = "别处改过"
            other.commit()


@pytest.mark.parametrize("delete", [False, True], ids=["changed", "deleted"])
def test_a_member_changed_or_deleted_meanwhile_rejects_the_change_import(pg_db, monkeypatch, delete):
    monkeypatch.setenv("MATCHER_DATABASE_URL", pg_db.url)
    world = build_world(pg_db)
    roster = _roster()
    _import(pg_db, world, roster)
    changed = [_changed(row, i) for i, row in enumerate(roster)]
    with pytest.raises(Problem) as raised:
        _import(pg_db, world, changed, _MeddlingImporter(pg_db, "CH-010", delete=delete))
    problem = raised.value
    errors = [(e["row"], e["field"], e["code"]) for e in problem.errors or []]
    if delete:  # reported on its own row, as update_member's 404
        assert problem.extra["bad_rows"] == [12] and errors == [(12, "row", "not_found")]
    else:  # the flush's StaleDataError was reported on the first updated row, and still is
        assert problem.extra["bad_rows"] == [2] and errors == [(2, "row", "conflict")]
    # Nothing of the import was kept: every member as the first roster left it, but the meddled one.
    expected = {f"CH-{i:03d}": (f"委员{i:03d}", 1) for i in range(ROWS)}
    if delete:
        del expected["CH-010"]
    else:
        expected["CH-010"] = ("别处改过", 2)
    versions = _versions(pg_db)
    assert {ext: (m["name"], versions[ext][0]) for ext, m in _stored(pg_db).items()} == expected
