"""Annual duty compliance (每年至少 1 条建议、1 条信息、1 次活动) per member, group or area.

The per-member status comes from ``app.services.duty.duty_status`` (the duty-records
service owns the rule: one implementation); this module only aggregates and scopes it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import DutyKind, Role
from app.errors import invalid, msg
from app.i18n import label
from app.models import Area, Group
from app.services.duty import KINDS as DUTY_KINDS
from app.services.duty import duty_status
from app.services.identity import Caller
from app.services.reports.table import Table

KIND_LABELS = {kind.value: label(kind) for kind in DutyKind}
By = Literal["member", "group", "area"]


@dataclass
class MemberDutyRow:
    member_id: int
    name: str
    group_id: int | None
    group_name: str | None
    home_area_id: int
    home_area_name: str
    counts: dict[str, int]
    met: bool
    missing: list[str]


@dataclass
class DutyGroupRow:
    """One group or area: how many members met the duty, and who is missing what."""

    key_id: int | None
    name: str
    members: int
    met: int
    counts: dict[str, int]  # records per kind
    missing_counts: dict[str, int]  # members still missing each kind
    missing_members: dict[str, list[str]]  # names of those members, per kind


@dataclass
class DutyReport:
    year: int
    by: str
    kinds: tuple[str, ...] = DUTY_KINDS
    members: list[MemberDutyRow] = field(default_factory=list)
    groups: list[DutyGroupRow] = field(default_factory=list)
    total_members: int = 0
    total_met: int = 0

    def missing_members(self, kind: str) -> list[MemberDutyRow]:
        return [m for m in self.members if kind in m.missing]

    def table(self) -> Table:
        kinds = [(k, f"{KIND_LABELS[k]}数") for k in self.kinds]
        if self.by == "member":
            cols = [
                ("member_id", "委员编号"),
                ("name", "姓名"),
                ("group", "小组"),
                ("home_area", "所在片区"),
                *kinds,
                ("met", "已完成"),
                ("missing", "尚缺"),
            ]
            rows = [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "group": m.group_name,
                    "home_area": m.home_area_name,
                    **m.counts,
                    "met": "yes" if m.met else "no",
                    "missing": m.missing,
                }
                for m in self.members
            ]
            return Table(f"{self.year}年履职情况（委员）", cols, rows)
        label = "小组" if self.by == "group" else "片区"
        cols = [
            ("id", "编号"),
            ("name", label),
            ("members", "委员数"),
            ("met", "已完成人数"),
            *kinds,
            *[(f"missing_{k}", f"缺{KIND_LABELS[k]}人数") for k in self.kinds],
            *[(f"missing_{k}_members", f"缺{KIND_LABELS[k]}委员") for k in self.kinds],
        ]
        rows = []
        for g in self.groups:
            row: dict[str, Any] = {"id": g.key_id, "name": g.name, "members": g.members, "met": g.met, **g.counts}
            for k in self.kinds:
                row[f"missing_{k}"] = g.missing_counts[k]
                row[f"missing_{k}_members"] = g.missing_members[k]
            rows.append(row)
        return Table(f"{self.year}年履职情况（{label}）", cols, rows)


def duty_report(session: Session, caller: Caller, *, year: int, by: str = "member") -> DutyReport:
    if by not in ("member", "group", "area"):
        raise invalid("by", msg("one_of", values="member, group, area"))
    if not 2000 <= year <= 2100:
        raise invalid("year", msg("between", low=2000, high=2100))
    area_id = caller.area_id if caller.role == Role.LIAISON else None
    status = duty_status(session, district_id=caller.district_id, year=year, area_id=area_id)
    groups = dict(session.execute(select(Group.id, Group.name).where(Group.district_id == caller.district_id)).all())
    areas = dict(session.execute(select(Area.id, Area.name).where(Area.district_id == caller.district_id)).all())
    members = [
        MemberDutyRow(
            member_id=r.member_id,
            name=r.name,
            group_id=r.group_id,
            group_name=groups.get(r.group_id) if r.group_id is not None else None,
            home_area_id=r.home_area_id,
            home_area_name=areas.get(r.home_area_id, ""),
            counts={k: r.counts.get(k, 0) for k in DUTY_KINDS},
            met=r.met,
            missing=list(r.missing),
        )
        for r in status
        if caller.sees_area(r.home_area_id)
    ]
    report = DutyReport(
        year=year, by=by, members=members, total_members=len(members), total_met=sum(1 for m in members if m.met)
    )
    if by != "member":
        report.groups = _aggregate(members, by, groups, areas)
    return report


def _aggregate(
    members: list[MemberDutyRow], by: str, groups: dict[int, str], areas: dict[int, str]
) -> list[DutyGroupRow]:
    buckets: dict[int | None, list[MemberDutyRow]] = defaultdict(list)
    for m in members:
        buckets[m.group_id if by == "group" else m.home_area_id].append(m)
    names = groups if by == "group" else areas
    out = []
    for key in sorted(buckets, key=lambda k: (k is None, k or 0)):
        ms = buckets[key]
        out.append(
            DutyGroupRow(
                key_id=key,
                name=names.get(key, "（未分组）") if key is not None else "（未分组）",
                members=len(ms),
                met=sum(1 for m in ms if m.met),
                counts={k: sum(m.counts[k] for m in ms) for k in DUTY_KINDS},
                missing_counts={k: sum(1 for m in ms if k in m.missing) for k in DUTY_KINDS},
                missing_members={k: [m.name for m in ms if k in m.missing] for k in DUTY_KINDS},
            )
        )
    return out
