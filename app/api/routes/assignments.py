"""Assignments: integrators' pull API and the member actions (accept / decline / complete)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import AdminDep, CallerDep, SessionDep, WriterDep
from app.api.http import (
    SPREADSHEET_CONTENT,
    FormatQ,
    IfMatchOptional,
    json_body,
    negotiate,
    spreadsheet,
    versioned_body,
    with_etag,
)
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.assignments import AssignmentOut, AssignmentStatus, CompleteIn, DeclineIn
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr, ServiceDateTime
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import assignments as service
from app.services import exports

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/assignments", tags=["assignments"], responses=PROBLEM_RESPONSES
)

_LIST_DOC = """Assignments in the caller's district (a liaison key sees only its own area).

By default the **current plan**: statuses published, accepted, completed and declined. Proposals
of runs that were not published (status `proposed`) and superseded rows are listed only when
asked for with `run_id=` or `status=`.

Ordered by id with cursor pagination. `updated_since` is **inclusive** (`updated_at >= value`;
a time without offset is Beijing time, as everywhere in the API) and suits a simple periodic pull, but timestamps cannot
guarantee a gap-free incremental sync (a transaction can commit an older timestamp after
you read). For gap-free incremental sync use the change feed `/v1/changes` and keep its cursor.
`status` may be repeated: `?status=published&status=accepted`.

With `Accept: text/csv` (UTF-8 with BOM) or the XLSX media type, or `format=csv|xlsx`, the
answer is a spreadsheet of every selected row with Chinese headers (cursor and limit do not apply)."""


def _out(response: Response | None, session, caller, assignment) -> AssignmentOut:
    if response is not None:
        with_etag(response, assignment.version)
    return AssignmentOut.of(service.document(session, caller, assignment=assignment))


@router.get(
    "",
    response_model=Page[AssignmentOut],
    summary="List assignments; CSV/XLSX export",
    description=_LIST_DOC,
    responses=SPREADSHEET_CONTENT,
)
def list_assignments(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    run_id: DbId | None = None,
    area: Annotated[SafeStr | None, Query(min_length=1, max_length=20, description="Area code, e.g. JW.")] = None,
    member_id: DbId | None = None,
    demand_id: DbId | None = None,
    status: Annotated[list[AssignmentStatus] | None, Query(description="Repeatable.")] = None,
    updated_since: Annotated[ServiceDateTime | None, Query(description="Inclusive; ISO 8601.")] = None,
    format: FormatQ = None,
):
    where = service.AssignmentFilter(
        run_id=run_id,
        area=area,
        member_id=member_id,
        demand_id=demand_id,
        statuses=status,
        updated_since=updated_since,
    )

    def fetch(after: str | None, size: int):
        return service.list_assignments(session, caller, where=where, cursor=after, limit=size)

    fmt = negotiate(request, format)
    if fmt != "json":
        table = exports.assignments_table(exports.all_rows(fetch), with_phones=caller.can_read_phones)
        body = exports.to_csv_bytes(table) if fmt == "csv" else exports.to_xlsx_bytes(table)
        return spreadsheet(fmt, body, "assignments")
    page = service.list_assignment_documents(session, caller, where=where, cursor=cursor, limit=limit)
    return json_body(AssignmentOut.page(page.items, page.next_cursor))


@router.get("/{assignment_id}", response_model=AssignmentOut, summary="Read an assignment (ETag)")
def get_assignment(assignment_id: DbId, caller: CallerDep, session: SessionDep):
    document = service.read_assignment(session, caller, assignment_id=assignment_id)
    return versioned_body(AssignmentOut.of(document), document["version"])


@router.post(
    "/{assignment_id}/accept",
    response_model=AssignmentOut,
    summary="Accept on the member's behalf (admin; published -> accepted; repeat is a no-op)",
)
def accept(
    assignment_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatchOptional = None
):
    assignment = service.accept(session, caller, assignment_id=assignment_id, if_match=if_match)
    return _out(response, session, caller, assignment)


@router.post(
    "/{assignment_id}/decline",
    response_model=AssignmentOut,
    summary="Decline on the member's behalf (admin; reason required)",
    description="published|accepted -> declined. The pair is never proposed again, and the demand "
    "goes back to `open` when it drops below `min_members`. Repeating with the same "
    "reason is a no-op; with another reason it is 409 `already_declined`.",
)
def decline(
    assignment_id: DbId,
    payload: DeclineIn,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatchOptional = None,
):
    assignment = service.decline(session, caller, assignment_id=assignment_id, reason=payload.reason, if_match=if_match)
    return _out(response, session, caller, assignment)


@router.post(
    "/{assignment_id}/complete",
    response_model=AssignmentOut,
    summary="Record completion (admin, or the liaison of the assignment's area)",
    description="accepted -> completed. Writes the member's `activity` duty record once; a repeat "
    "with the same body returns 200 and writes nothing, a different body is 409 "
    "`already_completed`. When no published/accepted assignment of the demand is left, "
    "the demand becomes `closed`.",
)
def complete(
    assignment_id: DbId,
    payload: CompleteIn,
    response: Response,
    caller: WriterDep,
    session: SessionDep,
    if_match: IfMatchOptional = None,
):
    assignment = service.complete(
        session, caller, assignment_id=assignment_id, data=payload.model_dump(), if_match=if_match
    )
    return _out(response, session, caller, assignment)
