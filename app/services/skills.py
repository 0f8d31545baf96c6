"""The skill catalogue (专业特长 / 兴趣爱好 / 资源状况) and synonym resolution.

Members and demands name skills the way people write them ("律师", "法律咨询",
"LAW "); ``resolve_skills`` is the one place that turns those words into
canonical catalogue entries, so the API, the bulk importer and the solver all
agree on what a word means. Because any code, name or synonym resolves, the
catalogue refuses a new token that already resolves to a different skill:
otherwise one word could mean two skills.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, invalid, msg
from app.models import Skill
from app.services.crud import check_if_match, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate
from app.services.reference_memo import memo


def normalize_token(token: str) -> str:
    """Case-insensitive, trimmed (incl. full-width spaces) form used for every comparison."""
    return str(token).strip().casefold()


def _tokens_of(skill: Skill) -> list[tuple[str, str]]:
    """(field, normalized token) pairs a skill answers to."""
    out = [("code", normalize_token(skill.code)), ("name", normalize_token(skill.name))]
    out += [("synonyms", normalize_token(s)) for s in (skill.synonyms or [])]
    return [(f, t) for f, t in out if t]


def _catalogue(session: Session, district_id: int) -> list[Skill]:
    return list(session.scalars(select(Skill).where(Skill.district_id == district_id).order_by(Skill.id)))


def token_index(session: Session, *, district_id: int) -> dict[str, Skill]:
    """Normalized code/name/synonym -> skill, for the whole district catalogue (read once per
    transaction, see ``reference_memo``; callers must not change the dict)."""
    return memo(session, key=("skill_tokens", district_id), load=lambda: _token_index(session, district_id))


def _token_index(session: Session, district_id: int) -> dict[str, Skill]:
    """Normalized code/name/synonym -> skill, for the whole district catalogue.

    Codes win over names and names over synonyms should legacy data ever hold a clash.
    """
    skills = _catalogue(session, district_id)
    index: dict[str, Skill] = {}
    for rank in ("synonyms", "name", "code"):  # later ranks overwrite earlier ones
        for skill in reversed(skills):  # lower ids win within a rank
            for field, token in _tokens_of(skill):
                if field == rank:
                    index[token] = skill
    return index


def skill_for_filter(session: Session, *, district_id: int, token: str) -> Skill:
    """The skill a list filter names (code, name or synonym, as the catalogue matches them); an
    unknown one is a 422 on ``skill``. One rule for the API's member list and the console's
    demand table."""
    found = token_index(session, district_id=district_id).get(normalize_token(token))
    if found is None:
        raise invalid("skill", msg("unknown_skill", skill=token), "unknown_skill")
    return found


def resolve_skills(session: Session, *, district_id: int, tokens: list[str], field: str) -> list[Skill]:
    """Resolve codes, names or synonyms (case-insensitive, trimmed) to canonical skills.

    Returns the skills in the order first mentioned, without duplicates. Unknown or
    deactivated skills raise one 422 listing every offending token under ``field``.
    """
    if not tokens:
        return []  # most demands name no skills: no need to read the catalogue for them
    index = token_index(session, district_id=district_id)
    found: list[Skill] = []
    errors = []
    for raw in tokens:
        skill = index.get(normalize_token(raw))
        if skill is None:
            errors.append(field_error(field, msg("unknown_skill_token", skill=raw), "unknown_skill"))
        elif not skill.active:
            errors.append(field_error(field, msg("inactive_skill", code=skill.code), "inactive_skill"))
        elif skill not in found:
            found.append(skill)
    if errors:
        detail = msg("field_invalid", field=field, message=[e.text for e in errors])
        raise Problem(422, "validation_error", detail, errors=errors)
    return found


def _clean_synonyms(synonyms: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for s in synonyms:
        s = str(s).strip()
        if s and normalize_token(s) not in seen:
            seen.add(normalize_token(s))
            out.append(s)
    return out


def _check_tokens_free(session: Session, district_id: int, candidate: Skill, exclude_id: int | None) -> None:
    """409 when a code/name/synonym of ``candidate`` already resolves to another skill."""
    taken: dict[str, Skill] = {}
    for other in _catalogue(session, district_id):
        if other.id != exclude_id:
            for _, token in _tokens_of(other):
                taken.setdefault(token, other)
    errors = []
    for field, token in _tokens_of(candidate):
        holder = taken.get(token)
        if holder is not None:
            errors.append(field_error(field, msg("skill_token_taken", token=token, code=holder.code), "duplicate"))
    if errors:
        detail = [msg("field_invalid", field=e["field"], message=e.text) for e in errors]
        raise Problem(409, "skill_token_taken", msg("literal", text=detail), errors=errors)


def create_skill(session: Session, caller: Caller, *, data: dict[str, Any]) -> Skill:
    data = {**data, "synonyms": _clean_synonyms(data.get("synonyms") or [])}
    skill = Skill(district_id=caller.district_id, **data)
    _check_tokens_free(session, caller.district_id, skill, exclude_id=None)
    session.add(skill)
    session.flush()
    return skill


def get_skill(session: Session, caller: Caller, *, skill_id: int) -> Skill:
    return get_scoped(session, model=Skill, obj_id=skill_id, caller=caller, what="skill")


def list_skills(
    session: Session, caller: Caller, *, category: str | None, active: bool | None, cursor: str | None, limit: int
) -> Page[Skill]:
    stmt = select(Skill).where(Skill.district_id == caller.district_id)
    if category is not None:
        stmt = stmt.where(Skill.category == category)
    if active is not None:
        stmt = stmt.where(Skill.active.is_(active))
    return paginate(session, stmt=stmt, id_column=Skill.id, cursor=cursor, limit=limit)


def update_skill(
    session: Session, caller: Caller, *, skill_id: int, changes: dict[str, Any], if_match: str | None
) -> Skill:
    skill = get_skill(session, caller, skill_id=skill_id)
    check_if_match(if_match, skill.version)
    for field in ("name", "category", "active"):
        if field in changes and changes[field] is None:
            raise invalid(field, msg("not_null"))
    if "synonyms" in changes:
        changes = {**changes, "synonyms": _clean_synonyms(changes["synonyms"] or [])}
    # Check the would-be state before touching the tracked object, so a refusal changes nothing.
    probe = Skill(
        code=skill.code, name=changes.get("name", skill.name), synonyms=changes.get("synonyms", skill.synonyms)
    )
    if "name" in changes or "synonyms" in changes:
        _check_tokens_free(session, caller.district_id, probe, exclude_id=skill.id)
    for field, value in changes.items():
        setattr(skill, field, value)
    session.flush()
    return skill
