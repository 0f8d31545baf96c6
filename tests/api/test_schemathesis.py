"""A bounded schemathesis run over the whole API against a live server, every check on: any
server error, any answer the OpenAPI does not describe (status, content type, body schema,
headers) or any input the schema allows but the server refuses fails the suite.

Bounded: a few examples per operation, deterministic generation, one worker; run on SQLite and
PostgreSQL. Two checks are told the statuses this API documents for rules a schema cannot state:
a schema-valid request may still be 412 (a random ETag is stale), 422 (a reference to no stored
row, an Idempotency-Key reused with another body, a malformed cursor, an empty upload) or 428;
a request missing a required header is 428 when that header is If-Match. Whether the schema
itself tells the truth about nulls is tested in test_openapi_contract.py. A second, bounded run
of the coverage phase sends boundary and just-invalid query and path parameters to every GET.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import serve_app
from tests.support import app_for

MAX_EXAMPLES = 3
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422", "428"]

[checks.missing_required_header]
expected-statuses = ["400", "401", "406", "422", "428"]
"""


def _schemathesis(url: str, key: str, tmp_path: Path, config: str, *options: str) -> subprocess.CompletedProcess:
    """One deterministic schemathesis run (every check, one worker) against the live server."""
    tool = Path(sys.executable).with_name("schemathesis")
    (tmp_path / "schemathesis.toml").write_text(config)
    args = [str(tool), "--config-file", str(tmp_path / "schemathesis.toml"), "run", f"{url}/openapi.json"]
    args += ["--checks", "all", "--workers", "1", "--generation-deterministic", "--request-timeout", "30"]
    args += ["-H", f"Authorization: Bearer {key}", "--exclude-path-regex", "^/reports/", "--no-color", *options]
    # /reports/ are the HTML pages: they have their own tests (and answer text/html)
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def _report(result: subprocess.CompletedProcess) -> str:
    if os.environ.get("MATCHER_SCHEMATHESIS_REPORT"):  # the whole report, for reading locally
        Path(os.environ["MATCHER_SCHEMATHESIS_REPORT"]).write_text(result.stdout + result.stderr)
    return result.stdout[-20000:] + result.stderr[-4000:]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(world, settings, db, tmp_path):
    with serve_app(app_for(settings)) as url:
        phases = ("--phases", "examples,fuzzing", "--max-examples", str(MAX_EXAMPLES))
        result = _schemathesis(url, world.keys["admin"], tmp_path, CONFIG, *phases)
    assert result.returncode == 0, _report(result)


#: The coverage phase, bounded: boundary and just-invalid values of every query and path parameter
#: of the GET operations (the invalid ones must be refused), no unexpected methods or duplicated
#: parameters. The whole phase (every operation, both modes) is ~5,000 requests, over a minute.
COVERAGE_CONFIG = (
    CONFIG
    + """
[phases.coverage]
unexpected-methods = []
generate-duplicate-query-parameters = false
"""
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_schemathesis_coverage_of_query_parameters(world, settings, db, tmp_path):
    """Request validation happens before any database work, so one database suffices; this phase
    found ``/v1/audit?until=0.5`` accepted as a Unix time."""
    with serve_app(app_for(settings)) as url:
        options = ("--phases", "coverage", "--mode", "negative", "--include-method", "GET")
        result = _schemathesis(url, world.keys["admin"], tmp_path, COVERAGE_CONFIG, *options)
    assert result.returncode == 0, _report(result)
