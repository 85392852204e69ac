"""The browser suite's world: the real app served over HTTP, and Debian's Chromium driving it.

The server is the whole app as an operator runs it (CSRF on, a SQLite database, a folder
store and a search index in a temporary folder), served by werkzeug in a thread on a free
port of 127.0.0.1. Rate limits are off so that many people can register quickly; the error
pages get their own small server (see ``test_error_pages.py``).

Every browser test is skipped, saying why, when no Chromium can be found. Browsers are
never downloaded: ``playwright install`` is not needed and not used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from exchange import create_app
from exchange.extensions import db
from tests.conftest import base_config, reset_schema

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each browser test module on one xdist worker, in its order.

    The site and the browser are made once per worker (session fixtures), so spreading the
    modules over both workers costs one more start and keeps the workers evenly loaded.
    """
    here = Path(__file__).parent
    for item in items:
        path = Path(item.fspath)
        if here in path.parents:
            item.add_marker(pytest.mark.xdist_group(f"browser-{path.stem}"))


@dataclass
class LiveServer:
    """A running copy of the site: where to reach it, and the app behind it."""

    url: str
    app: Flask
    extra: dict = field(default_factory=dict)


def live_config(root: Path, **overrides) -> dict:
    """The test app's settings with CSRF on, as a real browser meets the site."""
    return {
        **base_config(root, f"sqlite:///{root / 'site.sqlite3'}"),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        # Unexpected errors get the site's 500 page, as in production, not the debugger's.
        "PROPAGATE_EXCEPTIONS": False,
        # No mail server here: the confirmation link is shown on the page, as in development.
        "MAIL_LINKS_ON_PAGE": True,
        **overrides,
    }


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` over real HTTP on a free loopback port until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = url  # links on pages and in emails lead to this server
    try:
        yield LiveServer(url=url, app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def start_app(root: Path, **overrides) -> Flask:
    app = create_app(live_config(root, **overrides))
    reset_schema(app)
    return app


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str):
    """One site for the whole browser suite; tests tell their data apart by unique words."""
    app = start_app(tmp_path_factory.mktemp("live-site"))
    with serve(app) as server:
        yield server


class PageProblems:
    """What a page's own script got wrong: uncaught errors and Content-Security-Policy refusals.

    A person sees neither, but either one means a feature silently stopped working.
    """

    def __init__(self) -> None:
        self.found: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.found.append(f"script error: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.found.append(f"refused by CSP: {message.text}")


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable]:
    """Open pages in fresh browser profiles (no shared cookies), phone or desktop sized."""
    contexts = []
    problems = PageProblems()

    def opener(viewport: dict | None = None, javascript: bool = True, server=None, signed_in=None):
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            base_url=(server or live_server).url,
            java_script_enabled=javascript,
            accept_downloads=True,
            storage_state=signed_in,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not problems.found, "\n".join(problems.found)


@pytest.fixture
def page(open_page):
    """A desktop-sized page in a fresh browser profile."""
    return open_page()


def screenshot(page, name: str) -> Path:
    """Save the whole page under tests/artifacts/screenshots/ for a person to look at."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")  # previews are not lazy, so "load" means they are in
    page.screenshot(path=str(path), full_page=True)
    return path


SERIOUS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """Run axe-core (the copy vendored by axe-playwright-python) on the page as it stands.

    Every finding is written to tests/artifacts/axe/ for a person to read; the caller
    decides which ones fail the test.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"][:5])
        lines.append(f"{v['impact']}: {v['id']} — {v['help']} — at {targets}")
    return "\n".join(lines)


def assert_accessible(page, name: str) -> None:
    """No serious or critical axe-core violation on the page (all findings are saved)."""
    violations = axe_violations(page)
    report = ARTIFACTS / "axe" / f"{name}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text((describe(violations) or "no violations") + "\n", encoding="utf-8")
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{page.url}:\n{describe(serious)}"
