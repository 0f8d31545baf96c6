"""Assignments as the API shows them (``AssignmentOut``), read as rows, not ORM objects.

Why: an assignment's representation spans five tables (the assignment, its demand with the
demand's community and area, its member, and the activity record of a completed one). Through the
ORM a list of 100 built about 500 identity-mapped objects and took about 25 ms; one joined column
query gives the same facts as plain dicts. Write paths keep the ORM objects and turn them into the
same document with ``document_of`` (one shape, two sources: ``tests/api/test_read_queries.py``
compares them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, and_, bindparam, cast, select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus
from app.models import Area, Assignment, Community, Demand, DutyRecord, Member
from app.services.crud import in_scope, scoped_row
from app.services.identity import Caller
from app.services.pagination import RowSelect, as_stored, read_rows, row_dicts

_OWN_COLUMNS = (
    "id",
    "run_id",
    "demand_id",
    "area_id",
    "member_id",
    "status",
    "score",
    "explanation",
    "explanation_text",
    "decline_reason",
    "response_method",
    "outcome",
    "satisfaction",
    "accepted_at",
    "declined_at",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
)


def _document_column(name: str) -> Any:
    """The explanation as its stored JSON text (``AssignmentOut.page`` parses a page's in one
    call; psycopg would decode each with ``json.loads``), every other column ``as_stored``."""
    if name == "explanation":
        return cast(Assignment.explanation, Text).label(name)
    return as_stored(getattr(Assignment, name))


_DOCUMENT_ROWS: RowSelect = (
    select(
        *(_document_column(name) for name in _OWN_COLUMNS),
        Demand.title.label("demand_title"),
        Area.code.label("area_code"),
        Demand.community_id,
        Community.name.label("community_name"),
        Member.name.label("member_name"),
        Member.phone.label("member_phone"),
        DutyRecord.date.label("completed_on"),
        DutyRecord.id.label("duty_record_id"),
        Assignment.district_id,
    )
    .join(Demand, Demand.id == Assignment.demand_id)
    .join(Community, Community.id == Demand.community_id)
    .join(Area, Area.id == Demand.area_id)
    .join(Member, Member.id == Assignment.member_id)
    .outerjoin(
        DutyRecord,
        and_(DutyRecord.assignment_id == Assignment.id, Assignment.status == AssignmentStatus.COMPLETED),
    )
)


_ONE_ASSIGNMENT = _DOCUMENT_ROWS.where(Assignment.id == bindparam("assignment_id"))


def assignment_document(session: Session, caller: Caller, *, assignment_id: int) -> dict[str, Any]:
    """One assignment's document; 404 when the caller may not see it (never 403: no probing)."""
    found = read_rows(session, _ONE_ASSIGNMENT, {"assignment_id": assignment_id}).first()
    row = scoped_row(found, caller=caller, what="assignment", obj_id=assignment_id, area_attr="area_id")
    return assignment_documents(caller, rows=[row])[0]


def visible_assignment_rows(caller: Caller) -> RowSelect:
    """The document columns of the assignments ``caller`` may see (its district; a liaison's
    area). Filters and keyset pagination are added to it like to ``select(Assignment)``."""
    return in_scope(_DOCUMENT_ROWS, caller, district=Assignment.district_id, area=Assignment.area_id)


def assignment_documents(caller: Caller, *, rows: list[Any]) -> list[dict[str, Any]]:
    """Documents for rows of ``visible_assignment_rows``; phones only for callers who may read them."""
    documents = row_dicts(rows)
    for document in documents:
        del document["district_id"]
        if not caller.can_read_phones:
            document["member_phone"] = None
    return documents


def document_of(assignment: Assignment, duty_record: DutyRecord | None, *, show_phone: bool) -> dict[str, Any]:
    """The same document from the ORM objects (responses to writes, which hold them already)."""
    document = {name: getattr(assignment, name) for name in _OWN_COLUMNS}
    demand, member = assignment.demand, assignment.member
    document.update(
        demand_title=demand.title,
        area_code=demand.area.code,
        community_id=demand.community_id,
        community_name=demand.community.name,
        member_name=member.name,
        member_phone=member.phone if show_phone else None,
        completed_on=duty_record.date if duty_record else None,
        duty_record_id=duty_record.id if duty_record else None,
    )
    return document
