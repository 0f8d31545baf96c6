"""Keys answered from memory (``app.api.unit_of_work``): one thread hop, and still checked each time.

A key that worked is remembered by the process, so its request does the key check, the handler
and the commit in one hop of the thread pool. The memory is only a hint: a key revoked by anyone
(another worker process, the CLI, a direct UPDATE) fails with the very next request, and it
fails 401 even when the request is also wrong in another way (a bad parameter, a role).
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import event, update

from app.db import get_engine
from app.models import ApiKey
from app.models.base import utcnow
from app.services.api_keys import hash_key
from tests.factories import demand_body


def _revoke_elsewhere(db, raw: str) -> None:
    """What another process does: the row changes, this process's memory is not told."""
    with db.session() as session, session.begin():
        session.execute(
            update(ApiKey).where(ApiKey.key_hash == hash_key(raw)).values(active=False, revoked_at=utcnow())
        )


def test_a_known_key_revoked_elsewhere_fails_with_the_next_request(client, world, db):
    assert client.get("/v1/areas", headers=world.h("reader")).status_code == 200
    assert client.get("/v1/areas", headers=world.h("reader")).status_code == 200  # answered from memory
    _revoke_elsewhere(db, world.keys["reader"])
    r = client.get("/v1/areas", headers=world.h("reader"))
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "revoked_api_key"
    assert client.get("/v1/areas", headers=world.h("admin")).status_code == 200


def test_a_revoked_known_key_is_401_before_what_else_is_wrong(client, world, db):
    assert client.get("/v1/areas", headers=world.h("reader")).status_code == 200
    assert client.get("/v1/demands", params={"limit": 0}, headers=world.h("reader")).status_code == 422
    assert client.post("/v1/api-keys", json={}, headers=world.h("reader")).status_code in (403, 422)
    _revoke_elsewhere(db, world.keys["reader"])
    for r in (
        client.get("/v1/demands", params={"limit": 0}, headers=world.h("reader")),  # a bad parameter
        client.post("/v1/areas", json={"code": "X", "name": "X"}, headers=world.h("reader")),  # admin only
    ):
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "revoked_api_key"


def test_a_read_with_a_known_key_does_its_database_work_in_one_hop(client, world, db):
    demand = client.post("/v1/demands", json=demand_body(world), headers=world.h("admin")).json()
    assert client.get(f"/v1/demands/{demand['id']}", headers=world.h("reader")).status_code == 200
    # Each hop of the thread pool runs in a fresh copy of the request's context: a mark set in
    # one hop is not seen by the next, so the marks seen by the statements count the hops.
    hop: ContextVar[object | None] = ContextVar("hop", default=None)
    seen: list[tuple[str, object]] = []
    engine = get_engine(db.url)

    def _mark(kind: str) -> None:
        if hop.get() is None:
            hop.set(object())
        seen.append((kind, hop.get()))

    def on_execute(*_args) -> None:
        _mark("execute")

    def on_commit(*_args) -> None:
        _mark("commit")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        r = client.get(f"/v1/demands/{demand['id']}", headers=world.h("reader"))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    assert r.status_code == 200, r.text
    assert [kind for kind, _ in seen].count("execute") >= 2  # the key, then the demand
    assert seen[-1][0] == "commit"
    assert len({id(mark) for _, mark in seen}) == 1, seen


def test_every_api_route_that_names_its_caller_is_served_in_one_unit():
    """A router added without ``route_class=UnitOfWorkRoute`` would still work, three hops a request."""
    from fastapi.routing import APIRoute

    from app.api.deps import get_caller
    from app.api.main import ROUTERS
    from app.api.unit_of_work import UnitOfWorkRoute

    def names_caller(dependant) -> bool:
        return any(d.call is get_caller or names_caller(d) for d in dependant.dependencies)

    routes = [r for module in ROUTERS for r in module.router.routes if isinstance(r, APIRoute)]
    with_caller = [r for r in routes if names_caller(r.dependant)]
    assert len(with_caller) > 60
    assert [r.path for r in with_caller if not isinstance(r, UnitOfWorkRoute)] == []
    assert all(r.one_hop for r in with_caller)  # type: ignore[attr-defined] # a UnitOfWorkRoute
