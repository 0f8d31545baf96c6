"""Districts as tenants: platform keys create, list, rename, deactivate; act-as is explicit."""

from __future__ import annotations

import pytest

from app.services.api_keys import create_api_key


@pytest.fixture
def platform(db, world) -> dict[str, str]:
    with db.session() as s:
        raw = create_api_key(s, district_id=None, role="platform", name="city office")
        s.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_platform_creates_lists_renames_deactivates(client, world, platform):
    body = {"code": "xicheng", "name": "西城区", "areas": [{"code": "XC1", "name": "西长安街街道", "kind": "street"}]}
    r = client.post("/v1/districts", json=body, headers=platform)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["areas"] == 1 and created["timezone"] == "Asia/Shanghai"
    admin = {"Authorization": f"Bearer {created['admin_key']}"}
    areas = client.get("/v1/areas", headers=admin).json()["items"]
    assert [a["code"] for a in areas] == ["XC1"]
    assert client.post("/v1/districts", json=body, headers=platform).status_code == 409
    codes = [d["code"] for d in client.get("/v1/districts", headers=platform).json()["items"]]
    assert codes == ["chaoyang", "haidian", "xicheng"]
    assert client.patch("/v1/districts/xicheng", json={"name": "西城"}, headers=platform).status_code == 428
    r = client.patch("/v1/districts/xicheng", json={"name": "西城"}, headers={**platform, "If-Match": '"v1"'})
    assert r.status_code == 200 and r.json()["name"] == "西城" and r.headers["etag"] == '"v2"'
    stale = client.patch("/v1/districts/xicheng", json={"name": "西城区"}, headers={**platform, "If-Match": '"v1"'})
    assert stale.status_code == 412
    platform = {**platform, "If-Match": "*"}
    r = client.patch("/v1/districts/xicheng", json={"timezone": "Mars/Base"}, headers=platform)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone"
    assert client.patch("/v1/districts/xicheng", json={"active": False}, headers=platform).status_code == 200
    r = client.get("/v1/areas", headers=admin)
    assert r.status_code == 401 and r.json()["code"] == "district_inactive"
    # district keys cannot manage tenants
    assert client.get("/v1/districts", headers=world.h("admin")).status_code == 403
    assert client.post("/v1/districts", json={"code": "x1", "name": "x"}, headers=world.h("admin")).status_code == 403


def test_platform_acts_as_a_district_only_explicitly(client, world, platform):
    assert client.get("/v1/members", headers=platform).json()["items"] == []
    acting = {**platform, "X-Act-As-District": "chaoyang"}
    members = client.get("/v1/members", headers=acting).json()["items"]
    assert len(members) == len(world.members)
    r = client.get("/v1/members", headers={**platform, "X-Act-As-District": "nowhere"})
    assert r.status_code == 404
    r = client.get("/v1/members", headers={**world.h("other_admin"), "X-Act-As-District": "chaoyang"})
    assert r.status_code == 403 and r.json()["code"] == "act_as_forbidden"
