from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder

from app.api.deps import AdminDep, CallerDep, SessionDep, SettingsDep
from app.api.http import IdempotencyDep, stored_response, with_etag
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr
from app.api.schemas.runs import PublishOut, RunCreate, RunOut, RunStatus, UnmetOut
from app.api.unit_of_work import UnitOfWorkRoute
from app.services.idempotency import run_idempotent
from app.services.runs import service
from app.services.runs.executor import get_executor
from app.services.runs.publish import publish_run

log = logging.getLogger("app.runs")
router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/optimization-runs", tags=["optimization runs"], responses=PROBLEM_RESPONSES
)


def _out(session, run) -> RunOut:
    return RunOut.model_validate(service.run_view(session, run=run))


@router.post(
    "",
    status_code=202,
    response_model=RunOut,
    summary="Start an optimization run for a window (admin); runs in the background",
)
def create_run(payload: RunCreate, caller: AdminDep, session: SessionDep, settings: SettingsDep, idem: IdempotencyDep):
    executor = get_executor(settings)

    def _create():
        run = service.create_run(
            session,
            caller,
            data=payload.model_dump(exclude_unset=False),
            executor=executor,
            default_time_limit_s=settings.solver_time_limit_s,
        )
        session.flush()
        body = jsonable_encoder(_out(session, run))
        return 202, body, {"ETag": f'"v{run.version}"', "Location": f"/v1/optimization-runs/{run.id}"}

    return stored_response(run_idempotent(session, caller, idem=idem, create=_create))


@router.get("", response_model=Page[RunOut], summary="List runs (filters: status, week)")
def list_runs(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    status: Annotated[RunStatus | None, Query()] = None,
    week: Annotated[SafeStr | None, Query(description="ISO week, e.g. 2026-W48")] = None,
):
    page = service.list_runs(session, caller, status=status, week=week, cursor=cursor, limit=limit)
    return Page[RunOut](items=[_out(session, r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{run_id}", response_model=RunOut, summary="Status, progress, figures of a run and both baselines")
def get_run(run_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    run = service.get_run(session, caller, run_id=run_id)
    with_etag(response, run.version)
    return _out(session, run)


@router.get(
    "/{run_id}/unmet",
    response_model=Page[UnmetOut],
    summary="Demands the run could not cover, with the reason (plain Chinese)",
)
def list_unmet(run_id: DbId, caller: CallerDep, session: SessionDep, cursor: CursorQ = None, limit: LimitQ = 50):
    page = service.list_unmet(session, caller, run_id=run_id, cursor=cursor, limit=limit)
    return Page[UnmetOut](items=[UnmetOut.model_validate(u) for u in page.items], next_cursor=page.next_cursor)


@router.post(
    "/{run_id}/cancel",
    status_code=202,
    response_model=RunOut,
    summary="Cancel a run (admin); a running solve stops within a second or two and keeps its best plan",
)
def cancel_run(run_id: DbId, response: Response, caller: AdminDep, session: SessionDep):
    run = service.cancel_run(session, caller, run_id=run_id)
    session.refresh(run)
    with_etag(response, run.version)
    return _out(session, run)


@router.post(
    "/{run_id}/publish",
    response_model=PublishOut,
    summary="Make the run's proposals the current plan (admin; one transaction)",
)
def publish(run_id: DbId, response: Response, caller: AdminDep, session: SessionDep):
    run, summary = publish_run(session, caller, run_id=run_id)
    with_etag(response, run.version)
    return PublishOut(
        run=_out(session, run),
        **{k: summary.get(k, 0) for k in ("published", "superseded", "skipped", "demands_assigned", "demands_open")},
    )
