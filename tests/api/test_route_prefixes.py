"""Routers guarded by their paths' literal prefixes resolve every request as unguarded ones do."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match

from app.api.main import create_app
from app.api.route_prefixes import guard_routers_by_prefix, literal_prefixes


@pytest.fixture(scope="module")
def app():
    return create_app()


def _resolve(app, method: str, path: str, *, guarded: bool):
    """(match, route, path params) the top-level router picks: the first full match, else the first partial."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}
    partial = None
    for route in app.router.routes:
        matches = route.matches if guarded else getattr(route.matches, "unguarded", route.matches)
        match, child = matches(dict(scope))
        if match == Match.FULL:
            return "full", route, child.get("path_params")
        if match == Match.PARTIAL and partial is None:
            partial = ("partial", route, child.get("path_params"))
    return partial or ("none", None, None)


def _example_paths(app) -> set[str]:
    paths = {"/", "/nope", "/v1", "/v1/", "/v1/nope", "/v1/demandsx", "/consolex", "/static/app.css"}
    for route in app.router.routes:
        for leaf in getattr(getattr(route, "original_router", None), "routes", [route]):
            path = getattr(leaf, "path", None)
            if isinstance(path, str):
                example = re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+\}", "7", path))
                paths |= {example, example.rstrip("/") + "/", example + "x", example + "/extra"}
    return paths


def test_most_routers_are_guarded(app):
    guarded = [r for r in app.router.routes if hasattr(r.matches, "unguarded")]
    assert len(guarded) >= 25
    assert literal_prefixes(next(r for r in guarded if "/v1/changes" in literal_prefixes(r))) == ("/v1/changes",)


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_every_path_resolves_as_without_the_guard(app, method):
    paths = _example_paths(app)
    assert len(paths) > 300
    for path in sorted(paths):
        assert _resolve(app, method, path, guarded=True) == _resolve(app, method, path, guarded=False), path


def test_guarding_twice_changes_nothing(app):
    before = {p: _resolve(app, "GET", p, guarded=True) for p in _example_paths(app)}
    guard_routers_by_prefix(app)
    assert {p: _resolve(app, "GET", p, guarded=True) for p in before} == before
