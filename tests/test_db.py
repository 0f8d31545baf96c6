"""SQLite writers of one process take turns (app.db): none fails, none keeps the turn."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app.db import _WRITE_LOCKS, get_engine


def test_sqlite_writers_take_turns_and_release_them(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER)"))
    errors: list[BaseException] = []

    def writer(who: int) -> None:
        try:
            for _ in range(15):
                with engine.begin() as conn:
                    conn.execute(text("SELECT count(*) FROM t")).scalar()
                    conn.execute(text("INSERT INTO t (who) VALUES (:w)"), {"w": who})
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert not _WRITE_LOCKS[engine].locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 90
        conn.execute(text("INSERT INTO t (who) VALUES (99)"))
        assert _WRITE_LOCKS[engine].locked()  # an open write transaction holds the turn
        conn.rollback()
    assert not _WRITE_LOCKS[engine].locked()  # ... and a rollback gives it back
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t WHERE who = 99")).scalar() == 0
