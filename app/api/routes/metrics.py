"""/metrics: Prometheus text format (admin or platform key by default; MATCHER_METRICS)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.deps import SettingsDep, authenticate_request
from app.db import session_scope
from app.domain.enums import Role
from app.errors import Problem, msg
from app.metrics import CONTENT_TYPE_LATEST, render

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, settings: SettingsDep) -> Response:
    mode = (settings.metrics or "admin").lower()
    if mode == "off":
        raise Problem(404, "not_found", msg("metrics_off"))
    if mode != "public":
        # The key check needs a session only in this mode (public scrapes touch no database row).
        with session_scope(settings.database_url) as session:
            caller = authenticate_request(request, session)
        if caller.role not in (Role.ADMIN, Role.PLATFORM):
            raise Problem(403, "forbidden_role", msg("metrics_role"))
    return Response(render(settings.database_url), media_type=CONTENT_TYPE_LATEST)
