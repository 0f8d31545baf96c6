"""Members as the API shows them (``MemberOut``), read as rows, not ORM objects.

Why: a member's representation spans five tables (the member, its group, home and work areas,
and its skills with the catalogue's names). Through the ORM a list of 100 built about 1,100
identity-mapped objects (about 30 ms); one joined column query for the page and one for the
skills of exactly its members give the same facts as plain dicts. Write paths keep the ORM
objects. ``tests/api/test_read_queries.py`` checks both give the same representation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from app.models import Area, Group, Member, MemberSkill, Skill
from app.services.crud import in_scope, scoped_row
from app.services.identity import Caller
from app.services.pagination import RowSelect, read_rows

_HOME = aliased(Area, name="home")
_WORK = aliased(Area, name="work")
_DOCUMENT_ROWS: RowSelect = (
    select(
        Member.id,
        Member.external_id,
        Member.name,
        Member.sector,
        Member.group_id,
        Group.name.label("group_name"),
        Member.home_area_id,
        _HOME.code.label("home_area"),
        _HOME.name.label("home_area_name"),
        Member.work_area_id,
        _WORK.code.label("work_area"),
        _WORK.name.label("work_area_name"),
        Member.phone,
        Member.email,
        Member.preferred_channel,
        Member.weekly_cap,
        Member.accepts_cross_area,
        Member.max_distance_km,
        Member.blackout_dates,
        Member.weekly_slots,
        Member.active,
        Member.created_at,
        Member.updated_at,
        Member.version,
        Member.district_id,
    )
    .join(_HOME, _HOME.id == Member.home_area_id)
    .outerjoin(_WORK, _WORK.id == Member.work_area_id)
    .outerjoin(Group, Group.id == Member.group_id)
)
_ONE_MEMBER = _DOCUMENT_ROWS.where(Member.id == bindparam("member_id"))
_SKILLS = (
    select(MemberSkill.member_id, Skill.id, Skill.code, Skill.name, Skill.category, MemberSkill.level)
    .join(Skill, Skill.id == MemberSkill.skill_id)
    .where(MemberSkill.member_id.in_(bindparam("ids", expanding=True)))
    .order_by(MemberSkill.member_id, Skill.id)
)


def visible_member_rows(caller: Caller) -> RowSelect:
    """The document columns of the caller's district's members; filters and keyset pagination
    are added to it like to ``select(Member)``."""
    return in_scope(_DOCUMENT_ROWS, caller, district=Member.district_id)


def member_document(session: Session, caller: Caller, *, member_id: int) -> dict[str, Any]:
    """One member's document; 404 outside the caller's district (never 403: no probing)."""
    found = read_rows(session, _ONE_MEMBER, {"member_id": member_id}).first()
    row = scoped_row(found, caller=caller, what="member", obj_id=member_id)
    return member_documents(session, caller, rows=[row])[0]


def member_documents(session: Session, caller: Caller, *, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Documents for rows of ``visible_member_rows``, skills in catalogue order; phone and e-mail
    only for callers who may read them."""
    skills: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        for member_id, skill_id, code, name, category, level in read_rows(
            session, _SKILLS, {"ids": [row.id for row in rows]}
        ).all():
            skills[member_id].append(
                {"skill_id": skill_id, "code": code, "name": name, "category": category, "level": level}
            )
    documents = []
    for row in rows:
        document = row._asdict()
        del document["district_id"]
        document["skills"] = skills.get(row.id, [])
        document["blackout_dates"] = list(row.blackout_dates or [])
        document["weekly_slots"] = list(row.weekly_slots or [])
        if not caller.can_read_phones:
            document["phone"] = document["email"] = None
        documents.append(document)
    return documents
