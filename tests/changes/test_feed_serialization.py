"""The feed's fast page writer (raw rows -> JSON bytes) against the response model, on both databases.

``change_page_json`` writes the stored state text into the page as it is and reads rows by
position; these tests pin that it yields the very document ``ChangePage.model_dump_json()``
gives for the same rows (keys in the same order, at every depth), for every kind of event, for
an admin and a liaison page, and that a raw row unpacks in ``RAW_FEED_FIELDS`` order.
"""

from __future__ import annotations

import json
from typing import Any

from app.api.schemas.changes import ChangeOut, ChangePage, change_page_json
from app.domain.enums import Role
from app.models import Demand
from app.services.changes import RAW_FEED_FIELDS, read_changes
from app.services.identity import Caller
from tests.factories import new_assignment, new_demand, new_duty_record, new_run


def _ordered(document: bytes | str) -> Any:
    """The JSON document with every object as its list of (key, value) pairs: equal only if the
    keys come in the same order too."""
    return json.loads(document, object_pairs_hook=list)


def _all_kinds_of_event(db, world) -> None:
    """Created, updated, published and deleted events; a district-level run (area null); text
    with quotes, a backslash, Chinese and line breaks in the state."""
    jw, cw = world.areas["JW"], world.areas["CW"]
    with db.session() as s:
        d1 = new_demand(world.district_id, jw, world.communities["建外社区"], "法律咨询")
        d2 = new_demand(world.district_id, cw, world.communities["朝外社区"], "文艺队教学")
        s.add_all([d1, d2])
        s.commit()
        s.get(Demand, d1.id).description = '居民反映 "楼道" 照明\\n不足\n第二行'
        s.commit()
        run = new_run(world.district_id)
        s.add(run)
        s.commit()
        a = new_assignment(world.district_id, d1, world.members["张伟"], run.id)
        s.add(a)
        s.commit()
        run.status, a.status = "published", "published"
        s.commit()
        duty = new_duty_record(world.district_id, world.members["李娜"], cw)
        s.add(duty)
        s.commit()
        s.delete(duty)
        s.commit()


def _pages(db, caller: Caller, limit: int) -> tuple[bytes, str]:
    """The fast page and the model's page for the same cursor, read in one transaction."""
    with db.session() as s:
        raw = read_changes(s, caller, after="0", limit=limit, raw_state=True)
        decoded = read_changes(s, caller, after="0", limit=limit)
        assert [r.id for r in raw.items] == [r.id for r in decoded.items]
        fast = change_page_json(raw.items, raw.next_cursor)
        model = ChangePage(items=[ChangeOut.of(e) for e in decoded.items], next_cursor=decoded.next_cursor)
    return fast, model.model_dump_json()


def test_fast_page_is_the_model_document_for_every_kind_of_event(db, world):
    _all_kinds_of_event(db, world)
    admin = Caller(api_key_id=0, name="t", role=Role.ADMIN, district_id=world.district_id)
    fast, model = _pages(db, admin, 1000)
    assert _ordered(fast) == _ordered(model)
    page = json.loads(fast)
    kinds = {(e["entity_type"], e["change_kind"]) for e in page["items"]}
    assert {("optimization_run", "published"), ("duty_record", "deleted"), ("demand", "updated")} <= kinds
    assert any(e["area_id"] is None for e in page["items"])  # the run: district-level
    assert any('"楼道"' in str(e["state"].get("description")) for e in page["items"])

    # A short page (its cursor is its last event) and a liaison's page of its own area.
    fast, model = _pages(db, admin, 2)
    assert (
        _ordered(fast) == _ordered(model) and json.loads(fast)["next_cursor"] == json.loads(fast)["items"][1]["cursor"]
    )
    liaison = Caller(
        api_key_id=0, name="t", role=Role.LIAISON, district_id=world.district_id, area_id=world.areas["JW"]
    )
    fast, model = _pages(db, liaison, 1000)
    assert _ordered(fast) == _ordered(model)
    assert {e["area_id"] for e in json.loads(fast)["items"]} == {world.areas["JW"]}


def test_raw_rows_unpack_in_the_order_the_writer_reads(db, world):
    _all_kinds_of_event(db, world)
    admin = Caller(api_key_id=0, name="t", role=Role.ADMIN, district_id=world.district_id)
    with db.session() as s:
        page = read_changes(s, admin, after=None, limit=1000, raw_state=True)
    assert page.items and all(tuple(row._fields) == RAW_FEED_FIELDS for row in page.items)
    first = page.items[0]
    assert isinstance(first.state, str) and json.loads(first.state)["id"] == first.id
    assert type(first.entity_type) is str and type(first.change_kind) is str  # stored values, no enum round trip
