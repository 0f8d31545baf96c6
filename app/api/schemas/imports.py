"""Bulk-import shapes: the success report and the bad-row problem.

Success (200) — the file was imported entirely, or (``dry_run=true``) would be::

    {"kind": "members", "dry_run": false, "rows": 3, "created": 1, "updated": 1, "unchanged": 1,
     "ignored_columns": ["备注"],
     "items": [{"row": 2, "external_id": "CY-0001", "id": 17, "action": "created"}, ...]}

Rejected (422, application/problem+json, code ``import_rejected``) — nothing was written::

    {"type": "urn:matcher:problem:import_rejected", "status": 422, "code": "import_rejected",
     "detail": "2 bad row(s) of 3: nothing was imported. ...", "bad_rows": [3, 4], "error_count": 2,
     "errors": [{"row": 3, "field": "skills", "column": "技能", "message": "unknown skill '书法'", "code": "invalid"},
                {"row": 4, "field": "home_area", "column": "居住片区", "message": "unknown area 'XX'", ...}]}
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import PROBLEM_RESPONSES, OpenAPIResponses, Problem, ProblemFields
from app.schemas.imports import ImportResult, ImportRowOut

__all__ = ["IMPORT_RESPONSES", "ImportProblem", "ImportResult", "ImportRowError", "ImportRowOut"]


class ImportRowError(BaseModel):
    row: int | None = Field(
        None, description="Spreadsheet row number (header = 1); 1 for a header problem; absent for a missing file."
    )
    field: str = Field(description="Import field, e.g. home_area, skills, min_members.", examples=["skills"])
    column: str | None = Field(None, description="The header as written in the file.", examples=["技能"])
    message: str
    code: str


class ImportProblem(ProblemFields):
    errors: list[ImportRowError] | None = Field(
        None, description="Every bad cell of every bad row (at most 1000 listed; error_count is exact)."
    )
    bad_rows: list[int] | None = Field(None, description="Row numbers of all bad rows.")
    error_count: int | None = None


IMPORT_RESPONSES: OpenAPIResponses = {
    **{s: r for s, r in PROBLEM_RESPONSES.items() if s in (400, 401, 403, 409, 413)},
    415: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "Not a UTF-8 CSV or an XLSX workbook",
    },
    422: {
        "model": ImportProblem,
        "content": {"application/problem+json": {}},
        "description": "Rejected: bad rows (listed in `errors`), a missing column, or more than 10,000 rows. "
        "Nothing was written.",
    },
}
