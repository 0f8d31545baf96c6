"""The OpenAPI document as integrators' code generators need it.

FastAPI's generated document is completed here, once, after every route is known: every 4xx/5xx
an operation documents references the ``Problem`` schema under ``application/problem+json``;
PATCH and DELETE document 428 (their If-Match header is required); operations that need a key
carry the two security schemes (``Authorization: Bearer`` or ``X-API-Key``); a body the server
takes in several forms (a run's week or window) is ``oneOf`` one named schema per form.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.api.problems import PROBLEM_JSON
from app.api.schemas.runs import BODY_FORMS

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <API key>`."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The API key in `X-API-Key`."},
}
#: Operations anyone may call (no key): health probes.
PUBLIC_PATHS = ("/healthz", "/readyz")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


#: The first path segment under /v1 -> the operation id's prefix, and the words of a handler's name
#: that only repeat the resource (``get_demand`` under demands is ``demands_get``).
_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "areas": ("areas", ("area", "areas")),
    "communities": ("communities", ("community", "communities")),
    "groups": ("groups", ("group", "groups")),
    "skills": ("skills", ("skill", "skills")),
    "members": ("members", ("member", "members")),
    "demands": ("demands", ("demand", "demands")),
    "optimization-runs": ("runs", ("run", "runs")),
    "assignments": ("assignments", ("assignment", "assignments")),
    "duty-records": ("duty_records", ("record", "records")),
    "reports": ("reports", ()),
    "changes": ("changes", ("change", "changes")),
    "webhooks": ("webhooks", ("webhook", "webhooks")),
}


def operation_id(route: APIRoute) -> str:
    """Short, stable operation ids for generated clients: ``demands_get``, ``runs_publish``,
    ``members_import``; they change only when a handler is renamed, never with its path."""
    segments = [s for s in route.path.split("/") if s]
    if len(segments) >= 2 and segments[0] == "v1":
        resource = re.split(r"[:{]", segments[1])[0]
        prefix, nouns = _RESOURCES.get(resource, (resource.replace("-", "_"), ()))
        words = [w for w in route.name.split("_") if w not in nouns]
        return "_".join([prefix, *(words or ["get"])])
    tag = str(route.tags[0]) if route.tags else ""
    return f"{tag}_{route.name}" if tag else route.name


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        complete(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it


def complete(schema: dict[str, Any]) -> None:
    """Add what FastAPI cannot infer (see the module docstring), in place."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if method in ("patch", "delete"):
                responses.setdefault("428", {"description": "If-Match header missing"})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    content = response.get("content", {})
                    problem = {PROBLEM_JSON: {"schema": _problem_schema(response)}}
                    others = {k: v for k, v in content.items() if k not in (PROBLEM_JSON, "application/json")}
                    response["content"] = {**problem, **others}  # pages also answer errors in text/html
            if operation.get("operationId") in BODY_FORMS:
                _body_forms(schema, operation, BODY_FORMS[operation["operationId"]])
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
                responses.setdefault("401", {"description": "Missing or invalid API key"})
                responses["401"]["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def _body_forms(document: dict[str, Any], operation: dict[str, Any], forms: tuple[type[BaseModel], ...]) -> None:
    """Document the request body as ``oneOf`` its forms, each a named component schema, so code
    generators make one typed model per form (the schema of the union model the handler validates
    says only "both optional", which generates an untyped body)."""
    schemas = document["components"].setdefault("schemas", {})
    refs = []
    for form in forms:
        schema = form.model_json_schema(ref_template=REF_TEMPLATE)
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[form.__name__] = schema
        refs.append({"$ref": REF_TEMPLATE.format(model=form.__name__)})
    content = operation["requestBody"]["content"]["application/json"]
    replaced = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
    content["schema"] = {"oneOf": refs}
    if replaced and f'"{REF_TEMPLATE.format(model=replaced)}"' not in json.dumps(document):
        schemas.pop(replaced, None)  # the union model is documented through its forms only


def _problem_schema(response: dict[str, Any]) -> dict[str, Any]:
    """The schema a route declared for an error (e.g. ImportProblem), else ``Problem``."""
    for media in (PROBLEM_JSON, "application/json"):
        declared = response.get("content", {}).get(media, {}).get("schema")
        if declared:
            return declared
    return PROBLEM_REF
