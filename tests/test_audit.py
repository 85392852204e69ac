"""``make audit``'s dependency check passes only when packages were really checked.

The reports below are what pip-audit really produced: on this kind of machine (only package
registries reachable) PyPI's vulnerability feed answers 404 for every package and OSV cannot
be resolved; the other shapes come from pip-audit's own JSON formatter. The end-to-end tests
run the real script and the real pip-audit against a local stand-in for the OSV service.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.version import Version
from pip_audit._format.json import JsonFormat
from pip_audit._service.interface import (
    ResolvedDependency,
    SkippedDependency,
    VulnerabilityResult,
)

from infra.audit import classify

REPO = Path(__file__).resolve().parents[1]
CAPTURED = Path(__file__).parent / "fixtures" / "audit"


def report_of(results: dict) -> dict:
    """A report exactly as pip-audit writes it with ``--format json``."""
    return json.loads(JsonFormat(output_desc=False, output_aliases=False).format(results, []))


def vulnerability(vuln_id: str, fixed: str) -> VulnerabilityResult:
    return VulnerabilityResult.create([vuln_id], "A test advisory", [Version(fixed)], None)


FLASK = ResolvedDependency("flask", Version("3.0.0"))
JINJA = ResolvedDependency("jinja2", Version("3.1.4"))
PRIVATE = SkippedDependency(
    "in-house-tool", "Dependency not found on PyPI and could not be audited"
)


# -- what pip-audit really printed here -------------------------------------------------------


def test_a_feed_answering_404_for_every_package_is_skipped_not_passed():
    """pip-audit itself said "No known vulnerabilities found" and exited 0 for this report."""
    report = json.loads((CAPTURED / "pypi-feed-404.json").read_text())
    verdict = classify(0, report, "No known vulnerabilities found\n")
    assert verdict.status == "skipped" and verdict.exit_code == 0
    assert f"none of the {len(report['dependencies'])} packages could be looked up" in (
        verdict.message
    )
    assert "nothing was audited" in verdict.message


def test_an_unreachable_vulnerability_service_is_skipped_and_says_why():
    stderr = (CAPTURED / "osv-unreachable.stderr").read_text()
    verdict = classify(1, None, stderr)
    assert verdict.status == "skipped" and verdict.exit_code == 0
    assert "could not be reached" in verdict.message and "api.osv.dev" in verdict.message


# -- the other shapes, from pip-audit's own formatter ------------------------------------------


def test_a_known_vulnerability_fails_and_names_the_package_and_the_fix():
    report = report_of({FLASK: [vulnerability("GHSA-aaaa-bbbb-cccc", "3.0.1")], JINJA: []})
    verdict = classify(1, report, "Found 1 known vulnerability in 1 package\n")
    assert verdict.status == "failed" and verdict.exit_code == 1
    assert "flask 3.0.0: GHSA-aaaa-bbbb-cccc (fixed in 3.0.1)" in verdict.message


def test_a_pass_counts_what_was_checked_and_names_what_was_not():
    verdict = classify(0, report_of({FLASK: [], JINJA: [], PRIVATE: []}), "")
    assert verdict.status == "passed" and verdict.exit_code == 0
    assert verdict.message.startswith("2 packages checked, no known vulnerabilities")
    assert "1 could not be looked up and were not checked: in-house-tool" in verdict.message


def test_nothing_to_audit_is_not_a_pass():
    assert classify(0, report_of({}), "").status == "skipped"
    assert classify(0, report_of({PRIVATE: []}), "").status == "skipped"


def test_any_other_pip_audit_failure_is_an_error():
    verdict = classify(2, None, "pip-audit: error: unrecognized arguments: --bogus\n")
    assert verdict.status == "error" and verdict.exit_code == 1
    assert "unrecognized arguments" in verdict.message


# -- the real script and the real pip-audit, against a local OSV stand-in ---------------------


class FakeOsv(BaseHTTPRequestHandler):
    """Answers OSV's /v1/query: one advisory for each package named in ``vulnerable``."""

    vulnerable: dict[str, str] = {}

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        answer = {}
        if name in self.vulnerable:
            fixed = [{"introduced": "0"}, {"fixed": "99.0"}]
            answer = {
                "vulns": [
                    {
                        "id": self.vulnerable[name],
                        "summary": "Test advisory",
                        "affected": [
                            {
                                "package": {"name": name, "ecosystem": "PyPI"},
                                "ranges": [{"type": "ECOSYSTEM", "events": fixed}],
                            }
                        ],
                    }
                ]
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture
def osv_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()
    server.server_close()
    FakeOsv.vulnerable = {}


def run_audit(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    extra = ["-s", "osv", "--osv-url", url, "--cache-dir", str(tmp_path / "cache")]
    command = [sys.executable, str(REPO / "infra" / "audit.py"), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_the_script_fails_when_the_service_reports_a_vulnerability(tmp_path, osv_url):
    FakeOsv.vulnerable = {"flask": "GHSA-test-0000-0001"}
    done = run_audit(tmp_path, osv_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("pip-audit FAILED: known vulnerabilities:")
    assert "flask" in done.stdout and "GHSA-test-0000-0001 (fixed in 99.0)" in done.stdout


@pytest.mark.slow
def test_the_script_passes_when_every_package_was_checked_and_is_clean(tmp_path, osv_url):
    done = run_audit(tmp_path, osv_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("pip-audit PASSED:")
    assert int(done.stdout.split(":")[1].split()[0]) > 20  # packages really checked


@pytest.mark.slow
def test_the_script_says_skipped_when_the_service_cannot_be_reached(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_audit(tmp_path, f"http://127.0.0.1:{port}/v1/query")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("pip-audit SKIPPED: the vulnerability service could not be")
