"""``matcher demo`` replaces only an empty or demo-only database unless --reset (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from app.demo.load import DemoRefused, check_target
from app.services.districts import ensure_district


def test_refuses_a_database_with_another_district(db):
    check_target(db.url)  # migrated but empty: fine
    with db.session() as s:
        ensure_district(s, code="haidian", name="海淀区")
        s.commit()
    with pytest.raises(DemoRefused, match="haidian") as exc:
        check_target(db.url)
    assert "--reset" in str(exc.value)
    check_target(db.url, reset_postgresql=True)  # --reset allows it


def test_refuses_a_demo_changed_through_the_api(db):
    from sqlalchemy import insert

    from app.models import AuditEvent

    with db.session() as s:
        ensure_district(s, code="chaoyang", name="朝阳区")
        s.commit()
    check_target(db.url)  # only the demo's own district
    with db.session() as s:
        s.execute(
            insert(AuditEvent),
            [{"actor_kind": "api_key", "actor_label": "x", "action": "created", "entity": "demands", "changes": {}}],
        )
        s.commit()
    with pytest.raises(DemoRefused, match="API"):
        check_target(db.url)


def test_sqlite_demo_twice_is_fine(tmp_path):
    from app.demo.load import load_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    load_demo(url, 7, date(2026, 11, 30))
    load_demo(url, 7, date(2026, 11, 30))
