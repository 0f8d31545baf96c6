"""HTTP helpers shared by routers: ETags, If-Match, idempotent POST responses, and the
format negotiation (JSON, CSV, XLSX) of reports and list exports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import Problem, field_error, msg
from app.services.crud import etag_for
from app.services.idempotency import IdempotencyKey, StoredResponse

IF_MATCH_DOC = (
    'Required: the ETag from the last GET (e.g. `"v3"`), compared strongly (a weak `W/"v3"` never matches), '
    "or `*`. Missing: 428; stale (someone changed the object since, or won a concurrent race): 412."
)
#: One or more entity tags (strong or weak), or ``*`` (RFC 9110 13.1.1).
ENTITY_TAGS = r'^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$'
IfMatch = Annotated[str, Header(alias="If-Match", pattern=ENTITY_TAGS, max_length=1000, description=IF_MATCH_DOC)]
"""The If-Match header of PATCH and DELETE: required (428 when missing, see app.api.problems)."""
IfMatchOptional = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=ENTITY_TAGS,
        max_length=1000,
        description="Optional ETag from GET (strong comparison); stale -> 412.",
    ),
]
"""If-Match on the state-changing POST actions, where a repeat is a no-op and the header optional."""


async def idempotency_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retry-safe POST (1-200 characters): a replay with the same body returns the first response.",
        ),
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


def versioned_body(model: BaseModel, version: int) -> Response:
    """``json_body`` of one versioned object, with its ETag. For a read: returning the model
    instead costs a threadpool hop to validate it again against ``response_model`` (sync
    handlers), and a returned ``Response`` carries its own headers, so the ETag is set here."""
    response = json_body(model)
    with_etag(response, version)
    return response


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

    return stored_response(run_idempotent(session, caller, idem=idem, create=_create))


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
        raise Problem(406, "not_acceptable", msg("not_acceptable"))
    return min(ranked)[2]


def spreadsheet(fmt: str, content: bytes, filename: str) -> Response:
    """A CSV or XLSX download (``filename`` without extension; ASCII, for every browser)."""
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )


_KNOWN_QUERY: dict[int, frozenset[str]] = {}


def _declared_query_names(route: Any) -> frozenset[str]:
    """Query parameter names (aliases) a route and its dependencies declare; cached per route."""
    key = id(route)
    if key not in _KNOWN_QUERY:
        names: set[str] = set()
        pending = [getattr(route, "dependant", None)]
        while pending:
            dependant = pending.pop()
            if dependant is None:
                continue
            names.update(p.alias for p in dependant.query_params)
            pending.extend(dependant.dependencies)
        _KNOWN_QUERY[key] = frozenset(names)
    return _KNOWN_QUERY[key]


async def reject_unknown_query(request: Request) -> None:
    """(``async``: it does no I/O, so it runs on the event loop, not in a pool thread.) A misspelt filter must not silently return everything: a query parameter the API
    operation does not declare is a 422 naming it (``query.<name>``)."""
    if not request.url.path.startswith("/v1/"):
        return
    route = request.scope.get("route")
    if route is None:
        return
    known = _declared_query_names(route)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        allowed = ", ".join(sorted(known)) or "-"
        raise Problem(
            422,
            "validation_error",
            msg("unknown_query_parameters", names=", ".join(unknown), allowed=allowed),
            errors=[
                field_error(f"query.{name}", msg("unknown_query_parameter"), "unknown_parameter") for name in unknown
            ],
        )
