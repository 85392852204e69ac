"""Heavy work as idempotent jobs, run after the transaction that asked for them commits.

A request that needs slow work done (drawing an office file's first page takes seconds)
calls :func:`enqueue` with the job's name and plain arguments (ids, never objects). The job
waits for the request's transaction: it runs only once that commits, so it always finds
the rows it was asked about, and a share that rolls back leaves no job behind.

The embedded default runs jobs in this process, one at a time, on a background thread.
A Redis queue can take its place behind the same three functions (:func:`job` to declare
a handler, :func:`enqueue`, :func:`wait`), which is why arguments are plain values and why
every handler must be idempotent: a queue may run a job twice, and a handler must then
change nothing the second time (and do nothing when what it was asked about is gone).

A job that fails is logged with its traceback, never dropped silently; the handler itself
records what the page should show when it could not do its work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db

log = logging.getLogger(__name__)

Handler = Callable[..., None]
JobArgument = int | str

_HANDLERS: dict[str, Handler] = {}
# On a session's info: the jobs its current transaction asked for, with their app.
_PENDING = "exchange_jobs_pending"


def job(name: str) -> Callable[[Handler], Handler]:
    """Declare the handler of the jobs called ``name`` (a decorator)."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        return handler

    return register


def enqueue(name: str, *args: JobArgument) -> None:
    """Run job ``name`` with ``args`` once the current transaction commits.

    Outside a transaction it is handed to the runner at once. If the transaction rolls
    back, the job is forgotten with it.
    """
    if name not in _HANDLERS:
        raise KeyError(f"no job is called {name!r}")
    request = (current_app._get_current_object(), name, args)
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_PENDING, []).append(request)
    else:
        _runner().submit(*request)


def wait(timeout_s: float = 600) -> bool:
    """Block until every job handed to this process's runner has finished (tests, and
    commands that must not exit before their jobs are done); False if time ran out."""
    return _runner().wait(timeout_s)


def init_app(app: Flask) -> None:
    """Hand a transaction's jobs to the runner when it commits; drop them if it does not."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    for request in session.info.pop(_PENDING, []):
        _runner().submit(*request)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without committing: its jobs are not to run."""
    if transaction.parent is None and session.info.pop(_PENDING, None):
        log.info("jobs dropped: the transaction that asked for them did not commit")


class InProcessRunner:
    """Runs jobs one at a time on a background thread of this process (the embedded
    default): a burst of shares waits in line instead of starving the web workers."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exchange-job")
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
        future = self._executor.submit(_run, app, name, args)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)

    def wait(self, timeout_s: float) -> bool:
        with self._lock:
            running = set(self._running)
        _done, not_done = wait_for_futures(running, timeout=timeout_s)
        return not not_done

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._running.discard(future)


_RUNNER: InProcessRunner | None = None
_RUNNER_LOCK = threading.Lock()


def _runner() -> InProcessRunner:
    """This process's runner, made on first use (after a server's fork, never before)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = InProcessRunner()
        return _RUNNER


def _run(app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
    """One job in an app context of its own; a failure is logged with its traceback."""
    started = time.perf_counter()
    with app.app_context():
        try:
            _HANDLERS[name](*args)
        except Exception:
            db.session.rollback()
            log.exception("job %s%r failed", name, args)
            return
    log.info("job %s%r done in %.1f s", name, args, time.perf_counter() - started)
