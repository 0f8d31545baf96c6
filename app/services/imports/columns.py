"""Column headers, Chinese or English, mapped to the fields of a row.

Headers are compared after dropping case, spaces, punctuation and brackets, so
'Home Area', 'home_area' and 'HOME-AREA' are one column, and '最远距离(km)' matches
'最远距离km'. A bracket's contents are kept: '居住片区（代码）' is not an alias.
Columns that match nothing are ignored and reported back (a notes column is
common); a required column that is missing rejects the file at the header row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def normalise(header: str) -> str:
    """Lowercase, keep letters/digits/CJK only: '最远距离(km)' -> '最远距离km', 'Home_Area' -> 'homearea'."""
    return "".join(ch for ch in header.lower() if ch.isalnum())


@dataclass(frozen=True)
class Column:
    field: str
    aliases: tuple[str, ...]
    required: bool = False


MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("external_id", ("编号", "委员编号", "external_id", "id", "外部编号"), required=True),
    Column("name", ("姓名", "name", "委员姓名"), required=True),
    Column("sector", ("界别", "sector")),
    Column("group", ("小组", "所在小组", "group", "group_name")),
    Column("home_area", ("居住片区", "居住地片区", "home_area", "片区"), required=True),
    Column("work_area", ("工作片区", "工作地片区", "work_area")),
    Column("phone", ("电话", "手机", "联系电话", "phone", "mobile")),
    Column("email", ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail")),
    Column("weekly_cap", ("每周上限", "每周最多", "weekly_cap", "cap")),
    Column("accepts_cross_area", ("接受跨片", "是否接受跨片", "跨片", "accepts_cross_area", "cross_area")),
    Column("max_distance_km", ("最远距离km", "最远距离", "最远距离公里", "max_distance_km", "max_distance")),
    Column("skills", ("专业特长", "技能", "专长", "特长", "skills")),
    Column("interests", ("兴趣爱好", "兴趣", "爱好", "interests")),
    Column("resources", ("资源状况", "资源", "可提供资源", "resources")),
    Column("blackout_dates", ("不可用日期", "不可用", "blackout_dates", "blackout")),
    Column("weekly_slots", ("每周时段", "可用时段", "weekly_slots", "slots")),
    Column("active", ("在任", "有效", "是否有效", "active")),
)

#: Skill columns of the member sheet -> the skill category (``Skill.category``) their words must
#: have; ``skills`` (专业特长/技能) takes any category, as the API's ``skills`` list does.
SKILL_COLUMNS: dict[str, str | None] = {"skills": None, "interests": "interest", "resources": "resource"}

DEMAND_COLUMNS: tuple[Column, ...] = (
    Column("external_id", ("编号", "需求编号", "external_id", "id", "外部编号")),
    Column("community", ("社区", "社区名称", "community"), required=True),
    Column("area", ("片区", "街乡", "area")),
    Column("title", ("标题", "需求", "需求标题", "title"), required=True),
    Column("description", ("描述", "需求描述", "说明", "description")),
    Column("channel", ("渠道", "来源渠道", "channel"), required=True),
    Column("priority", ("优先级", "priority")),
    Column("required_skills", ("所需技能", "技能", "required_skills", "skills")),
    Column("min_members", ("最少人数", "min_members", "min")),
    Column("max_members", ("最多人数", "max_members", "max")),
    Column("starts_at", ("开始", "开始时间", "starts_at", "start"), required=True),
    Column("ends_at", ("结束", "结束时间", "ends_at", "end"), required=True),
    Column("excluded_members", ("回避委员", "回避", "excluded_members", "excluded_member_ids", "excluded")),
)


@dataclass(frozen=True)
class HeaderMap:
    fields: dict[str, int]  # field -> column index
    labels: dict[str, str]  # field -> header as written in the file
    ignored: list[str]
    errors: list[dict]


def map_headers(headers: list[str], columns: tuple[Column, ...], line: int = 1) -> HeaderMap:
    lookup = {normalise(alias): col for col in columns for alias in (col.aliases + (col.field,))}
    fields: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[dict] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        col = lookup.get(normalise(header))
        if col is None:
            ignored.append(header)
            continue
        if col.field in fields:
            errors.append(
                {
                    "row": line,
                    "field": col.field,
                    "column": header,
                    "message": f"column given twice ({labels[col.field]!r} and {header!r})",
                    "code": "duplicate_column",
                }
            )
            continue
        fields[col.field] = index
        labels[col.field] = header
    for col in columns:
        if col.required and col.field not in fields:
            errors.append(
                {
                    "row": line,
                    "field": col.field,
                    "column": col.aliases[0],
                    "message": f"required column missing (header {col.aliases[0]} or {col.field})",
                    "code": "missing_column",
                }
            )
    return HeaderMap(fields, labels, ignored, errors)


def looks_like_header(columns: tuple[Column, ...]) -> Callable[[list[str]], bool]:
    """A row is the header if at least two of its cells name known columns (a title row names none)."""
    known = {normalise(alias) for col in columns for alias in (col.aliases + (col.field,))}

    def check(cells: list[str]) -> bool:
        return sum(1 for c in cells if c and normalise(c) in known) >= 2

    return check
