"""Per-district settings: defaults, merge on PATCH, validation naming the field, admin only, per district."""

from __future__ import annotations


def test_defaults_patch_and_isolation(client, world):
    r = client.get("/v1/district-settings", headers=world.h("reader"))
    assert r.status_code == 200 and r.headers["etag"] == '"v1"'
    missing = client.patch("/v1/district-settings", json={"time_limit_s": 5}, headers=world.h("admin"))
    assert missing.status_code == 428 and missing.json()["errors"][0]["field"] == "If-Match"
    assert r.json()["schedule"] == {"enabled": False, "weekday": 0, "time": "06:00", "publish": False}
    r = client.patch(
        "/v1/district-settings",
        json={"schedule": {"enabled": True, "time": "07:30"}, "time_limit_s": 5, "weights": {"distance": 2}},
        headers={**world.h("admin"), "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"v2"'
    body = r.json()
    stale = client.patch(
        "/v1/district-settings", json={"time_limit_s": 9}, headers={**world.h("admin"), "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    assert body["schedule"] == {"enabled": True, "weekday": 0, "time": "07:30", "publish": False}
    assert body["time_limit_s"] == 5 and body["weights"]["distance"] == 2
    assert client.get("/v1/district-settings", headers=world.h("admin")).json() == body
    other = client.get("/v1/district-settings", headers=world.h("other_admin")).json()
    assert other["schedule"]["enabled"] is False and other["time_limit_s"] == 30
    r = client.patch(
        "/v1/district-settings", json={"schedule": {"time": "25:00"}}, headers={**world.h("admin"), "If-Match": "*"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "schedule.time"
    r = client.patch("/v1/district-settings", json={"time_limit_s": 5}, headers={**world.h("reader"), "If-Match": "*"})
    assert r.status_code == 403
