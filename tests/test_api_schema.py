"""Schemathesis, a client nobody here wrote, against the live API from its own OpenAPI
document: every operation, property-based, with the checks for server errors, status
codes, content types, response headers and response schemas. Zero failures allowed."""

from __future__ import annotations

import re
import subprocess  # nosec B404: runs the pinned schemathesis command line, no shell
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import serve, start_app

from .fixtures.api import make_token
from .fixtures.exchange import share_txt
from .fixtures.members import Visitor

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = 5  # per operation and phase: bounded, so the run stays well under 40 s
OPERATIONS = 51


@pytest.mark.slow
def test_schemathesis_finds_no_failure_in_any_operation(tmp_path: Path) -> None:
    app = start_app(tmp_path, WTF_CSRF_ENABLED=False)
    member = Visitor(app.test_client())
    member.register(name="Dale Briers")
    share_txt(member, "Strengths worksheet")
    token = make_token(member)
    with serve(app) as server:
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        assert document["openapi"] == "3.1.0"
        methods = [m for ops in document["paths"].values() for m in ops if m != "parameters"]
        assert len(methods) == OPERATIONS
        result = _run_schemathesis(f"{server.url}/api/v1/openapi.json", token, tmp_path)
    summary = _summary(result.stdout)
    print(f"\nschemathesis: {summary}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"Selected: {OPERATIONS}/{OPERATIONS}" in result.stdout
    assert f"Tested: {OPERATIONS}" in result.stdout


def _run_schemathesis(url: str, token: str, tmp_path: Path) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "18",
        "--workers",
        "1",
        "--max-redirects",
        "0",
        "--request-timeout",
        "20",
        "--no-shrink",
        "--report",
        "json",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    return subprocess.run(  # nosec B603: a fixed command line, no shell
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )


def _summary(stdout: str) -> str:
    found = re.search(r"Test cases:\s*(\d+ generated[^\n]*)", stdout)
    return found.group(1) if found else stdout[-500:]
