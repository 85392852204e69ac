"""What operators and load balancers ask of a node: readiness, metrics, benchmark baselines.

``/readyz`` answers "should this node get traffic?": the database, the file store and this
node's search index are each checked in a thread with a deadline, so a hung store makes the
probe fail quickly instead of hanging with it. ``/metrics`` (only with ``EXCHANGE_METRICS=1``)
speaks Prometheus; under gunicorn every worker writes its figures to
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any worker adds them up. The benchmark
endpoints (only with ``EXCHANGE_BENCH_ENDPOINTS=1``) give the load test its baselines; the
lean download among them skips the give-to-get rules, so they are for benchmark stacks only.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    request,
)
from flask.blueprints import BlueprintSetupState
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from .. import jobs
from ..extensions import db
from ..models import CORE_WRITES, Download, Resource
from ..search import get_replica
from ..storage import get_storage

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

#: Latency buckets (seconds) from a cached page to a slow share with several files.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


# -- readiness ------------------------------------------------------------------------------


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when every store this node needs answers in time; 503 naming the parts that don't."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    deadline = time.monotonic() + app.config["READY_TIMEOUT_S"]
    pending = {name: _checks_pool().submit(_in_app, app, check) for name, check in CHECKS.items()}
    results = {name: _outcome(name, future, deadline) for name, future in pending.items()}
    ready = all(result["ok"] for result in results.values())
    status = 200 if ready else 503
    return jsonify(status="ready" if ready else "not ready", checks=results), status


def _check_database() -> dict[str, Any]:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {}


def _check_storage() -> dict[str, Any]:
    get_storage().check()
    return {}


def _check_index() -> dict[str, Any]:
    """Apply what is pending (if no other worker is at it), then compare with the log head."""
    replica = get_replica()
    replica.catch_up(wait=0)
    position, head = replica.lag()
    allowed = current_app.config["READY_MAX_INDEX_LAG"]
    if head - position > allowed:
        raise IndexBehind(f"{head - position} changes behind (more than {allowed})")
    return {"position": position, "head": head, "lag": head - position}


def _check_queue() -> dict[str, Any]:
    """The job queue answers (Redis, when it is used); its depth and oldest job's age are
    reported, not judged: a long queue slows "reading your files", it breaks nothing."""
    figures = jobs.stats()
    return {"runner": figures.runner, "depth": figures.depth, "oldest_age_s": figures.oldest_age_s}


class IndexBehind(RuntimeError):
    """This node's search index has fallen too far behind the change log to serve."""


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _check_database,
    "storage": _check_storage,
    "index": _check_index,
    "queue": _check_queue,
}


def _in_app(app: Flask, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    with app.app_context():
        try:
            return check()
        finally:
            db.session.remove()


def _outcome(name: str, future: Future, deadline: float) -> dict[str, Any]:
    """The check's result, or why it failed; details go to the log, not to the caller."""
    try:
        details = future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        log.warning("readiness: %s did not answer in time", name)
        return {"ok": False, "error": "no answer in time"}
    except IndexBehind as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: %s failed: %s", name, exc)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, **details}


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _checks_pool() -> ThreadPoolExecutor:
    """A few threads per process (never shared across a fork) that run the checks.

    Bounded on purpose: while a store hangs, probes queue here and report "no answer in
    time" instead of piling up threads.
    """
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(6, thread_name_prefix="readyz"))
        return _pool[1]


# -- metrics --------------------------------------------------------------------------------


@functools.cache
def _metrics() -> Any:
    """The process's metric objects, made on first use (after gunicorn has set the folder)."""
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry, Counter, Histogram

    shared_folder = os.environ.get(MULTIPROC_ENV)
    if shared_folder:
        os.makedirs(shared_folder, exist_ok=True)
    registry = None if shared_folder else CollectorRegistry(auto_describe=True)
    return SimpleNamespace(
        registry=registry,
        latency=Histogram(
            "exchange_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        responses=Counter(
            "exchange_responses",
            "Responses sent, by endpoint and status code.",
            ["endpoint", "status"],
            registry=registry,
        ),
        shares=Counter("exchange_shares", "Resources shared (committed).", registry=registry),
        downloads=Counter(
            "exchange_downloads",
            "File downloads recorded (committed), repeats included.",
            registry=registry,
        ),
    )


