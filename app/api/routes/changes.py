"""GET /v1/changes: the incremental feed integrators follow with a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import CallerDep, SessionDep
from app.api.http import JSON
from app.api.schemas.changes import ChangePage, change_page_json
from app.api.schemas.common import PROBLEM_RESPONSES, SafeStr
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import changes as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/changes", tags=["changes"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=ChangePage, summary="Changes after a cursor, in commit order")
def list_changes(
    caller: CallerDep,
    session: SessionDep,
    after: Annotated[
        SafeStr | None, Query(description="next_cursor from the previous call; 0 or absent = from the start.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT, description="At most 1000.")] = service.DEFAULT_LIMIT,
):
    """Every create/update/delete of demands, assignments, optimization runs and duty records,
    each exactly once and in commit order. Liaison keys see their own area's changes only."""
    page = service.read_changes(session, caller, after=after, limit=limit, raw_state=True)
    return Response(change_page_json(page.items, page.next_cursor), media_type=JSON)
