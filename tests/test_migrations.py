"""The Alembic migrations build exactly the schema the models describe.

Tests build their tables from the models (``db.create_all()``), production from the
migrations (``exchange init``); this is what keeps the two from drifting apart.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from exchange import create_app
from exchange.extensions import db
from tests.conftest import DB_BACKENDS, PG_URL, base_config


@pytest.fixture(params=DB_BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    schema = f"exchange_migrate_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_build_the_schema_the_models_describe(
    empty_database_url: str, tmp_path: Path
) -> None:
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        assert inspect(db.engine).get_table_names(), "the migrations created no tables"
        assert schema_differences() == []
        db.engine.dispose()


def test_migrations_can_be_undone_and_replayed(empty_database_url: str, tmp_path: Path) -> None:
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert schema_differences() == []
        db.engine.dispose()
