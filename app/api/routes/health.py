"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import SettingsDep
from app.db import get_engine
from app.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:  # async: no I/O, no thread hop
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated to head")
def readyz(settings: SettingsDep):
    try:
        engine = get_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}, status_code=503
        )
    head = head_revision(settings.database_url)
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migration": current, "head": head}, status_code=503
        )
    return {"status": "ready", "database": "ok", "migration": current}
