"""/v1/demands: needs raised by residents (民需).

Admins write every demand of the district; a liaison key writes and reads only
demands of communities in its own area (anything else is 404, not 403); reader
keys read everything of the district. DELETE cancels (status=cancelled).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import CallerDep, SessionDep, WriterDep
from app.api.http import (
    SPREADSHEET_CONTENT,
    FormatQ,
    IdempotencyDep,
    IfMatch,
    idempotent_create,
    json_body,
    negotiate,
    render,
    spreadsheet,
    versioned_body,
)
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr, ServiceDateTime
from app.api.schemas.demands import DemandCreate, DemandOut, DemandStatus, DemandUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import demands as service
from app.services import exports

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/demands", tags=["demands"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=DemandOut, summary="Create a demand (admin, or liaison of its area)")
def create_demand(payload: DemandCreate, caller: WriterDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session, caller, idem, lambda: service.create_demand(session, caller, payload=payload), DemandOut, "/v1/demands"
    )


EXPORT_DOC = """With `Accept: text/csv` (CSV, UTF-8 with BOM) or the XLSX media type, or `format=csv|xlsx`,
the answer is a spreadsheet of every selected row (cursor and limit do not apply) with the
Chinese headers `POST /v1/demands:import` reads (plus 状态, ignored on import): rows with an
编号 (external_id) import back onto the same demands."""


@router.get(
    "",
    response_model=Page[DemandOut],
    summary="List demands (a liaison sees its area only); CSV/XLSX export",
    description=EXPORT_DOC,
    responses=SPREADSHEET_CONTENT,
)
def list_demands(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    area: Annotated[SafeStr | None, Query(min_length=1, max_length=20, description="Area code, e.g. LGY.")] = None,
    community_id: Annotated[DbId | None, Query(description="Community id.")] = None,
    status: Annotated[DemandStatus | None, Query(description="open | assigned | closed | cancelled")] = None,
    priority: Annotated[int | None, Query(ge=1, le=5, description="Exact priority 1..5.")] = None,
    starts_after: Annotated[
        ServiceDateTime | None, Query(description="starts_at >= this (no offset = Beijing time).")
    ] = None,
    starts_before: Annotated[
        ServiceDateTime | None, Query(description="starts_at < this (no offset = Beijing time).")
    ] = None,
    format: FormatQ = None,
):
    where = service.DemandFilter(
        area=area,
        community_id=community_id,
        status=status,
        priority=priority,
        starts_after=starts_after,
        starts_before=starts_before,
    )

    def fetch(after: str | None, size: int):
        return service.list_demands(session, caller, where=where, cursor=after, limit=size)

    fmt = negotiate(request, format)
    if fmt != "json":
        table = exports.demands_table(exports.all_rows(fetch))
        body = exports.to_csv_bytes(table) if fmt == "csv" else exports.to_xlsx_bytes(table)
        return spreadsheet(fmt, body, "demands")
    page = service.list_demand_documents(session, caller, where=where, cursor=cursor, limit=limit)
    return json_body(DemandOut.page(page.items, page.next_cursor))


@router.get("/{demand_id}", response_model=DemandOut, summary="Read a demand")
def get_demand(demand_id: DbId, caller: CallerDep, session: SessionDep):
    document = service.read_demand(session, caller, demand_id=demand_id)
    return versioned_body(DemandOut.model_validate(document), document["version"])


@router.patch("/{demand_id}", response_model=DemandOut, summary="Update a demand (honours If-Match)")
def update_demand(
    demand_id: DbId,
    payload: DemandUpdate,
    response: Response,
    caller: WriterDep,
    session: SessionDep,
    if_match: IfMatch,
):
    demand = service.update_demand(
        session, caller, demand_id=demand_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, demand, DemandOut)


@router.delete("/{demand_id}", response_model=DemandOut, summary="Cancel a demand (status=cancelled)")
def cancel_demand(demand_id: DbId, response: Response, caller: WriterDep, session: SessionDep, if_match: IfMatch):
    demand = service.cancel_demand(session, caller, demand_id=demand_id, if_match=if_match)
    return render(response, demand, DemandOut)
