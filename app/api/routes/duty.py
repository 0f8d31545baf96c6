"""Annual duty records (履职记录) and the per-member summary for a year."""

from __future__ import annotations

from datetime import date as date_type
from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.convertors import Convertor, register_url_convertor

from app.api.deps import AdminDep, CallerDep, SessionDep, WriterDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr
from app.api.schemas.duty import (
    DutyKind,
    DutyRecordCreate,
    DutyRecordOut,
    DutyRecordUpdate,
    DutySummary,
    DutySummaryMember,
)
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import duty as service


class _IdConvertor(Convertor[str]):
    """Path ids are digits (a sign too, so -1 is a 422 naming the id, not a 404): then
    ``/summary`` is not an id, and PATCH /v1/duty-records/summary is 405, as the OpenAPI says."""

    regex = "-?[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("id", _IdConvertor())

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/duty-records", tags=["duty-records"], responses=PROBLEM_RESPONSES
)

YearQ = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year of the record date.")]


@router.post(
    "",
    status_code=201,
    response_model=DutyRecordOut,
    summary="Record a suggestion, information report or activity (admin; liaison for its area)",
)
def create_record(payload: DutyRecordCreate, caller: WriterDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_record(session, caller, data=payload.model_dump()),
        DutyRecordOut,
        "/v1/duty-records",
    )


@router.get("", response_model=Page[DutyRecordOut], summary="List duty records (liaison: its own area)")
def list_records(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    member_id: DbId | None = None,
    kind: DutyKind | None = None,
    year: YearQ = None,
    area: Annotated[SafeStr | None, Query(min_length=1, max_length=20, description="Area code of the record.")] = None,
    group_id: DbId | None = None,
):
    page = service.list_records(
        session,
        caller,
        member_id=member_id,
        kind=kind,
        year=year,
        area=area,
        group_id=group_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[DutyRecordOut](
        items=[DutyRecordOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/summary",
    response_model=DutySummary,
    summary="Annual duty per member: counts per kind and whether the duty is met",
    description="Members are selected by home area (`area`, forced to its own area for a liaison key) "
    "and/or `group_id`; their records count wherever they were made.",
)
def summary(
    caller: CallerDep,
    session: SessionDep,
    year: YearQ = None,
    area: Annotated[
        SafeStr | None, Query(min_length=1, max_length=20, description="Home area code of the members.")
    ] = None,
    group_id: DbId | None = None,
):
    year = year or date_type.today().year
    rows = service.summary_for(session, caller, year=year, area=area, group_id=group_id)
    items = [
        DutySummaryMember(
            member_id=r.member_id,
            name=r.name,
            group_id=r.group_id,
            home_area_id=r.home_area_id,
            counts=r.counts,
            met=r.met,
            missing=r.missing,
        )
        for r in rows
    ]
    return DutySummary(year=year, members=len(items), met=sum(i.met for i in items), items=items)


@router.get("/{record_id:id}", response_model=DutyRecordOut, summary="Read a duty record (ETag)")
def get_record(record_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    return render(response, service.get_record(session, caller, record_id=record_id), DutyRecordOut)


@router.patch(
    "/{record_id:id}",
    response_model=DutyRecordOut,
    summary="Correct a duty record (admin; liaison for its area; honours If-Match)",
)
def update_record(
    record_id: DbId,
    payload: DutyRecordUpdate,
    response: Response,
    caller: WriterDep,
    session: SessionDep,
    if_match: IfMatch,
):
    record = service.update_record(
        session, caller, record_id=record_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, record, DutyRecordOut)


@router.delete(
    "/{record_id:id}", status_code=204, summary="Delete a duty record (admin; hard delete; honours If-Match)"
)
def delete_record(record_id: DbId, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    service.delete_record(session, caller, record_id=record_id, if_match=if_match)
    return Response(status_code=204)
