"""Bulk UPDATE/DELETE statements bypass the flush; ``audited_update`` / ``audited_delete`` record
them in the same transaction. Publishing (ORM) and cancelling a queued run (bulk) both leave rows;
a run the service picks up and stores (bulk status updates, deletes of old proposals) too."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.domain.enums import ActorKind, AuditAction, Role
from app.models import AuditEvent, Demand, OptimizationRun, WebhookDelivery
from app.services.audit import SKIPPED_TABLES, Actor, acting, audited_delete, audited_update, set_actor
from app.services.identity import Caller
from app.services.runs.service import cancel_run
from tests.factories import WEEK, WEEK_START, add_demand
from tests.notifications.conftest import stored_plan
from tests.support import app_for

APP = Path(__file__).resolve().parents[2] / "app"
# Bulk statements left outside the helpers: only bookkeeping columns or skipped tables change.
UNAUDITED_BULK = {
    "services/api_keys.py": "last_used_at only (a volatile field)",
    "services/webhooks.py": "deliveries (skipped table) and the webhook's change cursor",
    "services/runs/execute.py": "the solve's heartbeat and progress (volatile fields, bare connection)",
    "services/audit.py": "the helpers themselves",
}


def _rows(db, entity: str, entity_id: int) -> list[AuditEvent]:
    with db.session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
                .order_by(AuditEvent.id)
            )
        )


def test_publishing_a_run_audits_every_assignment_it_changed(db, world, settings):
    with TestClient(app_for(settings)) as http:
        plan = stored_plan(db, world, http)
    assert len(plan.assignments) == 2
    for assignment_id in plan.assignments.values():
        published = [e for e in _rows(db, "assignments", assignment_id) if e.action == AuditAction.UPDATED]
        assert [e.changes["status"] for e in published] == [["proposed", "published"]]
        assert published[0].actor_kind == ActorKind.API_KEY and published[0].actor_role == "admin"
    (run_event,) = [e for e in _rows(db, "optimization_runs", plan.run_id) if e.action == AuditAction.UPDATED]
    assert run_event.changes["status"] == ["succeeded", "published"]


def test_cancelling_a_queued_run_is_a_bulk_update_with_its_audit_row(db, world):
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            week=WEEK,
            status="queued",
        )
        s.add(run)
        s.commit()
        run_id = run.id
    caller = Caller(api_key_id=7, name="test admin", role=Role.ADMIN, district_id=world.district_id)
    with db.session() as s:
        set_actor(s, actor=Actor.for_caller(caller, request_id="bulk-1"))
        assert cancel_run(s, caller, run_id=run_id).status == "cancelled"
        s.commit()
    (event,) = [e for e in _rows(db, "optimization_runs", run_id) if e.request_id == "bulk-1"]
    assert event.action == AuditAction.UPDATED and event.actor_kind == ActorKind.API_KEY
    assert event.changes["status"] == [None, "cancelled"] and event.changes["cancel_requested"] == [None, True]
    assert "version" not in event.changes and event.district_id == world.district_id


def test_helpers_record_in_the_same_transaction_and_skip_what_a_flush_skips(db, world):
    demand_id = add_demand(db, world, title="批量改写的民需")
    actor = Actor(ActorKind.CLI, "matcher test")
    with acting(actor), db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
        assert audited_update(s, Demand, Demand.id == demand_id, values={"priority": 5}) == [demand_id]
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before  # gone with the change
        assert audited_update(s, Demand, Demand.id == demand_id, values={"version": Demand.version + 1}) == [demand_id]
        assert audited_update(s, Demand, Demand.id == -1, values={"priority": 1}) == []
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before  # volatile only, or no row
        assert "webhook_deliveries" in SKIPPED_TABLES
        assert audited_delete(s, WebhookDelivery, WebhookDelivery.id == -1) == []
        audited_update(s, Demand, Demand.id == demand_id, values={"priority": 2, "title": "改过的民需"})
        s.commit()
    (event,) = [e for e in _rows(db, "demands", demand_id) if e.actor_label == "matcher test"]
    assert event.changes == {"priority": [None, 2], "title": [None, "改过的民需"]}
    assert event.district_id == world.district_id


def test_delete_records_the_row_as_it_was(db, world):
    demand_id = add_demand(db, world, title="将被删除的民需", skills=())
    with db.session() as s:
        assert audited_delete(s, Demand, Demand.id == demand_id) == [demand_id]
        s.commit()
    (event,) = [e for e in _rows(db, "demands", demand_id) if e.action == AuditAction.DELETED]
    assert event.changes["title"] == ["将被删除的民需", None] and "updated_at" not in event.changes


def _bulk_callers(path: Path) -> bool:
    """The module imports SQLAlchemy's ``update`` or ``delete`` (a bulk statement, not the ORM)."""
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "sqlalchemy"
        and bool({a.name for a in node.names} & {"update", "delete"})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_no_service_issues_an_unaudited_bulk_statement():
    offenders = [
        str(p.relative_to(APP))
        for p in APP.rglob("*.py")
        if str(p.relative_to(APP)) not in UNAUDITED_BULK and _bulk_callers(p)
    ]
    assert offenders == [], f"use app.services.audit.audited_update/audited_delete in {offenders}"
