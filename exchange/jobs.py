"""Heavy work as idempotent jobs, run after the transaction that asked for them commits.

A request that needs slow work done (drawing an office file's first page takes seconds)
calls :func:`enqueue` with the job's name and plain arguments (ids, never objects). The job
waits for the request's transaction: it runs only once that commits, so it always finds
the rows it was asked about, and a share that rolls back leaves no job behind.

Two runners stand behind the same three functions (:func:`job` to declare a handler,
:func:`enqueue`, :func:`wait`) and run the same handler code:

- the embedded default (``EXCHANGE_QUEUE_URL`` unset) runs jobs in this process, one at a
  time, on a background thread, so ``make run`` needs no other service;
- with ``EXCHANGE_QUEUE_URL`` set, jobs go on an RQ queue in Redis and ``exchange worker``
  processes run them, each job in a forked child, with retries after a delay, a time limit,
  and a heartbeat: a job whose worker died (killed, or its machine lost) is noticed as
  abandoned and run again by another worker.

So arguments are plain values and every handler must be idempotent: a queue may run a job
twice, and a handler must then change nothing the second time (and do nothing when what
it was asked about is gone).

A job that fails every try is logged with its traceback and written to the dead-letter
list (``failed_jobs``), which the admin area shows with Retry and Discard; the handler
itself records what the page should show when it could not do its work.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Callback, Queue, Retry, Worker
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.event import contains, listen
from sqlalchemy.orm import Session, SessionTransaction

from .config import queue_retry_delays
from .extensions import db
from .models import FailedJob
from .vocab import N_

log = logging.getLogger(__name__)

Handler = Callable[..., None]
JobArgument = int | str
# Told a job failed its last try: its arguments and the problem in one line.
GaveUp = Callable[[tuple[JobArgument, ...], str], None]

_HANDLERS: dict[str, Handler] = {}
_GAVE_UP: dict[str, GaveUp] = {}
# On a session's info: the jobs its current transaction asked for, with their app.
_PENDING = "exchange_jobs_pending"
_EXTENSION = "exchange.jobs"
# How long RQ keeps its own record of a failed job; the dead-letter list is the table.
_RQ_FAILURE_TTL_S = 7 * 24 * 3600
# The problem of a job whose worker died on every try, stored in English like an
# exception's line, and translated where a page shows it.
WORKER_LOST = N_("The worker stopped during the job (killed or lost) on every try.")


@dataclass(frozen=True)
class QueueStats:
    """What /readyz and /metrics say about the queue."""

    runner: str  # "in-process", "eager" or "redis"
    depth: int  # jobs waiting to start
    oldest_age_s: float  # how long the oldest of them has waited (0 when none)


def job(name: str, gave_up: GaveUp | None = None) -> Callable[[Handler], Handler]:
    """Declare the handler of the jobs called ``name`` (a decorator).

    ``gave_up`` is called, in a transaction of its own, when a job fails its last try (or
    its worker died on every try): the place to leave the page a word on what went wrong,
    since the handler itself never knows which try is its last.
    """

    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        if gave_up is not None:
            _GAVE_UP[name] = gave_up
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
        _submit(*request)


def wait(timeout_s: float = 600) -> bool:
    """Block until every job handed to this app's runner has finished (tests, and
    commands that must not exit before their jobs are done); False if time ran out.

    On the Redis queue that means until the queue is empty and no worker is running one
    of its jobs: workers run them, this process only watches.
    """
    runner = runner_of(current_app) if has_app_context() else _in_process_runner()
    return runner.wait(timeout_s)


def stats() -> QueueStats:
    """The queue's depth and the age of its oldest waiting job, for this app's runner."""
    return runner_of(current_app).stats()


def init_app(app: Flask) -> None:
    """Choose the app's runner, and hand a transaction's jobs to it when it commits (and
    drop them if it does not)."""
    url = app.config.get("QUEUE_URL") or ""
    if url:
        app.extensions[_EXTENSION] = RedisRunner(app)
    elif app.config.get("JOBS_EAGER"):
        app.extensions[_EXTENSION] = EagerRunner(app.config.get("JOBS_EAGER_EXCEPT") or ())
    else:
        app.extensions[_EXTENSION] = _in_process_runner()
    if not contains(Session, "after_commit", _after_commit):
        listen(Session, "after_commit", _after_commit)
        listen(Session, "after_transaction_end", _after_transaction_end)


def runner_of(app: Flask) -> InProcessRunner | EagerRunner | RedisRunner:
    return app.extensions[_EXTENSION]


def _submit(app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
    runner_of(app).submit(app, name, args)


def _after_commit(session: Session) -> None:
    """The outermost transaction committed: its jobs may run. (A savepoint's release is
    reported as a commit too, while the transaction around it may still roll back.)"""
    if session.in_nested_transaction():
        return
    for request in session.info.pop(_PENDING, []):
        _submit(*request)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without committing: its jobs are not to run."""
    if transaction.parent is None and session.info.pop(_PENDING, None):
        log.info("jobs dropped: the transaction that asked for them did not commit")


