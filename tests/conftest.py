"""Fixtures: a fresh app per test on a real database, a real file store and a real index.

Database-touching tests run on SQLite and, when ``EXCHANGE_TEST_DATABASE_URL`` points at a
PostgreSQL server, on PostgreSQL too (each pytest-xdist worker in a schema of its own).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from exchange import create_app
from exchange.extensions import db

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.members", "tests.fixtures.browser"]

TEST_SECRET = "test-secret-key-that-is-long-enough-for-validation"
PG_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL", "")
DB_BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def base_config(tmp_path: Path, database_url: str) -> dict:
    """What every test app gets: embedded stores under ``tmp_path``, fast hashing, no CSRF."""
    return {
        "ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "STORAGE_URL": (tmp_path / "files").as_uri(),
        "INDEX_DIR": str(tmp_path / "index"),
        "FAST_PASSWORDS": True,
        "SITE_URL": "http://localhost",  # the test client's host
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # LibreOffice takes seconds per office file: only the tests about it turn it on.
        "OFFICE_PREVIEWS": False,
        # Tesseract takes seconds per scanned page: only the tests about OCR turn it on.
        "OCR": False,
        # Notification emails wait in the outbox for `send-emails`, so tests about the
        # outbox see them there; tests/test_queue.py turns the email job on.
        "EMAIL_JOBS": False,
        # Jobs run right after the commit that asked for them, the caller waiting, through
        # the same handler path as the background thread (exchange/jobs.py, EagerRunner):
        # a share's files are read, credited and searchable when its request returns, as
        # most tests expect. Tests of the waiting itself ("Reading your files…", a held
        # job) turn it off: make_app(JOBS_EAGER=False).
        "JOBS_EAGER": True,
    }


@pytest.fixture(autouse=True)
def _capture_exchange_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The app's logger keeps to its own handler (it does not propagate to the root, where
    pytest listens), so give it pytest's capture handler too: every test can read what the
    app logged, whatever ran before it in the same process."""
    logger = logging.getLogger("exchange")
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search path is a schema private to this test process.

    Named after the process id, so parallel workers and parallel runs never meet.
    """
    schema = f"exchange_test_{os.getpid()}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding the empty schema, made once per test process.

    SQLite runs each CREATE outside a transaction, syncing the file to disk every time: a
    hundred statements per test cost more than most tests. A copy of this file costs almost
    nothing, and ``reset_schema`` then finds every table already there.
    """
    root = tmp_path_factory.mktemp("schema")
    path = root / "template.sqlite3"
    app = create_app(base_config(root, f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(params=DB_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_schema_url")


def empty_tables_sql(metadata) -> str:
    """DELETE from every table, dependents first. A test leaves a few rows: deleting them
    takes a few milliseconds, where TRUNCATE makes every table anew and takes most of a
    second, longer than most tests."""
    return "; ".join(f"DELETE FROM {t.name}" for t in reversed(metadata.sorted_tables))


# Ids start at 1 again in every test, as they do on a new SQLite file.
RESTART_SEQUENCES_SQL = """DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() LOOP
    EXECUTE 'ALTER SEQUENCE ' || quote_ident(r.sequencename) || ' RESTART';
  END LOOP; END $$"""


def reset_schema(app: Flask) -> None:
    """Empty tables for this test: a new file on SQLite, rows deleted on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.create_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql(empty_tables_sql(db.metadata))
                conn.exec_driver_sql(RESTART_SEQUENCES_SQL)
        else:
            db.create_all()


@pytest.fixture
def make_app(tmp_path: Path, database_url: str):
    """Build apps with extra settings on this test's database and folders."""
    made: list[Flask] = []

    def factory(**overrides) -> Flask:
        app = create_app({**base_config(tmp_path, database_url), **overrides})
        if not made:
            reset_schema(app)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture(params=["local", "s3"])
def store_app(request: pytest.FixtureRequest, make_app, monkeypatch) -> Flask:
    """An app on the folder store, then on a real S3 server (SeaweedFS) under a fresh prefix."""
    if request.param == "local":
        return make_app()
    server = request.getfixturevalue("seaweedfs")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return make_app(STORAGE_URL=f"s3://{server.bucket}/app-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
