"""Application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app.api.console import auth as console_auth
from app.api.console import dashboard as console_dashboard
from app.api.console import demands as console_demands
from app.api.console import duty as console_duty
from app.api.console import members as console_members
from app.api.console import plan as console_plan
from app.api.console import runs as console_runs
from app.api.console import static as console_static
from app.api.http import reject_unknown_query
from app.api.middleware import InFlightLimit, RequestContextMiddleware
from app.api.openapi import install_openapi, operation_id
from app.api.problems import install_problem_handlers
from app.api.route_prefixes import guard_routers_by_prefix
from app.api.routes import (
    api_keys,
    areas,
    assignments,
    audit,
    changes,
    communities,
    demands,
    district_settings,
    districts,
    duty,
    groups,
    health,
    imports,
    member_links,
    members,
    metrics,
    notifications,
    pages,
    reports,
    runs,
    skill_suggestions,
    skills,
    webhooks,
)
from app.logging import configure_logging
from app.services.notifications.dispatcher import start_api_notifier
from app.services.runs.janitor import start_run_recovery
from app.services.schedule import start_inprocess_scheduler
from app.services.webhooks import start_dispatcher
from app.settings import Settings, get_settings

DESCRIPTION = """
Matches CPPCC committee members (委员) to the needs residents raise (民需) in the district's
areas, across area lines where that serves best. Authenticate with `Authorization: Bearer <key>`.
Errors are `application/problem+json` (RFC 9457) with a stable `type` and `code`.
"""

ROUTERS = (
    health,
    metrics,
    api_keys,
    districts,
    district_settings,
    areas,
    communities,
    groups,
    skills,
    skill_suggestions,
    members,
    demands,
    imports,
    runs,
    assignments,
    duty,
    reports,
    changes,
    audit,
    webhooks,
    notifications,
    pages,
    member_links,
)
# The office console (server-rendered pages on the same services; not part of the OpenAPI).
CONSOLE_ROUTERS = (
    console_auth,
    console_dashboard,
    console_demands,
    console_plan,
    console_runs,
    console_members,
    console_duty,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application. Without ``settings`` each start of its lifespan reads the current
    ``get_settings()`` (requests always do), so one app object can be served again under
    other settings -- the test suite does that instead of building ~120 routes per test."""
    configured = settings or get_settings()
    configure_logging(configured.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        """Background work owned by the API process: webhook delivery, in-process run recovery,
        and (with SQLite, or when configured) member notifications and automatic repair."""
        current = settings or get_settings()
        stop_dispatcher = start_dispatcher(current.database_url)
        stop_recovery = start_run_recovery(current)
        stop_notifier = start_api_notifier(current.database_url)
        stop_scheduler = start_inprocess_scheduler(current)
        try:
            yield
        finally:
            stop_scheduler()
            stop_notifier()
            stop_recovery()
            stop_dispatcher()

    app = FastAPI(
        title="CPPCC member-need matcher",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
        generate_unique_id_function=operation_id,
        docs_url=None,  # served offline by app.api.console.static
        redoc_url=None,
    )
    install_problem_handlers(app)
    install_openapi(app)
    for module in ROUTERS:
        app.include_router(module.router)
    for module in CONSOLE_ROUTERS:
        app.include_router(module.router)
    console_static.install(app)
    guard_routers_by_prefix(app)
    app.add_middleware(
        InFlightLimit,
        limit=configured.max_inflight_requests,
        width=configured.admission_width,
        patience_s=configured.inflight_patience_ms / 1000,
    )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=configured.max_body_bytes)
    return app
