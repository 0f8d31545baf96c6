"""A bounded schemathesis run over the whole API against a live server, every check on: any
server error, any answer the OpenAPI does not describe (status, content type, body schema,
headers) or any input the schema allows but the server refuses fails the suite.

Bounded: a few examples per operation, deterministic generation, one worker; run on SQLite and
PostgreSQL. Two checks are told the statuses this API documents for rules a schema cannot state:
a schema-valid request may still be 412 (a random ETag is stale), 422 (a reference to no stored
row, an Idempotency-Key reused with another body, a malformed cursor, an empty upload) or 428;
a request missing a required header is 428 when that header is If-Match. Whether the schema
itself tells the truth about nulls is tested in test_openapi_contract.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.api.main import create_app
from tests.live import serve_app

MAX_EXAMPLES = 3
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422", "428"]

[checks.missing_required_header]
expected-statuses = ["400", "401", "406", "422", "428"]
"""


def test_schemathesis_finds_no_server_error_and_no_schema_violation(world, settings, db, tmp_path):
    tool = Path(sys.executable).with_name("schemathesis")
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    with serve_app(create_app(settings)) as url:
        result = subprocess.run(
            [
                str(tool),
                "--config-file",
                str(tmp_path / "schemathesis.toml"),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                "--phases",
                "examples,fuzzing",
                "--generation-deterministic",
                "--request-timeout",
                "30",
                "-H",
                f"Authorization: Bearer {world.keys['admin']}",
                "--exclude-path-regex",
                "^/reports/",  # the HTML pages have their own tests (and answer text/html)
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    if os.environ.get("MATCHER_SCHEMATHESIS_REPORT"):  # the whole report, for reading locally
        Path(os.environ["MATCHER_SCHEMATHESIS_REPORT"]).write_text(result.stdout + result.stderr)
    report = result.stdout[-20000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
