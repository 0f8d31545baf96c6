"""Query parameters every list endpoint shares."""

from typing import Annotated

from fastapi import Query

from app.settings import get_settings

_MAX = get_settings().page_limit_max

CursorQ = Annotated[str | None, Query(description="Opaque cursor from the previous page's next_cursor.")]
LimitQ = Annotated[int, Query(ge=1, le=_MAX, description=f"Page size, at most {_MAX}.")]
