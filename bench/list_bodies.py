"""Capture the list (and single) read responses of a database, to compare two versions byte for byte.

Why: the list endpoints' read path is rewritten for speed, and integrators code against the bytes
(bodies and ETags). Run ``keys`` once on a prepared database (the demo with its plan, e.g. from
``python -m bench api``'s loader or ``matcher demo``), then ``capture`` from each version's source
tree against the same database, and ``compare`` the two files::

    python bench/list_bodies.py keys URL keys.json
    PYTHONPATH=/tmp/old python bench/list_bodies.py capture URL keys.json old.json
    PYTHONPATH=.        python bench/list_bodies.py capture URL keys.json new.json
    python bench/list_bodies.py compare old.json new.json

The requests: every page (cursor walk) of the lists with several limits and each filter, as a
reader, an admin (phones) and a liaison (one area), plus single GETs; in-process (TestClient),
reads only, so both captures see the same rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

MAX_PAGES = 40


def make_keys(url: str, path: str) -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Area, District
    from app.services.api_keys import create_api_key
    from app.settings import get_settings

    with session_scope(url) as session:
        district_id = session.scalar(select(District.id).where(District.code == get_settings().district_code))
        assert district_id is not None, "demo district missing"
        area = session.scalars(select(Area.code).where(Area.district_id == district_id).order_by(Area.id)).first()
        keys = {
            role: create_api_key(session, district_id=district_id, role=role, name=f"bodies-{role}", area_code=code)
            for role, code in (("reader", None), ("admin", None), ("liaison", area))
        }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(keys, f)


def _requests(ids: dict[str, list[int]], areas: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, query) pairs: lists with each filter and limit, then single reads."""
    for limit in (1, 7, 50, 100, 500):
        yield "/v1/assignments", {"limit": limit}
        yield "/v1/demands", {"limit": limit}
        yield "/v1/changes", {"limit": limit}
    for area in areas[:6]:
        yield "/v1/assignments", {"limit": 20, "area": area}
        yield "/v1/demands", {"limit": 20, "area": area}
    for status in ("published", "accepted", "completed", "declined", "proposed", "superseded"):
        yield "/v1/assignments", {"limit": 30, "status": status}
    yield "/v1/assignments", {"limit": 30, "status": ["published", "accepted"]}
    yield "/v1/assignments", {"limit": 30, "run_id": 1}
    yield "/v1/assignments", {"limit": 30, "updated_since": "2020-01-01T00:00:00"}
    for member_id in ids["members"][:5]:
        yield "/v1/assignments", {"limit": 10, "member_id": member_id}
    for demand_id in ids["demands"][:5]:
        yield "/v1/assignments", {"limit": 10, "demand_id": demand_id}
    for status in ("open", "assigned", "closed", "cancelled"):
        yield "/v1/demands", {"limit": 40, "status": status}
    for priority in (1, 3, 5):
        yield "/v1/demands", {"limit": 40, "priority": priority}
    yield "/v1/demands", {"limit": 40, "starts_after": "2020-01-01T00:00:00", "starts_before": "2040-01-01"}
    for community_id in ids["communities"][:4]:
        yield "/v1/demands", {"limit": 40, "community_id": community_id}
    for assignment_id in ids["assignments"][:40]:
        yield f"/v1/assignments/{assignment_id}", {}
    for demand_id in ids["demands"][:40]:
        yield f"/v1/demands/{demand_id}", {}


def _ids(url: str) -> tuple[dict[str, list[int]], list[str]]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Area, Assignment, Community, Demand, Member

    with session_scope(url) as session:
        ids = {
            name: list(session.scalars(select(model.id).order_by(model.id)))
            for name, model in (
                ("assignments", Assignment),
                ("demands", Demand),
                ("members", Member),
                ("communities", Community),
            )
        }
        assigned = sorted(set(session.scalars(select(Assignment.member_id))))
        ids["members"] = assigned[::7] or ids["members"]
        ids["demands"] = ids["demands"][::5]
        ids["assignments"] = ids["assignments"][::9]
        areas = list(session.scalars(select(Area.code).order_by(Area.id)))
    return ids, areas


def _next_cursor(path: str, response: Any) -> str | None:
    """The cursor of the next page; the change feed always answers one, and is done when empty."""
    if response.status_code != 200:
        return None
    page = response.json()
    if path == "/v1/changes" and not page["items"]:
        return None
    return page.get("next_cursor")


def _comparable(body: str) -> str:
    """A problem's ``request_id`` is new on every request; everything else must match."""
    return re.sub(r'"request_id":"[0-9a-f]+"', '"request_id":"-"', body)


def capture(url: str, keys_path: str, out_path: str) -> None:
    os.environ["MATCHER_DATABASE_URL"] = url
    # Nothing in the background may change rows between the two captures.
    os.environ.update(
        MATCHER_WEBHOOK_ENABLED="false",
        MATCHER_NOTIFY_ENABLED="false",
        MATCHER_SCHEDULER="off",
        MATCHER_LOG_LEVEL="WARNING",
    )
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with open(keys_path, encoding="utf-8") as f:
        keys = json.load(f)
    ids, areas = _ids(url)
    out: list[dict[str, Any]] = []
    with TestClient(create_app()) as client:
        for role, key in keys.items():
            headers = {"Authorization": f"Bearer {key}"}
            for path, query in _requests(ids, areas):
                params = dict(query)
                for page in range(MAX_PAGES):
                    r = client.get(path, params=params, headers=headers)
                    out.append(
                        {
                            "request": f"{role} {path} {json.dumps(params, sort_keys=True)}",
                            "status": r.status_code,
                            "etag": r.headers.get("etag"),
                            "body": _comparable(r.content.decode("utf-8")),
                        }
                    )
                    cursor = _next_cursor(path, r) if "limit" in query else None
                    if not cursor or page == MAX_PAGES - 1:
                        break
                    params["after" if path == "/v1/changes" else "cursor"] = cursor
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    digest = hashlib.sha256("".join(e["body"] + str(e["etag"]) for e in out).encode()).hexdigest()[:16]
    statuses: dict[int, int] = {}
    for e in out:
        statuses[e["status"]] = statuses.get(e["status"], 0) + 1
    print(f"{len(out)} responses, statuses {statuses}, digest {digest}")


def compare(old_path: str, new_path: str) -> int:
    with open(old_path, encoding="utf-8") as f:
        old = json.load(f)
    with open(new_path, encoding="utf-8") as f:
        new = json.load(f)
    if len(old) != len(new):
        print(f"different number of responses: {len(old)} vs {len(new)}")
        return 1
    bad = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    for a, b in bad[:5]:
        print("DIFFERENT:", a["request"], a["status"], b["status"], a["etag"], b["etag"])
        for i, (x, y) in enumerate(zip(a["body"], b["body"], strict=False)):
            if x != y:
                print("  old:", a["body"][max(0, i - 80) : i + 80])
                print("  new:", b["body"][max(0, i - 80) : i + 80])
                break
    print(f"{len(old)} responses compared (bodies, ETags, statuses): {len(bad)} different")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "keys":
        make_keys(*rest)
    elif command == "capture":
        capture(*rest)
    elif command == "compare":
        return compare(*rest)
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
