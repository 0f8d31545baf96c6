"""The OpenAPI document is a contract a code generator can trust: unique meaningful schema names,
every error a ``Problem``, security on every keyed operation, short operation ids, and schemas that
say what the server does (a field the schema calls nullable accepts null; constraints the server
enforces are in the schema). Both databases where a server is involved."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.api.main import create_app
from tests.factories import add_assigned_demand


@pytest.fixture(scope="module")
def spec() -> dict:
    return create_app().openapi()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_document_passes_the_openapi_validator(spec):
    from openapi_spec_validator import validate

    validate(spec)


def test_schema_names_are_unique_and_meaningful(spec):
    names = list(spec["components"]["schemas"])
    assert not [n for n in names if "__" in n], names  # FastAPI's module-qualified names for duplicates
    titles = [s.get("title", n) for n, s in spec["components"]["schemas"].items()]
    assert len(titles) == len(set(titles))
    assert {"DutySummaryMember", "DutyReportMember", "Problem", "ProblemError"} <= set(names)


def test_operation_ids_are_short_and_stable(spec):
    ids = {(method, path): op["operationId"] for path, method, op in operations(spec)}
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids.values()), ids
    assert ids[("get", "/v1/demands/{demand_id}")] == "demands_get"
    assert ids[("post", "/v1/optimization-runs/{run_id}/publish")] == "runs_publish"
    assert ids[("post", "/v1/members:import")] == "members_import"
    assert ids[("get", "/v1/reports/duty")] == "reports_duty"


def test_every_error_response_is_a_problem(spec):
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if status[0] in "45":
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema["$ref"].split("/")[-1] in ("Problem", "ImportProblem"), (method, path, status)
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["properties"]["errors"]["anyOf"][0]["items"]["$ref"].endswith("/ProblemError")


def test_keyed_operations_declare_both_security_schemes(spec):
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The API key in `X-API-Key`.",
    }
    for path, method, op in operations(spec):
        if path.startswith("/v1/"):
            assert op["security"] == [{"bearer": []}, {"apiKey": []}], (method, path)
            assert "401" in op["responses"]
        else:
            assert "security" not in op, (method, path)


def test_hidden_constraints_are_in_the_schema(spec):
    schemas = spec["components"]["schemas"]
    body = spec["paths"]["/v1/optimization-runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in ("RunCreateWeek", "RunCreateWindow")]}
    week, window = schemas["RunCreateWeek"], schemas["RunCreateWindow"]
    assert week["required"] == ["week"] and window["required"] == ["window_start", "window_end"]
    assert week["additionalProperties"] is False and window["additionalProperties"] is False  # exactly one form
    assert set(week["properties"]) - {"week"} == set(window["properties"]) - {"window_start", "window_end"}
    assert re.fullmatch(week["properties"]["week"]["pattern"], "2026-W48")
    assert "RunCreate" not in schemas
    idem = next(p for p in spec["paths"]["/v1/demands"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert (idem["schema"]["anyOf"][0]["minLength"], idem["schema"]["anyOf"][0]["maxLength"]) == (1, 200)
    duty_date = schemas["DutyRecordCreate"]["properties"]["date"]
    pattern = duty_date["pattern"]
    assert re.match(pattern, "2026-03-05") and re.match(pattern, "2100-12-31")
    assert not re.match(pattern, "1999-12-31") and not re.match(pattern, "2101-01-01")


def _nullable(schema: dict) -> bool:
    return any(branch.get("type") == "null" for branch in schema.get("anyOf", []))


def test_patch_fields_the_schema_calls_nullable_accept_null(client, world, db, spec):
    """Every field a PATCH schema marks nullable is sent as null: the server must take it (a 422
    naming that field would mean the schema lies); every other field refuses null with a 422."""
    admin = world.w("admin")
    demand = add_assigned_demand(db, world, status="open")
    record = client.post(
        "/v1/duty-records",
        json={"member_id": world.members["张伟"], "kind": "suggestion", "date": "2026-03-05", "title": "建议"},
        headers=world.h("admin"),
    ).json()["id"]
    hook = client.post(
        "/v1/webhooks", json={"url": "https://example.org/hook", "event_types": ["run.published"]}, headers=admin
    ).json()["id"]
    targets = {
        "/v1/areas/{area_id}": world.areas["JW"],
        "/v1/communities/{community_id}": world.communities["建外社区"],
        "/v1/groups/{group_id}": world.groups["第一小组"],
        "/v1/skills/{skill_id}": world.skills["teaching"],
        "/v1/members/{member_id}": world.members["李娜"],
        "/v1/demands/{demand_id}": demand,
        "/v1/duty-records/{record_id}": record,
        "/v1/webhooks/{webhook_id}": hook,
    }
    schemas = spec["components"]["schemas"]
    lies = []
    for path, object_id in targets.items():
        op = spec["paths"][path]["patch"]
        model = schemas[op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
        url = re.sub(r"\{[^}]+\}", str(object_id), path)
        for name, prop in model["properties"].items():
            r = client.patch(url, json={name: None}, headers=admin)
            refused = r.status_code == 422 and name in {e["field"] for e in r.json().get("errors", [])}
            if _nullable(prop) == refused:
                lies.append((path, name, "nullable" if _nullable(prop) else "not nullable", r.status_code))
    assert not lies, "\n".join(map(str, lies))
    assert date.today()  # the probe ran against live objects of every PATCH operation
