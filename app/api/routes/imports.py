"""Bulk import endpoints: ``POST /v1/members:import`` and ``POST /v1/demands:import``.

The colon is literal (Google-style custom method); Starlette matches it as text,
and it cannot collide with ``/v1/members/{id}``. The upload is a multipart form
field ``file``; the request-body cap (MATCHER_MAX_BODY_BYTES, 413) applies.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from app.api.deps import AdminDep, SessionDep, WriterDep
from app.api.schemas.imports import IMPORT_RESPONSES, ImportResult
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import imports as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1", tags=["imports"], responses=IMPORT_RESPONSES)

FileField = Annotated[
    UploadFile,
    File(
        description="The spreadsheet: .xlsx, or .csv in UTF-8 (a BOM is fine). "
        "Header row first; Chinese or English column names."
    ),
]
DryRun = Annotated[
    bool, Query(description="true: check every row (references, uniqueness) and report, but write nothing.")
]

MEMBER_DOC = """Create or update committee members from a spreadsheet (admin).

Columns (Chinese or English header): 编号/external_id (required; the key: a stored external_id is
updated, a new one created), 姓名/name (required), 界别/sector, 小组/group (group name),
居住片区/home_area (required; area code or name), 工作片区/work_area, 电话/phone, 每周上限/weekly_cap,
接受跨片/accepts_cross_area (是/否), 最远距离km/max_distance_km, 技能/skills (`法律咨询:3;金融`, level 1-3,
default 2), 不可用日期/blackout_dates (`2026-12-01;2026-12-05~2026-12-07`), 每周时段/weekly_slots
(`周六 09:00-12:00;Sun 14:00-17:00`), 在任/active. Lists may be separated by ; ； 、 or ,.

An update changes only the columns the file has; an empty cell clears the field (or sets its default).
All rows are imported in one transaction: any bad row rejects the file (422 listing every bad row).
"""

DEMAND_DOC = """Create or update demands (民需) from a spreadsheet (admin, or a liaison for its own area).

Columns: 编号/external_id (optional key: a stored one is updated; rows without one are always created),
社区/community (required; name, resolved in the district), 片区/area (code or name; needed when the
community name exists in several areas), 标题/title (required), 描述/description, 渠道/channel (required;
民情联络站, 民需收集库, 民众接待日, 民意信箱, 委员论坛, 民情助理, 议事会, 其他, or a channel code),
优先级/priority (1-5), 所需技能/required_skills, 最少人数/min_members, 最多人数/max_members,
开始/starts_at and 结束/ends_at (required; `2026-12-05 09:00`, Beijing time unless an offset is given),
回避委员/excluded_members (member external ids).

A liaison key's rows for communities of other areas are bad rows. All rows in one transaction.
"""


@router.post(
    "/members:import",
    response_model=ImportResult,
    summary="Import members from CSV/XLSX (admin)",
    description=MEMBER_DOC,
)
def import_members(caller: AdminDep, session: SessionDep, file: FileField, dry_run: DryRun = False):
    report = service.import_members(
        session, caller, file.file.read(), filename=file.filename, content_type=file.content_type, dry_run=dry_run
    )
    return ImportResult.model_validate(report)


@router.post(
    "/demands:import",
    response_model=ImportResult,
    summary="Import demands from CSV/XLSX (admin; liaison for its own area)",
    description=DEMAND_DOC,
)
def import_demands(caller: WriterDep, session: SessionDep, file: FileField, dry_run: DryRun = False):
    report = service.import_demands(
        session, caller, file.file.read(), filename=file.filename, content_type=file.content_type, dry_run=dry_run
    )
    return ImportResult.model_validate(report)
