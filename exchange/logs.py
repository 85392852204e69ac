"""Logging: one line per event with the request id, as text or JSON (``EXCHANGE_LOG_FORMAT``).

A request id (taken from ``X-Request-ID`` when a proxy sets one, else made here) ties
together every line one request logs, and is echoed in the response for support.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
QUIET_LIBRARIES = ("boto3", "botocore", "s3transfer", "urllib3")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """Structured lines for log collectors: time, level, logger, request id, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Attach one handler to the ``exchange`` logger; leave the root logger to the host."""
    logger = logging.getLogger("exchange")
    ours = [h for h in logger.handlers if getattr(h, "_exchange", False)]
    if not ours:
        handler = logging.StreamHandler()
        handler._exchange = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
        ours = [handler]
    for handler in ours:  # never touch handlers others attached (test capture, the host)
        handler.setFormatter(_formatter(app.config.get("LOG_FORMAT", "text")))
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False
    # Their DEBUG lines carry request signatures and presigned download URLs.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)


def _formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response
