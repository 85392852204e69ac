"""Toolkit Exchange: where career and employment counsellors share the tools they use.

:func:`create_app` is the only entry point; importing the package reads no configuration
and opens no connections.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app: configuration, extensions, stores, blueprints, error pages, CLI.

    ``test_config`` replaces the environment entirely, so a test sees exactly what it sets
    (plus the embedded defaults), whatever variables the machine happens to have.
    Importing the package stays cheap (Flask loads here), so the limited child processes
    that read uploaded files (:mod:`exchange.files.sandbox`) can import
    :mod:`exchange.files.extract` and its readers without the web stack.
    """
    from flask import Flask

    from . import config

    instance_dir = Path((test_config or {}).get("INSTANCE_DIR") or config.instance_dir_from_env())
    app = Flask(
        __name__,
        instance_path=str(instance_dir),
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    config.load(app, test_config)

    from . import extensions, i18n, jobs, logs, stores, transactions, web
    from .ops.cli import register_commands

    logs.configure(app)
    extensions.init_app(app)
    i18n.init_app(app)
    transactions.init_app(app)  # after db: it ends the transaction before db's teardown
    stores.init_app(app)
    jobs.init_app(app)
    web.register(app)
    register_commands(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, take the client's address, scheme and host from X-Forwarded-* headers.

    Only as many hops as ``EXCHANGE_PROXY_FIX`` says are trusted: without it a client could
    forge its address (and dodge rate limits) by sending the headers itself.
    """
    hops = app.config["PROXY_FIX"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
