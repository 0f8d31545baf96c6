"""The feed under concurrent writers on PostgreSQL: a reader following the cursor
sees every committed change exactly once, however commits interleave.

Without the advisory lock in ``app.services.changes`` this fails: ids are drawn at
INSERT time, so a later id can commit first and the reader's cursor jumps past an
earlier one that commits a moment later. To make that window wide enough to hit
reliably, the test sleeps a random 0-3 ms right after each change-event INSERT
(inside the writing transaction, before its commit).
"""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import event, select, text

from app.db import get_engine
from app.models import Area, ChangeEvent, Community, Demand
from app.services.changes import read_changes
from app.services.districts import ensure_district
from app.services.identity import Caller
from tests.factories import new_demand

WRITERS = 8
TRANSACTIONS = 30  # per writer: creates, then updates of the writer's own demands


def _place(s):
    """One district, area and community to write demands into (flushed, not committed)."""
    district = ensure_district(s, code="chaoyang", name="朝阳区")
    area = Area(district_id=district.id, code="JW", name="建外街道", kind="street")
    s.add(area)
    s.flush()
    community = Community(district_id=district.id, area_id=area.id, name="建外社区")
    s.add(community)
    s.flush()
    return district, area, community


def test_concurrent_writers_and_a_following_reader_see_no_gap_and_no_duplicate(pg_db):
    with pg_db.session() as s:
        district, area, community = _place(s)
        s.commit()
        ids = (district.id, area.id, community.id)
    caller = Caller(api_key_id=0, name="integrator", role="reader", district_id=ids[0])

    engine = get_engine(pg_db.url)

    def _jitter(conn, cursor, statement, params, context, executemany):
        if statement.startswith("INSERT INTO change_events"):
            time.sleep(random.uniform(0, 0.003))

    event.listen(engine, "after_cursor_execute", _jitter)
    committed = [0] * WRITERS
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(n: int) -> None:
        try:
            mine = []
            for i in range(TRANSACTIONS):
                with pg_db.session() as s:
                    if i < TRANSACTIONS // 3 or not mine:
                        d = new_demand(*ids, title=f"需求 {n}-{i}")
                        s.add(d)
                        s.commit()
                        mine.append(d.id)
                    else:
                        d = s.get(type(new_demand(*ids)), random.choice(mine))
                        d.priority = 1 + (d.priority % 5)
                        s.commit()
                committed[n] += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    seen: list[int] = []

    def reader() -> None:
        cursor = "0"
        try:
            while True:
                finished = done.is_set()  # read once more after the writers are done
                with pg_db.session() as s:
                    page = read_changes(s, caller, after=cursor, limit=25)
                seen.extend(e.id for e in page.items)
                cursor = page.next_cursor
                if finished and not page.items:
                    return
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        follower = threading.Thread(target=reader)
        follower.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        follower.join()
    finally:
        event.remove(engine, "after_cursor_execute", _jitter)
    assert not errors, errors
    with pg_db.session() as s:
        stored = list(s.scalars(select(ChangeEvent.id).order_by(ChangeEvent.id)))
    assert sum(committed) == WRITERS * TRANSACTIONS == len(stored)
    assert len(seen) == len(set(seen)), "the reader saw an event twice"
    missing = sorted(set(stored) - set(seen))
    assert not missing, f"the reader skipped {len(missing)} committed events, e.g. {missing[:5]}"
    assert seen == stored


def test_writing_events_never_waits_on_a_locked_district_row(pg_db):
    """A run publish locks its district row (FOR UPDATE) and then needs the feed lock to
    commit. If writing an event took a share lock on that row (a foreign key check),
    a demand update holding the feed lock would wait for the publish: a deadlock."""
    with pg_db.session() as s:
        district, area, community = _place(s)
        demand = new_demand(district.id, area.id, community.id)
        s.add(demand)
        s.commit()
        district_id, demand_id = district.id, demand.id
    with get_engine(pg_db.url).connect() as publisher:
        publisher.execute(text("SELECT id FROM districts WHERE id = :d FOR UPDATE"), {"d": district_id})
        with pg_db.session() as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail this commit
            s.get(Demand, demand_id).priority = 5
            s.commit()
        publisher.rollback()
    with pg_db.session() as s:
        kinds = [e.change_kind for e in s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))]
    assert kinds == ["created", "updated"]
