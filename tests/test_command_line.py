"""The ``exchange`` command and ``make run`` as an operator meets them: every command listed
whatever the environment, a setting that is missing named in one line (never a traceback),
and the development server where ``PORT`` and ``HOST`` say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from exchange.ops.cli import main

PROJECT = Path(__file__).resolve().parents[1]
OUR_COMMANDS = ("init", "create-admin", "reindex", "doctor", "send-emails", "export", "import")


@pytest.fixture
def bare_environment(monkeypatch, tmp_path) -> dict[str, str]:
    """No EXCHANGE_* variable but a temporary instance folder: a fresh shell on a server."""
    for name in list(os.environ):
        if name.startswith("EXCHANGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EXCHANGE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.chdir(tmp_path)  # no .env or .flaskenv of the project's is read
    return dict(os.environ)


def test_help_lists_every_command_without_exchange_env(bare_environment):
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    commands = result.stdout.split("Commands:", 1)[1]
    for name in (*OUR_COMMANDS, "run"):
        assert f"\n  {name} " in commands, name
    assert "Traceback" not in result.output
    problem = result.stderr.strip()
    assert problem.startswith("Error: EXCHANGE_ENV is not set") and "\n" not in problem
    assert "EXCHANGE_ENV=development" in problem and "EXCHANGE_SECRET_KEY" in problem


def test_run_without_exchange_env_says_what_to_set_in_one_line(bare_environment):
    run = [sys.executable, "-c", "from exchange.ops.cli import main; main()", "run"]
    result = subprocess.run(
        run, capture_output=True, text=True, timeout=60, env={**bare_environment, **_path()}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: EXCHANGE_ENV is not set, so the production rules apply")
    assert "set EXCHANGE_ENV=development" in lines[0]


def test_a_set_environment_is_not_second_guessed(bare_environment, monkeypatch):
    monkeypatch.setenv("EXCHANGE_ENV", "production")
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: EXCHANGE_SECRET_KEY is missing or weak")
    assert "EXCHANGE_ENV is not set" not in result.output


def _path() -> dict[str, str]:
    """The project on the child's import path, as the test run has it."""
    paths = [str(PROJECT), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


@pytest.mark.parametrize(
    ("arguments", "listens", "links"),
    [
        ([], "--host 127.0.0.1 --port 5000", "http://127.0.0.1:5000"),
        (["PORT=8123", "HOST=0.0.0.0"], "--host 0.0.0.0 --port 8123", "http://127.0.0.1:8123"),
    ],
)
def test_make_run_serves_where_port_and_host_say(arguments, listens, links):
    dry_run = ["make", "-n", "--no-print-directory", "-C", str(PROJECT), "run", *arguments]
    plan = subprocess.run(dry_run, capture_output=True, text=True, timeout=60, check=True).stdout
    serve = [line for line in plan.splitlines() if "exchange run" in line]
    assert len(serve) == 1, plan
    assert serve[0].endswith(f"exchange run {listens}")
    assert f"EXCHANGE_SITE_URL:-{links}" in serve[0]
