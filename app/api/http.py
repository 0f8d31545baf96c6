"""HTTP helpers shared by routers: ETags, If-Match, idempotent POST responses, and the
format negotiation (JSON, CSV, XLSX) of reports and list exports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import Problem
from app.services.crud import etag_for
from app.services.idempotency import IdempotencyKey, StoredResponse

IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag from GET; a stale one gets 412.")]


async def idempotency_key(
    request: Request,
    key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Retry-safe POST: a replay returns the first response.")
    ] = None,
) -> IdempotencyKey:
    body = await request.body()
    return IdempotencyKey.from_request(key, request.method, request.url.path, body)


IdempotencyDep = Annotated[IdempotencyKey, Depends(idempotency_key)]


def dump(model: BaseModel) -> Any:
    return jsonable_encoder(model)


def with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def stored_response(stored: StoredResponse) -> JSONResponse:
    headers = dict(stored.headers)
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


def idempotent_create(
    session, caller, idem: IdempotencyKey, create, out_schema: type[BaseModel], location_prefix: str
) -> JSONResponse:
    """Shared POST flow: create (no commit), render, store for replay, commit once."""
    from app.services.idempotency import run_idempotent

    def _create():
        obj = create()
        body = jsonable_encoder(out_schema.model_validate(obj))
        return 201, body, {"ETag": etag_for(obj.version), "Location": f"{location_prefix}/{obj.id}"}

    return stored_response(run_idempotent(session, caller, idem, _create))


def render(response: Response, obj: Any, out_schema: type[BaseModel]) -> BaseModel:
    """Render one object with its ETag header."""
    with_etag(response, obj.version)
    return out_schema.model_validate(obj)


CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
_MEDIA = {CSV: "csv", XLSX: "xlsx", JSON: "json", "application/*": "json", "text/*": "csv", "*/*": "json"}
Format = Literal["json", "csv", "xlsx"]
FormatQ = Annotated[Format | None, Query(description="json | csv | xlsx; overrides the Accept header.")]
#: OpenAPI: the spreadsheet forms of a 200 answer.
SPREADSHEET_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}, XLSX: {"schema": {"type": "string", "format": "binary"}}}}
}


def negotiate(request: Request, fmt: str | None) -> str:
    """The format to answer in: ``format=`` if given, else the best of Accept; 406 when Accept
    excludes all three."""
    if fmt:
        return fmt
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return "json"
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media.lower() in _MEDIA and q > 0:
            ranked.append((-q, i, _MEDIA[media.lower()]))
    if not ranked:
        raise Problem(
            406, "not_acceptable", f"This is produced as {JSON}, {CSV} or {XLSX} (or use ?format=json|csv|xlsx)."
        )
    return min(ranked)[2]


def spreadsheet(fmt: str, content: bytes, filename: str) -> Response:
    """A CSV or XLSX download (``filename`` without extension; ASCII, for every browser)."""
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )
