"""Demands as the API shows them (``DemandOut``), read as rows, not ORM objects.

Why: a demand's representation spans four tables (the demand, its community and area, its
skills and its conflict-of-interest list). Loading it through the ORM builds an identity-mapped
object per row plus two select-in loads per page, which made a single read about 3 ms and a list
of 100 about 20 ms, most of it object bookkeeping the response never uses. Here one joined
column query reads the page and one more the skills and exclusions of exactly its demands,
giving plain dicts that ``DemandOut`` takes as they are. Write paths keep the ORM objects.

The document is the same whichever way it is read (``tests/api/test_read_queries.py``,
``test_demand_documents_match_the_response_model_built_from_the_object`` compares it with
``DemandOut`` built from the ORM object).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from app.domain.times import from_storage
from app.models import Area, Community, Demand, Skill
from app.models.demand import demand_exclusions, demand_skills
from app.services.crud import in_scope, scoped_row
from app.services.identity import Caller
from app.services.pagination import IdsMatch, RowSelect, as_stored, for_page_ids, read_rows, row_dicts

_COLUMNS = (
    Demand.id,
    Demand.external_id,
    Demand.community_id,
    Community.name.label("community_name"),
    Demand.area_id,
    Area.code.label("area"),
    Area.name.label("area_name"),
    Demand.title,
    Demand.description,
    as_stored(Demand.channel),
    Demand.priority,
    Demand.min_members,
    Demand.max_members,
    as_stored(Demand.starts_at),
    as_stored(Demand.ends_at),
    as_stored(Demand.status),
    Demand.created_by,
    as_stored(Demand.created_at),
    as_stored(Demand.updated_at),
    Demand.version,
)


_DOCUMENT_ROWS: RowSelect = (
    select(*_COLUMNS, Demand.district_id)
    .join(Community, Community.id == Demand.community_id)
    .join(Area, Area.id == Demand.area_id)
)
# Built once (building a statement costs more than running these small queries).
_ONE_DEMAND = _DOCUMENT_ROWS.where(Demand.id == bindparam("demand_id"))
#: A page's skills (kind 0, in catalogue order) and excluded members (kind 1, ascending) in one
#: query: one round trip fewer per demand read on PostgreSQL.
_SKILL, _EXCLUSION = 0, 1


def _skills_and_exclusions(of_page: IdsMatch) -> RowSelect:
    skills = (
        select(
            demand_skills.c.demand_id,
            literal_column(str(_SKILL), Integer).label("kind"),
            Skill.id.label("sort_key"),
            Skill.code,
            Skill.name,
        )
        .join(Skill, Skill.id == demand_skills.c.skill_id)
        .where(of_page(demand_skills.c.demand_id))
    )
    exclusions = select(
        demand_exclusions.c.demand_id,
        literal_column(str(_EXCLUSION), Integer),
        demand_exclusions.c.member_id,
        null(),
        null(),
    ).where(of_page(demand_exclusions.c.demand_id))
    both = union_all(skills, exclusions)
    return select(both.subquery()).order_by(literal_column("kind"), literal_column("sort_key"))


_SKILLS_AND_EXCLUSIONS = for_page_ids(_skills_and_exclusions)


def visible_demand_rows(caller: Caller) -> RowSelect:
    """The document columns of the demands ``caller`` may see (its district; a liaison's area).
    Filters and keyset pagination are added to it like to ``select(Demand)``."""
    return in_scope(_DOCUMENT_ROWS, caller, district=Demand.district_id, area=Demand.area_id)


def demand_document(session: Session, caller: Caller, *, demand_id: int) -> dict[str, Any]:
    """One demand's document; 404 when the caller may not see it (never 403: no probing)."""
    found = read_rows(session, _ONE_DEMAND, {"demand_id": demand_id}).first()
    row = scoped_row(found, caller=caller, what="demand", obj_id=demand_id, area_attr="area_id")
    return demand_documents(session, rows=[row])[0]


def demand_documents(session: Session, *, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Documents for rows of ``visible_demand_rows``, in their order, with their skills (in
    catalogue order) and excluded member ids (ascending)."""
    ids = [row.id for row in rows]
    skills: dict[int, list[dict[str, str]]] = defaultdict(list)
    excluded: dict[int, list[int]] = defaultdict(list)
    if ids:
        for demand_id, kind, key, code, name in read_rows(
            session, _SKILLS_AND_EXCLUSIONS.statement(session), {"ids": ids}
        ).all():
            if kind == _SKILL:
                skills[demand_id].append({"code": code, "name": name})
            else:
                excluded[demand_id].append(key)
    documents = []
    for document in row_dicts(rows):
        document.pop("district_id")
        document["starts_at"] = from_storage(document["starts_at"])
        document["ends_at"] = from_storage(document["ends_at"])
        document["required_skills"] = skills.get(document["id"], [])
        document["excluded_member_ids"] = excluded.get(document["id"], [])
        documents.append(document)
    return documents
