"""HTTP helpers shared by routers: ETags, If-Match, idempotent POST responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.services.crud import etag_for
from app.services.idempotency import IdempotencyKey, StoredResponse

JSON = "application/json"
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


def json_body(model: BaseModel, status_code: int = 200) -> Response:
    """The response model serialized once, by its own serializer, as the response.

    Returning the model itself makes FastAPI validate it against ``response_model`` again and
    serialize it in a second threadpool hop (for sync handlers); for a list of 100 rows that is
    a sizeable share of the request. The route keeps ``response_model`` (the OpenAPI document is
    unchanged); what it returns is already an instance of exactly that model.
    """
    return Response(model.__pydantic_serializer__.to_json(model, by_alias=True), status_code, media_type=JSON)


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
