"""The bulk-import success report, shared by the API and ``matcher import``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row: int = Field(description="Spreadsheet row number (the header is row 1).")
    external_id: str | None = Field(description="编号 of the row, if any.")
    id: int | None = Field(description="Id of the member/demand; null for rows a dry run would create.")
    action: Literal["created", "updated", "unchanged"]


class ImportResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: Literal["members", "demands"]
    dry_run: bool = Field(description="true: everything was checked, nothing was written.")
    rows: int = Field(description="Data rows read (blank rows are skipped).")
    created: int
    updated: int = Field(description="Rows whose external_id was stored and at least one field differed.")
    unchanged: int = Field(description="Rows identical to what is stored (version/ETag kept).")
    ignored_columns: list[str] = Field(description="Headers that match no known column; their cells were not read.")
    items: list[ImportRowOut] = Field(description="One entry per data row, in file order.")