def install_metrics(app: Flask) -> None:
    """Time every request and count committed shares and downloads; serve ``/metrics``."""
    _metrics()
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "ops.metrics", metrics_page)
    _listen_for_commits()


def _start_timer() -> None:
    g.ops_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("ops_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        metrics = _metrics()
        elapsed = time.perf_counter() - started
        metrics.latency.labels(endpoint, request.method).observe(elapsed)
        metrics.responses.labels(endpoint, str(response.status_code)).inc()
    return response


def metrics_page() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = _scrape_registry(current_app._get_current_object())  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0])


def _scrape_registry(app: Flask) -> Any:
    """What one scrape reports: every worker's figures (or this process's), plus index lag."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(_metrics().registry))
    registry.register(_IndexCollector(app))
    registry.register(_QueueCollector(app))
    return registry


class _Forward:
    """Hands on the families of this process's own registry (single-process servers)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


class _IndexCollector:
    """This node's index position, the log head and the lag, read at scrape time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        with self.app.app_context():
            position, head = get_replica().lag()
        yield GaugeMetricFamily(
            "exchange_index_lag",
            "Changes this node's search index has not applied.",
            head - position,
        )
        yield GaugeMetricFamily(
            "exchange_index_position", "Change-log position of this node's index.", position
        )
        yield GaugeMetricFamily("exchange_change_log_head", "Newest change-log position.", head)


class _QueueCollector:
    """The job queue's depth, its oldest waiting job's age and the dead letters, read at
    scrape time (from Redis, or this process's runner)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        with self.app.app_context():
            figures, failed = jobs.stats(), jobs.failed_count()
            db.session.remove()
        yield GaugeMetricFamily("exchange_queue_depth", "Jobs waiting to start.", figures.depth)
        yield GaugeMetricFamily(
            "exchange_queue_oldest_age_seconds",
            "How long the oldest waiting job has waited.",
            figures.oldest_age_s,
        )
        yield GaugeMetricFamily("exchange_failed_jobs", "Jobs that failed every try.", failed)


# Shares and downloads are counted when their rows commit, wherever they come from (web
# form, import), and never for a transaction that rolled back.
_COUNTED = {Resource: "shares", Download: "downloads"}


@functools.cache
def _listen_for_commits() -> None:
    event.listen(Session, "after_flush", _note_new_rows)
    event.listen(Session, "after_commit", _count_committed)
    event.listen(Session, "after_rollback", _forget_pending)


def _note_new_rows(session: Session, _flush_context: object) -> None:
    pending = session.info.setdefault("ops_pending", Tally())
    for row in session.new:
        name = _COUNTED.get(type(row))
        if name:
            pending[name] += 1


def _count_committed(session: Session) -> None:
    pending = session.info.pop("ops_pending", None) or Tally()
    for model, count in session.info.pop(CORE_WRITES, {}).items():
        if model in _COUNTED:
            pending[_COUNTED[model]] += count
    if pending:
        metrics = _metrics()
        for name, count in pending.items():
            getattr(metrics, name).inc(count)


def _forget_pending(session: Session) -> None:
    session.info.pop("ops_pending", None)
    session.info.pop(CORE_WRITES, None)


@bp.record_once
def _optional_parts(state: BlueprintSetupState) -> None:
    if state.app.config["METRICS"]:
        install_metrics(state.app)
    if state.app.config["BENCH_ENDPOINTS"]:
        from ..ops.bench import install_bench_endpoints

        install_bench_endpoints(state.app)
