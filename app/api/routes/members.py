"""/v1/members: the member directory. Admins write; every key reads, phones only for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import AdminDep, CallerDep, SessionDep
from app.api.http import (
    SPREADSHEET_CONTENT,
    FormatQ,
    IdempotencyDep,
    IfMatch,
    idempotent_create,
    json_body,
    negotiate,
    spreadsheet,
    versioned_body,
    with_etag,
)
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr
from app.api.schemas.members import MemberCreate, MemberOut, MemberUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.models import Member
from app.services import exports
from app.services import members as service
from app.services.identity import Caller

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/members", tags=["members"], responses=PROBLEM_RESPONSES)


def _out(member: Member, caller: Caller) -> MemberOut:
    return MemberOut.model_validate(member).for_caller(caller.can_read_phones)


def _render(response: Response, member: Member, caller: Caller) -> MemberOut:
    with_etag(response, member.version)
    return _out(member, caller)


@router.post("", status_code=201, response_model=MemberOut, summary="Create a member (admin)")
def create_member(payload: MemberCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session, caller, idem, lambda: service.create_member(session, caller, payload=payload), MemberOut, "/v1/members"
    )


EXPORT_DOC = """With `Accept: text/csv` (CSV, UTF-8 with BOM) or the XLSX media type, or `format=csv|xlsx`,
the answer is a spreadsheet of every selected row (cursor and limit do not apply) with the
Chinese headers `POST /v1/members:import` reads, so an exported file edited in Excel imports
back: unedited rows stay unchanged, edited cells update those fields. Keys that may not read
phones get no 电话 column."""


@router.get(
    "",
    response_model=Page[MemberOut],
    summary="List members (phones for admins only); CSV/XLSX export",
    description=EXPORT_DOC,
    responses=SPREADSHEET_CONTENT,
)
def list_members(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    area: Annotated[SafeStr | None, Query(min_length=1, max_length=20, description="Home area code, e.g. JW.")] = None,
    group_id: Annotated[DbId | None, Query(description="Working group id.")] = None,
    skill: Annotated[SafeStr | None, Query(description="Skill code, name or synonym.")] = None,
    active: bool | None = None,
    format: FormatQ = None,
):
    where = service.MemberFilter(area=area, group_id=group_id, skill=skill, active=active)

    def fetch(after: str | None, size: int):
        return service.list_members(session, caller, where=where, cursor=after, limit=size)

    fmt = negotiate(request, format)
    if fmt != "json":
        table = exports.members_table(exports.all_rows(fetch), with_phones=caller.can_read_phones)
        body = exports.to_csv_bytes(table) if fmt == "csv" else exports.to_xlsx_bytes(table)
        return spreadsheet(fmt, body, "members")
    page = service.list_member_documents(session, caller, where=where, cursor=cursor, limit=limit)
    return json_body(
        Page[MemberOut](items=[MemberOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor)
    )


@router.get("/{member_id}", response_model=MemberOut, summary="Read a member (phone for admins only)")
def get_member(member_id: DbId, caller: CallerDep, session: SessionDep):
    document = service.read_member(session, caller, member_id=member_id)
    return versioned_body(MemberOut.model_validate(document), document["version"])


@router.patch("/{member_id}", response_model=MemberOut, summary="Update a member (admin; honours If-Match)")
def update_member(
    member_id: DbId,
    payload: MemberUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    member = service.update_member(
        session, caller, member_id=member_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return _render(response, member, caller)


@router.delete("/{member_id}", response_model=MemberOut, summary="Deactivate a member (admin; soft)")
def deactivate_member(member_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    member = service.deactivate_member(session, caller, member_id=member_id, if_match=if_match)
    return _render(response, member, caller)
