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
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    session,
)
from flask.blueprints import BlueprintSetupState
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.orm import Session

from .. import search as search_mod
from ..credit import content_disposition, download_name
from ..extensions import db
from ..models import CORE_WRITES, Download, Member, Resource, StoredFile, utcnow
from ..operations import _LEDGER_STATEMENT as LEDGER_STATEMENT
from ..operations import _ledger_step_by_step as ledger_step_by_step
from ..search import get_replica
from ..search.snippets import snippets_for
from ..storage import S3Storage, get_storage
from .cards import search_cards
from .helpers import request_url, whole_number
from .search import FILTER_ARGS, SearchLinks, facets_of
from .search import PER_PAGE as SEARCH_PER_PAGE
from .search import _hits_in_order as hits_in_order

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


class IndexBehind(RuntimeError):
    """This node's search index has fallen too far behind the change log to serve."""


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _check_database,
    "storage": _check_storage,
    "index": _check_index,
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


# -- benchmark baselines --------------------------------------------------------------------
#
# The load test compares each kind of request with a baseline served by the same workers in
# the same run: ``hello`` (the smallest response), ``template`` (the layout from a cached
# template), and two that do a real request's essential work in the fewest steps, so that
# the ratio measures what the site's own code adds. The lean download reads the member
# from the session cookie, checks the resource is visible, writes the ledger as the real
# download does and presigns the same URL; the lean search makes the real page's engine
# call and renders the same results page with the same data, each part computed the leanest
# way the site knows.

BENCH_PAGE = """{% extends "base.html" %}
{% block title %}Benchmark page{% endblock %}
{% block content %}<h1>A page with the site's layout</h1>
<p class="lead">Rendered from a compiled template that stays cached, with no database work
beyond loading the signed-in member: the baseline that real pages are compared with.</p>
{% endblock %}"""


def install_bench_endpoints(app: Flask) -> None:
    """``/bench/hello``, ``/bench/template``, ``/bench/download/…`` and ``/bench/search``."""
    template = app.jinja_env.from_string(BENCH_PAGE)
    app.add_url_rule("/bench/hello", "ops.bench_hello", _hello)
    app.add_url_rule("/bench/template", "ops.bench_template", lambda: render_template(template))
    app.add_url_rule(
        "/bench/download/<int:resource_id>/<int:file_id>", "ops.bench_download", lean_download
    )
    app.add_url_rule("/bench/search", "ops.bench_search", lean_search)


def _hello() -> Response:
    return Response("Hello, world!\n", mimetype="text/plain")


@dataclass(frozen=True, slots=True)
class LeanMember:
    """The signed-in member as the lean download needs it: three columns, no ORM object."""

    id: int
    is_admin: bool
    region: str

    is_authenticated = True
    is_anonymous = False