def run_handler(name: str, args: tuple[JobArgument, ...] | list[JobArgument]) -> None:
    """The one code path both runners take: the handler, in the caller's app context; a
    failure rolls the job's open transaction back before it is reported."""
    started = time.perf_counter()
    try:
        _HANDLERS[name](*args)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    log.info("job %s%r done in %.1f s", name, tuple(args), time.perf_counter() - started)


# -- the embedded default: in this process --------------------------------------------


class InProcessRunner:
    """Runs jobs one at a time on a background thread of this process (the embedded
    default): a burst of shares waits in line instead of starving the web workers."""

    runner = "in-process"

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exchange-job")
        self._waiting: dict[Future[None], float] = {}  # each job and when it was handed in
        self._lock = threading.Lock()

    def submit(self, app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
        future = self._executor.submit(_run_in_process, app, name, args)
        with self._lock:
            self._waiting[future] = time.time()
        future.add_done_callback(self._forget)

    def wait(self, timeout_s: float) -> bool:
        with self._lock:
            running = set(self._waiting)
        _done, not_done = wait_for_futures(running, timeout=timeout_s)
        return not not_done

    def stats(self) -> QueueStats:
        with self._lock:
            waiting = [since for future, since in self._waiting.items() if not future.running()]
        oldest = time.time() - min(waiting) if waiting else 0.0
        return QueueStats(self.runner, len(waiting), round(oldest, 3))

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._waiting.pop(future, None)


class EagerRunner:
    """Runs each job at once, right after the commit that asked for it, while the thread
    that handed it over waits: the job runs on a thread of its own (so, as on the
    background thread, it sees no request of the caller's, nor its app context or
    session), through the same :func:`run_handler` and dead-letter path. For tests, which
    then see a share's jobs done when its request returns. Never for a site: the request
    would wait for the job.

    Jobs named in ``background`` still go to the background thread (a test that holds
    that thread, to see a page before such a job has run)."""

    runner = "eager"

    def __init__(self, background: tuple[str, ...] | list[str] = ()) -> None:
        self.background = frozenset(background)

    def submit(self, app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
        if name in self.background:
            _in_process_runner().submit(app, name, args)
            return
        worker = threading.Thread(target=_run_in_process, args=(app, name, args), name=name)
        worker.start()
        worker.join()

    def wait(self, timeout_s: float) -> bool:
        return _in_process_runner().wait(timeout_s) if self.background else True

    def stats(self) -> QueueStats:
        return _in_process_runner().stats() if self.background else QueueStats("eager", 0, 0)


_IN_PROCESS: InProcessRunner | None = None
_IN_PROCESS_LOCK = threading.Lock()


def _in_process_runner() -> InProcessRunner:
    """This process's runner, made on first use (after a server's fork, never before)."""
    global _IN_PROCESS
    with _IN_PROCESS_LOCK:
        if _IN_PROCESS is None:
            _IN_PROCESS = InProcessRunner()
        return _IN_PROCESS


def _run_in_process(app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
    """One job in an app context of its own; a failure is logged and dead-lettered."""
    with app.app_context():
        try:
            run_handler(name, args)
        except Exception as exc:
            log.exception("job %s%r failed", name, args)
            record_failure(name, args, _last_line(exc), tries=1)


# -- the Redis queue (RQ) ---------------------------------------------------------------


class RedisRunner:
    """Puts jobs on an RQ queue in Redis; ``exchange worker`` processes run them."""

    runner = "redis"

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.delays = queue_retry_delays(config) or []
        self.timeout_s = config["JOB_TIMEOUT_S"]
        self.queue = Queue(
            str(config["QUEUE_NAME"]),
            connection=Redis.from_url(config["QUEUE_URL"], socket_timeout=10),
            serializer=JSONSerializer,
            default_timeout=self.timeout_s,
        )

    def submit(self, app: Flask, name: str, args: tuple[JobArgument, ...]) -> None:
        self.queue.enqueue_call(
            perform,
            args=(name, list(args)),
            timeout=self.timeout_s,
            retry=Retry(max=len(self.delays), interval=self.delays) if self.delays else None,
            failure_ttl=_RQ_FAILURE_TTL_S,
            on_failure=Callback(_on_failure),
            meta={"tries": 1 + len(self.delays)},
            description=f"{name}{tuple(args)!r}",
        )

    def wait(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self._unfinished():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stats(self) -> QueueStats:
        oldest = 0.0
        first = self.queue.get_job_ids(0, 0)
        job = first and self.queue.fetch_job(first[0])
        if job and job.enqueued_at:
            since = job.enqueued_at
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
            oldest = (datetime.now(UTC) - since).total_seconds()
        return QueueStats(self.runner, self.queue.count, round(max(oldest, 0.0), 3))

    def _unfinished(self) -> int:
        queue = self.queue
        return queue.count + queue.started_job_registry.count + queue.scheduled_job_registry.count


class ExchangeWorker(Worker):
    """RQ's forking worker, with a job's heartbeat lasting three beats instead of a beat
    plus a minute, so a job whose worker was killed is taken up again within seconds."""

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return 3 * self.job_monitoring_interval


_WORKER_APP: Flask | None = None


def run_worker(app: Flask, burst: bool = False) -> None:
    """Run jobs from the app's queue until stopped (or, with ``burst``, until it is empty).

    The worker forks a child for each job, so a job that leaks memory or crashes takes
    only its child with it; the children inherit the app made here.
    """
    global _WORKER_APP
    runner = runner_of(app)
    if not isinstance(runner, RedisRunner):
        raise RuntimeError("EXCHANGE_QUEUE_URL is not set: jobs run in the web process.")
    _WORKER_APP = app
    maintenance_s = app.config["QUEUE_MAINTENANCE_S"]
    worker = ExchangeWorker(
        [runner.queue],
        connection=runner.queue.connection,
        serializer=JSONSerializer,
        worker_ttl=maintenance_s + 15,  # an idle worker wakes this often minus 15 s
        job_monitoring_interval=app.config["QUEUE_HEARTBEAT_S"],
        maintenance_interval=maintenance_s,
    )
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def perform(name: str, args: list[JobArgument]) -> None:
    """What the queue's workers call: the job's handler, in the worker's app context."""
    if _WORKER_APP is None:
        raise RuntimeError("jobs run in `exchange worker`, which makes the app they need")
    with _WORKER_APP.app_context():
        _fresh_connections()
        run_handler(name, args)


def _fresh_connections() -> None:
    """A forked child must not use the database connections its parent opened."""
    for engine in db.engines.values():
        engine.dispose(close=False)


def _on_failure(job: Job, _connection: Any, kind: type, error: BaseException, _tb: Any) -> None:
    """RQ tells us a try failed (or was abandoned); the last one goes to the dead letters."""
    if job.should_retry or _WORKER_APP is None:
        return
    name, args = job.args
    problem = _last_line(error)
    if kind is AbandonedJobError or isinstance(error, AbandonedJobError):
        problem = WORKER_LOST
    with _WORKER_APP.app_context():
        record_failure(name, args, problem, tries=int(job.meta.get("tries", 1)))


def _last_line(error: BaseException) -> str:
    return traceback.format_exception_only(type(error), error)[-1].strip()[:500]


# -- the dead-letter list ---------------------------------------------------------------


def record_failure(name: str, args: Any, error: str, tries: int) -> None:
    """Write a job that failed every try to the dead-letter list, in a transaction of its
    own (the job's was rolled back), after telling its ``gave_up`` hook; a database that
    cannot take it leaves the log line."""
    _tell_gave_up(name, tuple(args), error)
    try:
        db.session.add(FailedJob(name=name, args=json.dumps(list(args)), error=error, tries=tries))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("job %s%r could not be written to the dead-letter list", name, args)
    finally:
        db.session.remove()


def _tell_gave_up(name: str, args: tuple[JobArgument, ...], error: str) -> None:
    hook = _GAVE_UP.get(name)
    if hook is None:
        return
    try:
        hook(args, error)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("job %s%r: its gave-up hook failed", name, args)
    finally:
        db.session.remove()


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """The dead-letter list, newest first."""
    query = select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def failed_count() -> int:
    return db.session.scalar(select(func.count(FailedJob.id))) or 0


def retry_failed(failed_id: int) -> bool:
    """Run a dead-lettered job again (after the caller's commit) and take it off the list;
    False if it is no longer there or its job no longer exists."""
    failed = db.session.get(FailedJob, failed_id)
    if failed is None or failed.name not in _HANDLERS:
        return False
    enqueue(failed.name, *json.loads(failed.args))
    db.session.delete(failed)
    db.session.flush()
    return True


def discard_failed(failed_id: int) -> bool:
    """Take a job off the dead-letter list without running it; False if it was not there."""
    removed = db.session.execute(delete(FailedJob).where(FailedJob.id == failed_id)).rowcount
    return bool(removed)
