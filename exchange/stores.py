"""The app's handles on its stores, made once per app and reached through small accessors."""

from __future__ import annotations

from flask import Flask

from . import search
from .storage import storage_from_url


def init_app(app: Flask) -> None:
    """Create the file store from ``STORAGE_URL`` (an S3 client is made lazily, per process)."""
    app.extensions["exchange.storage"] = storage_from_url(
        app.config["STORAGE_URL"],
        presign_seconds=app.config["PRESIGN_SECONDS"],
        public_endpoint=app.config.get("S3_PUBLIC_ENDPOINT") or None,
        connect_timeout=app.config["S3_CONNECT_TIMEOUT_S"],
        read_timeout=app.config["S3_READ_TIMEOUT_S"],
    )
    search.init_app(app)
