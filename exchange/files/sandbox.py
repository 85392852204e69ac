"""The limited child process: run untrusted parsing in a fresh Python with hard limits.

Shared files come from strangers, and parsers for Office, PDF, RTF and pictures are large C
and Python code bases that can be made to loop, recurse or allocate without end. So text
extraction (:mod:`.extract`) and first-page pictures (:mod:`.preview`) never parse in the
web process: :func:`run_limited` starts a fresh Python (not a fork of a threaded gunicorn
worker), which caps its own memory and CPU time before importing any parser, and the
parent kills its whole process group when the wall-clock budget runs out. Programs the child
starts (Tesseract for scanned pages, LibreOffice for office previews) inherit its limits and
die with its group. Every failure comes back as a reason (:mod:`.reasons`), never as an
exception.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import signal
import subprocess  # nosec B404: fixed argv, never a shell; the child is this module
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .reasons import FAILED, REASONS, TOO_LARGE, TOO_SLOW, ExtractionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildOutcome:
    """What a limited child returned: ``value``, or ``failure`` (a reason) when it failed."""

    value: Any = None
    failure: str = ""


_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # exchange/
# ``-P`` keeps the working directory off the front of sys.path; the package's parent goes
# at the end. A child is started for every file read, so it must start quickly: the
# ``exchange`` and ``exchange.files`` packages are registered as bare namespaces, so their
# ``__init__`` (the files package's face imports every module of it, credit writers and all)
# is not run and the child imports only the modules its target needs.
_CHILD_BOOTSTRAP = (
    "import os, sys, types\n"
    "root = sys.argv[1]\n"
    "sys.path.append(os.path.dirname(root))\n"
    "for name, path in (('exchange', root), ('exchange.files', os.path.join(root, 'files'))):\n"
    "    package = types.ModuleType(name)\n"
    "    package.__path__ = [path]\n"
    "    sys.modules[name] = package\n"
    "from exchange.files.sandbox import child_main\n"
    "child_main(sys.argv[2:])\n"
)
_FILE_WRITE_LIMIT = 64 * 1024 * 1024
_ALARMING = frozenset({TOO_SLOW, TOO_LARGE, FAILED})
_STDERR_TAIL_BYTES = 4096


def run_limited(
    target: str, args: Sequence[str], *, timeout_s: float, memory_mb: int
) -> ChildOutcome:
    """Call ``module:function`` with string ``args`` in a fresh, limited Python process.

    The child caps its address space at ``memory_mb`` and its CPU time near ``timeout_s``
    before importing anything heavy; the parent kills the child's process group once
    ``timeout_s`` of wall-clock time has passed. The function's return value travels back
    as JSON; an :class:`ExtractionError` travels back as its reason.
    """
    cpu_seconds = math.ceil(timeout_s) + 1
    command = [sys.executable, "-P", "-c", _CHILD_BOOTSTRAP, str(_PACKAGE_DIR), target]
    command += [str(memory_mb), str(cpu_seconds), *args]
    with tempfile.TemporaryFile() as stderr:
        child = _start_child(command, stderr)
        try:
            stdout, _ = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            outcome = ChildOutcome(failure=TOO_SLOW)
        else:
            outcome = _read_outcome(child.returncode, stdout)
        if outcome.failure:
            # Locked or scanned files are ordinary; limits hit and crashes deserve a look.
            level = logging.WARNING if outcome.failure in _ALARMING else logging.INFO
            log.log(level, "%s %s: %s\n%s", target, args, outcome.failure, _tail(stderr))
        return outcome


def _start_child(command: list[str], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """A child in a session of its own, so that killing its group reaches its children.

    No ``preexec_fn``: that is unsafe in a threaded parent; the child limits itself.
    """
    return subprocess.Popen(  # nosec B603: our own interpreter and bootstrap, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=_PACKAGE_DIR.parent,
        start_new_session=True,
    )


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """Kill the child and anything it started, then reap it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        child.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # something left the group and still holds the pipe
        child.kill()
        child.wait()


def _read_outcome(returncode: int, stdout: bytes) -> ChildOutcome:
    if returncode == -signal.SIGXCPU:
        return ChildOutcome(failure=TOO_SLOW)
    if returncode == -signal.SIGKILL:  # the kernel's last resort when memory runs out
        return ChildOutcome(failure=TOO_LARGE)
    try:
        reply = json.loads(stdout)
    except ValueError:
        return ChildOutcome(failure=FAILED)
    if not isinstance(reply, dict) or not ("value" in reply or reply.get("error") in REASONS):
        return ChildOutcome(failure=FAILED)
    return ChildOutcome(value=reply.get("value"), failure=reply.get("error", ""))


def _tail(stream: IO[bytes]) -> str:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - _STDERR_TAIL_BYTES))
    return stream.read().decode("utf-8", "replace")


def child_main(argv: Sequence[str]) -> None:
    """The child side of :func:`run_limited`: limit, call, reply with one JSON object.

    Libraries that print (xlrd does) would corrupt the reply, so stdout is pointed at
    stderr for the duration and the reply goes to a private copy of the original stdout.
    """
    target, memory_mb, cpu_seconds, *args = argv
    _limit_self(int(memory_mb), int(cpu_seconds))
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reply = _call(target, args)
    with os.fdopen(reply_fd, "w", encoding="utf-8") as out:
        json.dump(reply, out, ensure_ascii=False)


def _limit_self(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FILE_WRITE_LIMIT, _FILE_WRITE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _call(target: str, args: Sequence[str]) -> dict[str, Any]:
    try:
        module_name, function_name = target.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        return {"value": function(*args)}
    except ExtractionError as exc:
        return {"error": exc.reason}
    except MemoryError:
        return {"error": TOO_LARGE}
    except Exception:
        traceback.print_exc()
        return {"error": FAILED}
