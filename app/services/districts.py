"""Districts: one deployment may serve several; CLI commands act on one by code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem
from app.models import District


def ensure_district(session: Session, code: str, name: str | None = None) -> District:
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code, name=name or code)
        session.add(district)
        session.flush()
    return district


def get_district(session: Session, code: str) -> District:
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        raise Problem(
            404, "unknown_district", f"No district with code {code!r}; run `matcher demo` or create it first."
        )
    return district
