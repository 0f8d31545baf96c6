"""Concurrent writers against the real server on PostgreSQL: no 5xx, no lost write.

The app runs under uvicorn in a background thread; 20 threads, each with its own
HTTP client, create demands (with Idempotency-Key), patch their own demands and
all append a marker to ONE shared demand by read-modify-write with If-Match,
retrying after a re-read on 412 (a stale ETag, or one that lost the version race: a failed
precondition either way, never 409).
If any update were lost, a marker would be missing at the end.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from app.models import Area, Community, Skill
from app.services.api_keys import create_api_key
from app.services.districts import ensure_district
from app.settings import get_settings
from tests.live import serve_app
from tests.support import app_for

THREADS = 20
DEMANDS_PER_THREAD = 2
DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


@pytest.fixture
def small_world(pg_db) -> dict:
    """The slice of the API test world this test needs, built through the ORM."""
    with pg_db.session() as s:
        d = ensure_district(s, code="chaoyang", name="朝阳区")
        area = Area(district_id=d.id, code="LGY", name="来广营地区", kind="township")
        s.add(area)
        s.flush()
        community = Community(district_id=d.id, area_id=area.id, name="清友园社区")
        s.add_all(
            [
                community,
                Skill(district_id=d.id, code="finance", name="金融", category="expertise", synonyms=["防金融诈骗"]),
            ]
        )
        s.flush()
        key = create_api_key(s, district_id=d.id, role="admin", name="load admin")
        s.commit()
        return {"community_id": community.id, "key": key}


@pytest.fixture
def server_url(pg_db, small_world, monkeypatch):
    monkeypatch.setenv("MATCHER_DATABASE_URL", pg_db.url)
    get_settings.cache_clear()
    with serve_app(app_for(get_settings())) as url:
        yield url
    get_settings.cache_clear()


def _demand(community_id: int, title: str) -> dict:
    return {
        "community_id": community_id,
        "title": title,
        "description": "",
        "channel": "needs_collection",
        "required_skills": ["防金融诈骗"],
        "starts_at": f"{DAY}T14:00:00",
        "ends_at": f"{DAY}T16:00:00",
    }


def _append_marker(client: httpx.Client, demand_id: int, marker: str, statuses: list[int]) -> None:
    """Read-modify-write of the description, retrying after a re-read when someone got there first."""
    for _ in range(500):
        r = client.get(f"/v1/demands/{demand_id}")
        statuses.append(r.status_code)
        assert r.status_code == 200, r.text
        text = r.json()["description"] or ""
        r = client.patch(
            f"/v1/demands/{demand_id}", json={"description": text + marker}, headers={"If-Match": r.headers["ETag"]}
        )
        statuses.append(r.status_code)
        if r.status_code == 200:
            return
        assert r.status_code == 412, r.text
    raise AssertionError(f"{marker} never got its write in")


def test_concurrent_creates_and_patches_lose_nothing(server_url, small_world):
    headers = {"Authorization": f"Bearer {small_world['key']}"}
    cid = small_world["community_id"]
    with httpx.Client(base_url=server_url, headers=headers, timeout=60) as c:
        r = c.post("/v1/demands", json=_demand(cid, "共享需求"))
        assert r.status_code == 201, r.text
        shared = r.json()["id"]

    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    created: dict[int, list[int]] = {}
    failures: list[BaseException] = []

    def worker(i: int) -> None:
        mine: list[int] = []
        try:
            with httpx.Client(base_url=server_url, headers=headers, timeout=60) as c:
                barrier.wait(timeout=30)
                for j in range(DEMANDS_PER_THREAD):
                    body = _demand(cid, f"线程{i}需求{j}")
                    key = {"Idempotency-Key": f"t{i}-d{j}"}
                    r = c.post("/v1/demands", json=body, headers=key)
                    statuses.append(r.status_code)
                    assert r.status_code == 201, r.text
                    mine.append(r.json()["id"])
                    replay = c.post("/v1/demands", json=body, headers=key)  # a client retry creates nothing
                    statuses.append(replay.status_code)
                    assert replay.status_code == 201 and replay.json()["id"] == mine[-1]
                    _append_marker(c, mine[-1], f"[own{i}]", statuses)
                _append_marker(c, shared, f"[t{i}]", statuses)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        created[i] = mine

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not failures, failures[0]
    counts = Counter(statuses)
    assert not [s for s in counts if s >= 500], counts

    with httpx.Client(base_url=server_url, headers=headers, timeout=60) as c:
        final = c.get(f"/v1/demands/{shared}").json()
        for i in range(THREADS):
            assert final["description"].count(f"[t{i}]") == 1, (i, final["description"])
        assert final["version"] == THREADS + 1
        ids = [d for mine in created.values() for d in mine]
        assert len(ids) == len(set(ids)) == THREADS * DEMANDS_PER_THREAD
        for i, mine in created.items():
            for did in mine:
                r = c.get(f"/v1/demands/{did}")
                assert r.status_code == 200 and r.json()["description"] == f"[own{i}]"
        listed, cursor = [], None
        while True:
            page = c.get("/v1/demands", params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
            listed += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(listed) == sorted(ids + [shared])  # no duplicate from the idempotent replays
