"""Helpers shared by the resource CRUD tests (communities, groups, skills, members, demands)."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


def assert_problem(r, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem+json response with this status, naming ``field`` among its errors when given."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    if field is not None:
        fields = [e["field"] for e in body.get("errors") or []]
        assert field in fields, (field, fields)
    return body


def list_all(client, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following cursors."""
    items, cursor = [], None
    while True:
        q = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=q, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items
