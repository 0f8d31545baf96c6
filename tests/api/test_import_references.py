"""A bulk import reads the reference catalogue once, however many rows it has, and a
reference changed inside the transaction is seen by the lookups after it."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Area, Member
from app.services.areas import area_by_code
from app.services.skills import resolve_skills
from tests.api.test_read_queries import counted
from tests.factories import csv_bytes
from tests.support import upload

HEADER = ["编号", "姓名", "居住片区", "工作片区", "技能"]


def _rows(n: int, start: int) -> list[list[str]]:
    return [[f"R-{start + i}", f"委员{start + i}", "JW", "cw", "法律咨询；金融"] for i in range(n)]


def _catalogue_reads(client, world, settings, rows: list[list[str]]) -> int:
    with counted(settings.database_url) as statements:
        r = upload(client, "members", csv_bytes([HEADER, *rows]), world.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(rows)
    return sum(1 for s in statements if "FROM skills" in s or "FROM areas" in s)


def test_import_reads_the_catalogue_once_per_file(client, world, db, settings):
    small = _catalogue_reads(client, world, settings, _rows(2, 0))
    large = _catalogue_reads(client, world, settings, _rows(20, 100))
    assert small == large, (small, large)
    with db.session() as s:
        m = s.scalar(select(Member).where(Member.external_id == "R-119"))
        assert m.work_area.code == "CW"  # the case-insensitive code still resolves
        assert sorted(ms.skill.code for ms in m.skills) == ["finance", "law"]


def test_a_reference_changed_in_the_transaction_is_seen(db, world):
    with db.session() as s:
        assert area_by_code(s, district_id=world.district_id, code="JW", field="area").code == "JW"
        s.add(Area(district_id=world.district_id, code="NEW", name="新片区", kind="street"))
        s.flush()
        assert area_by_code(s, district_id=world.district_id, code="NEW", field="area").name == "新片区"
        [skill] = resolve_skills(s, district_id=world.district_id, tokens=["law"], field="skills")
        skill.synonyms = ["普法"]
        s.flush()
        assert resolve_skills(s, district_id=world.district_id, tokens=["普法"], field="skills") == [skill]
        s.rollback()
