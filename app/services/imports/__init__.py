"""Bulk import of members and demands from the spreadsheets district offices keep.

``import_members`` / ``import_demands`` take the uploaded bytes and import the
whole file in one transaction, or reject it with one 422 listing every bad row
(see ``core`` for the flow, ``columns`` for the accepted headers, ``values`` for
how cells are read). The API routes and the ``matcher import`` CLI both call
these, so a file behaves the same whichever way it arrives.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.errors import Problem, msg
from app.services.identity import Caller
from app.services.imports.core import ImportReport, RowResult, run_import
from app.services.imports.demands import DemandImporter
from app.services.imports.files import MAX_ROWS
from app.services.imports.members import MemberImporter

__all__ = ["MAX_ROWS", "ImportReport", "RowResult", "import_demands", "import_members"]


def import_members(
    session: Session,
    caller: Caller,
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update members keyed by external_id (admin keys only)."""
    if not caller.is_admin:
        raise Problem(403, "forbidden_role", msg("import_members_role"))
    return run_import(
        session,
        caller,
        importer=MemberImporter(),
        data=data,
        filename=filename,
        content_type=content_type,
        dry_run=dry_run,
    )


def import_demands(
    session: Session,
    caller: Caller,
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Create demands, or update those whose external_id is stored; liaisons only for their own area."""
    if caller.role not in (Role.ADMIN, Role.LIAISON):
        raise Problem(403, "forbidden_role", msg("import_demands_role"))
    return run_import(
        session,
        caller,
        importer=DemandImporter(),
        data=data,
        filename=filename,
        content_type=content_type,
        dry_run=dry_run,
    )
