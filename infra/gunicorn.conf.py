"""gunicorn settings for Toolkit Exchange: ``gunicorn -c infra/gunicorn.conf.py wsgi:app``.

Every setting can be changed from the environment without editing this file:

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``: nginx in front, never the open internet)
- ``GUNICORN_WORKERS`` or ``WEB_CONCURRENCY`` (default 2 × cores + 1, at most 12)
- ``GUNICORN_THREADS`` (default 1: sync workers; nginx buffers slow clients for them)
- ``GUNICORN_TIMEOUT`` (default 120 s: a share reads several files, each up to
  ``EXCHANGE_EXTRACT_TIMEOUT_S``), ``GUNICORN_MAX_REQUESTS`` (default 10000, 0 = never recycle)
- ``GUNICORN_ACCESS_LOG`` / ``GUNICORN_ERROR_LOG`` (default ``-``: standard output / error)
- ``GUNICORN_PRELOAD`` (default 1)
- ``GUNICORN_WARM_SECONDS`` (default 10): how long the master may spend reading the search
  index into memory before forking workers (0: never)
- ``PROMETHEUS_MULTIPROC_DIR``: set it (with ``EXCHANGE_METRICS=1``) and the workers share
  their metrics through that folder, emptied at every start.

The access log never holds a query string (search words, tokens) or a response's
``Location`` (our downloads redirect to presigned URLs that work for anyone who has them).
With more than one worker, gunicorn refuses to start on ``memory://`` rate limits (each
worker would count alone): ``on_starting`` tells the app its worker count (``EXCHANGE_WORKERS``).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

MAX_WORKERS = 12


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, MAX_WORKERS)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _number("GUNICORN_WORKERS", _number("WEB_CONCURRENCY", _default_workers()))
threads = _number("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _number("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# Recycling bounds slow memory growth, but a new worker starts with empty caches (search
# postings and cards, prepared statements) that take hundreds of requests to fill: at
# 2000, a busy node replaced every worker every half-minute, and searched 20 % slower.
max_requests = _number("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
# Safe: the app factory opens no connection and no file; post_fork drops any the master made.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# Heartbeat files in memory: a slow disk must not make gunicorn kill healthy workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without its query; no %(r)s, %(q)s, %(f)s (referrer) or Location.
access_log_format = (
    '%(h)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'
)
proc_name = "toolkit-exchange"
# gunicorn's control socket defaults to one path per user: two nodes on a machine would
# fight over it. Off unless a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = not control_socket


def on_starting(server) -> None:
    """Refuse rate limits kept per worker; start with an empty metrics folder (figures of
    workers from an old run are stale)."""
    _check_rate_limits(server)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def _check_rate_limits(server) -> None:
    """Tell the app how many workers serve it, so it refuses ``memory://`` rate limits.

    Each worker would count on its own and let that many times the limit through. Here the
    worker count is final (command line included). A preloaded app is checked at once: its
    ConfigError stops gunicorn with the message alone. Without preloading, each worker
    checks as it builds its app, from ``EXCHANGE_WORKERS``.
    """
    os.environ["EXCHANGE_WORKERS"] = str(server.cfg.workers)
    app = getattr(server.app, "callable", None)
    if app is None or not hasattr(app, "config"):
        return
    from exchange.config import validate_rate_limits

    app.config["WORKERS"] = server.cfg.workers
    validate_rate_limits(app.config)


def when_ready(server) -> None:
    """Read the search index's postings into the preloaded app before any worker forks.

    Every worker, and every one that replaces a recycled worker, then starts with them
    (shared with the master until written) rather than reading them from disk during its
    first few hundred searches. At most ``GUNICORN_WARM_SECONDS`` (default 10; 0 = off).
    """
    app = getattr(server.app, "callable", None)
    seconds = float(os.environ.get("GUNICORN_WARM_SECONDS", "10") or 0)
    if app is None or not hasattr(app, "extensions") or seconds <= 0:
        return
    from exchange.search import warm

    started = time.monotonic()
    loaded = warm(app, seconds)
    server.log.info("search caches warmed: %d terms in %.1f s", loaded, time.monotonic() - started)


def post_fork(server, worker) -> None:
    """Drop connections, clients and searchers a preloaded master may have made.

    Each would be shared with the master and every sibling after the fork (a database
    socket, an S3 client's connection pool, a Whoosh searcher's open files). The storage
    and the index already notice a new process id and make their own, so this is a
    second line of defence that also covers the database pool.
    """
    app = getattr(worker.app, "callable", None)
    if app is None or not hasattr(app, "extensions"):
        return  # not preloaded: the worker builds its app after this hook
    from exchange.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    storage = app.extensions.get("exchange.storage")
    if storage is not None and hasattr(storage, "_clients"):
        storage._clients = None
    replica = app.extensions.get("exchange.search")
    if replica is not None:
        replica.forget_searchers()


def child_exit(server, worker) -> None:
    """A worker that is gone leaves its counters behind; mark its live gauges as dead."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
