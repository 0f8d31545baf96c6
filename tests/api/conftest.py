"""API test fixtures: a real app on a real database, and a small district world.

``world`` builds two districts' worth of reference data through the ORM (fast),
plus one API key per role, so every test can exercise the auth matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.models import Area, Community, Group, Member, MemberSkill, Skill
from app.services.api_keys import create_api_key
from app.services.districts import ensure_district


@dataclass
class World:
    district_id: int
    other_district_id: int
    keys: dict[str, str] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)  # ids in the other district

    def h(self, role: str) -> dict[str, str]:
        """Auth headers for a role: admin, reader, liaison_jw, liaison_cw, other_admin."""
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def w(self, role: str) -> dict[str, str]:
        """Headers for PATCH/DELETE that are not about ETags: auth plus ``If-Match: *`` (any version)."""
        return {**self.h(role), "If-Match": "*"}


NEXT_MONDAY = (datetime.now(UTC) + timedelta(days=7 - datetime.now(UTC).weekday())).replace(
    hour=9, minute=0, second=0, microsecond=0
)


@pytest.fixture
def world(db, settings) -> World:
    with db.session() as s:
        d = ensure_district(s, "chaoyang", "朝阳区")
        o = ensure_district(s, "haidian", "海淀区")
        w = World(district_id=d.id, other_district_id=o.id)
        for code, name, kind, lat, lon in [
            ("JW", "建外街道", "street", 39.905, 116.45),
            ("CW", "朝外街道", "street", 39.922, 116.437),
            ("LGY", "来广营地区", "township", 40.02, 116.45),
        ]:
            a = Area(
                district_id=d.id,
                code=code,
                name=name,
                kind=kind,
                lat=lat,
                lon=lon,
                liaison_name="联络员" + code,
                liaison_phone="010-6500" + str(len(code)) + "000",
            )
            s.add(a)
            s.flush()
            w.areas[code] = a.id
        for name, area in [("建外社区", "JW"), ("光华里社区", "JW"), ("朝外社区", "CW"), ("清友园社区", "LGY")]:
            c = Community(district_id=d.id, area_id=w.areas[area], name=name)
            s.add(c)
            s.flush()
            w.communities[name] = c.id
        for code, name, cat, syn in [
            ("law", "法律咨询", "expertise", ["律师", "法律援助"]),
            ("finance", "金融", "expertise", ["防金融诈骗"]),
            ("teaching", "教学", "interest", []),
            ("venue", "活动场地", "resource", ["场地"]),
        ]:
            k = Skill(district_id=d.id, code=code, name=name, category=cat, synonyms=syn)
            s.add(k)
            s.flush()
            w.skills[code] = k.id
        g = Group(district_id=d.id, name="第一小组")
        g.areas = [s.get(Area, w.areas["JW"]), s.get(Area, w.areas["CW"])]
        s.add(g)
        s.flush()
        w.groups["第一小组"] = g.id
        for name, area, skills in [
            ("张伟", "JW", ["law"]),
            ("李娜", "CW", ["finance", "teaching"]),
            ("王强", "LGY", ["venue"]),
        ]:
            m = Member(
                district_id=d.id,
                name=name,
                sector="社会福利和社会保障界",
                group_id=g.id,
                home_area_id=w.areas[area],
                phone="13800138000",
                external_id="M-" + name,
            )
            m.skills = [MemberSkill(skill_id=w.skills[k], level=2) for k in skills]
            s.add(m)
            s.flush()
            w.members[name] = m.id
        oa = Area(district_id=o.id, code="JW", name="海淀某街道", kind="street")
        s.add(oa)
        s.flush()
        w.other["area"] = oa.id
        oc = Community(district_id=o.id, area_id=oa.id, name="海淀社区")
        s.add(oc)
        s.flush()
        w.other["community"] = oc.id
        w.keys["admin"] = create_api_key(s, d.id, "admin", "test admin")
        w.keys["reader"] = create_api_key(s, d.id, "reader", "test reader")
        w.keys["liaison_jw"] = create_api_key(s, d.id, "liaison", "jw liaison", "JW")
        w.keys["liaison_cw"] = create_api_key(s, d.id, "liaison", "cw liaison", "CW")
        w.keys["other_admin"] = create_api_key(s, o.id, "admin", "other admin")
        s.commit()
    return w


@pytest.fixture
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c