_MEMBERS = Member.__table__
_RESOURCES = Resource.__table__
_FILES = StoredFile.__table__
_MEMBER_ROW = select(
    _MEMBERS.c.id,
    _MEMBERS.c.is_admin,
    _MEMBERS.c.region,
    _MEMBERS.c.session_epoch,
    _MEMBERS.c.suspended,
).where(_MEMBERS.c.id == bindparam("member_id"))
_FILE_ROW = (
    select(
        _RESOURCES.c.owner_id,
        _RESOURCES.c.status,
        _RESOURCES.c.title,
        _RESOURCES.c.credit_name,
        _FILES.c.storage_key,
        _FILES.c.credited_key,
        _FILES.c.original_name,
        _FILES.c.content_type,
    )
    .join_from(_FILES, _RESOURCES, _FILES.c.resource_id == _RESOURCES.c.id)
    .where(_RESOURCES.c.id == bindparam("resource_id"), _FILES.c.id == bindparam("file_id"))
)
_LOGGED_ONLY = insert(Download.__table__)
_NO_DISK_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def lean_download(resource_id: int, file_id: int) -> Response:
    """The real download's four steps written plainly: member, visibility, ledger, presign.

    The ledger is written with the real download's own statement and commit settings, so
    the database does the same work for both and the ratio is the site's code alone.
    """
    member = _session_member()
    if member is None:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    ids = {"resource_id": resource_id, "file_id": file_id}
    found = db.session.connection().execute(_FILE_ROW, ids).first()
    if found is None or not _visible_to(member, found):
        abort(404)
    url = _presigned_url(found)
    _write_ledger(member, resource_id, file_id, counts=member.id != found.owner_id)
    headers = {"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(status=302, headers=headers)


def _session_member() -> LeanMember | None:
    """The member named by the session cookie, if its session epoch still matches.

    It becomes the request's user, so the security headers (which ask whether anyone is
    signed in) do not load the member a second time through Flask-Login.
    """
    member_id, _, epoch = str(session.get("_user_id", "")).partition(":")
    if not (whole_number(member_id) and whole_number(epoch) is not None):
        return None
    row = db.session.connection().execute(_MEMBER_ROW, {"member_id": int(member_id)}).first()
    if row is None or row.session_epoch != int(epoch) or row.suspended:
        return None
    g._login_user = LeanMember(row.id, row.is_admin, row.region)  # Flask-Login's slot
    return g._login_user


def _visible_to(member: LeanMember, found: Any) -> bool:
    """:func:`access.can_view`, on the two columns it reads."""
    return found.status == Resource.PUBLISHED or member.is_admin or member.id == found.owner_id


def _presigned_url(found: Any) -> str:
    """The URL the real download redirects to: same key, same forced headers, same signer."""
    storage = get_storage()
    if not isinstance(storage, S3Storage):
        abort(501, description="The lean download presigns S3 URLs; files here are in a folder.")
    name = download_name(found.title, found.credit_name, found.original_name)
    key = found.credited_key or found.storage_key
    params = {
        "Bucket": storage.bucket,
        "Key": f"{storage.prefix}/{key}" if storage.prefix else key,
        "ResponseContentDisposition": content_disposition(name),
        "ResponseContentType": found.content_type,
    }
    signer = storage._signer()  # the store's boto3 client of this process
    return signer.generate_presigned_url(
        "get_object", Params=params, ExpiresIn=storage.presign_seconds
    )


def _write_ledger(member: LeanMember, resource_id: int, file_id: int, counts: bool) -> None:
    """The download row (and, for another's resource, the taker and count), committed."""
    entry = {"member_id": member.id, "resource_id": resource_id, "file_id": file_id}
    entry.update(region=member.region, created_at=utcnow())
    connection = db.session.connection()
    on_postgresql = connection.dialect.name == "postgresql"
    if on_postgresql:
        connection.execute(_NO_DISK_WAIT)
    if not counts:
        connection.execute(_LOGGED_ONLY, entry)
    elif on_postgresql:
        connection.execute(LEDGER_STATEMENT, entry)
    else:  # SQLite, in tests: the real download's statements there
        ledger_step_by_step(entry)
    db.session.commit()


def lean_search() -> str:
    """The real search page's engine call for ``q``, then the same template with the same data.

    Every part the page shows is computed the leanest way the site knows, which is the
    page's own: the hits in one Core statement, snippets from one regular expression,
    facet links joined from pre-encoded arguments, cards from the per-worker store of their
    rendered parts. What the real page adds is only its own handling of the request.
    """
    wanted = search_mod.SearchRequest(
        q=search_mod.clean_query(request.args.get("q", "")), per_page=SEARCH_PER_PAGE
    )
    results = search_mod.search(wanted)
    hits, tags_by_id = hits_in_order(results.ids)
    links = SearchLinks(request_url("search.search"), request.args)
    return render_template(
        "search.html",
        wanted=wanted,
        results=results,
        resources=hits,
        cards=search_cards(hits, snippets_for(hits, results.terms), tags_by_id),
        pages=max(1, -(-results.total // SEARCH_PER_PAGE)),
        filter_args=FILTER_ARGS,
        facets=facets_of(results, links),
        links=links,
    )


@bp.record_once
def _optional_parts(state: BlueprintSetupState) -> None:
    if state.app.config["METRICS"]:
        install_metrics(state.app)
    if state.app.config["BENCH_ENDPOINTS"]:
        install_bench_endpoints(state.app)
