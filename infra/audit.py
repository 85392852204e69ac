"""``make audit``'s dependency check: pip-audit, reported only as what it really did.

pip-audit prints "No known vulnerabilities found" even when it could look up nothing: where
PyPI's vulnerability feed answers 404 (a mirror, a registry proxy) every package is
"skipped" and the run still exits 0. So this runs pip-audit with JSON output and decides:

- **failed** (exit 1): some package has a known vulnerability;
- **passed** (exit 0): at least one package was really checked and none is vulnerable;
- **skipped** (exit 0): the vulnerability data could not be reached, so nothing was checked;
  said plainly, so that ``make test`` still runs on a machine without that access;
- **error** (exit 1): pip-audit failed for any other reason.

    python infra/audit.py [extra pip-audit arguments, e.g. -s osv --osv-url URL]
"""

from __future__ import annotations

import json
import re
import subprocess  # nosec B404: our own interpreter running pip-audit, never a shell
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIP_AUDIT_ARGS = ["--skip-editable", "--progress-spinner", "off"]
# What requests and pip-audit say when the vulnerability service cannot be reached at all.
UNREACHABLE = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|NameResolutionError|Max retries exceeded|"
    r"Failed to resolve|Connection refused|Could not connect|SSLError|ProxyError"
)


@dataclass(frozen=True)
class Verdict:
    status: str  # "passed", "failed", "skipped" or "error"
    message: str

    @property
    def exit_code(self) -> int:
        return 1 if self.status in ("failed", "error") else 0


def classify(returncode: int, report: dict[str, Any] | None, stderr: str) -> Verdict:
    """What a pip-audit run (its exit code, JSON report if any, and stderr) really showed."""
    if report is None:
        if UNREACHABLE.search(stderr):
            reason = _last_line(stderr)
            return Verdict("skipped", f"the vulnerability service could not be reached ({reason})")
        return Verdict("error", f"pip-audit failed (exit {returncode}): {_last_line(stderr)}")
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    if vulnerable:
        return Verdict("failed", "known vulnerabilities:\n" + "\n".join(map(_describe, vulnerable)))
    if returncode != 0:
        return Verdict("error", f"pip-audit failed (exit {returncode}): {_last_line(stderr)}")
    return _checked_verdict(dependencies)


def _checked_verdict(dependencies: list[dict[str, Any]]) -> Verdict:
    """Passed only if something was checked: skipped packages prove nothing."""
    checked = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not checked:
        said = skipped[0]["skip_reason"].split(":")[0] if skipped else "nothing to audit"
        return Verdict(
            "skipped",
            f"none of the {len(dependencies)} packages could be looked up (pip-audit said: "
            f"“{said}”); the vulnerability data is not reachable from here, so nothing was "
            "audited",
        )
    message = f"{len(checked)} packages checked, no known vulnerabilities"
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        message += f"; {len(skipped)} could not be looked up and were not checked: {names}"
    return Verdict("passed", message)


def _describe(dependency: dict[str, Any]) -> str:
    found = "; ".join(
        f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for v in dependency["vulns"]
    )
    return f"  {dependency['name']} {dependency.get('version', '')}: {found}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def run_pip_audit(extra_args: list[str]) -> Verdict:
    """Run pip-audit on this interpreter's environment and classify what it did."""
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip_audit", *PIP_AUDIT_ARGS, *extra_args]
        command += ["--format", "json", "--output", str(report_path)]
        done = subprocess.run(  # nosec B603: fixed argv, no shell
            command, capture_output=True, text=True, check=False
        )
        report = _read_report(report_path)
    return classify(done.returncode, report, done.stderr)


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def main(argv: list[str]) -> int:
    verdict = run_pip_audit(argv)
    print(f"pip-audit {verdict.status.upper()}: {verdict.message}")
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
