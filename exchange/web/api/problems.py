"""Errors on ``/api`` as ``application/problem+json`` (RFC 9457), the site's pages aside.

Each kind of problem has a stable ``type``: a path under ``/api/problems/`` (a URI reference
resolved against the API's own address, as RFC 9457 allows), which answers with what that
kind means. Clients branch on ``type``; ``title`` and ``detail`` are for people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from flask import Response, abort, current_app, json, request
from werkzeug.exceptions import HTTPException

from ...community import Refused
from ...extensions import db
from ...storage import ObjectNotFound, StorageError

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_ROOT = "/api/problems/"


@dataclass(frozen=True)
class Kind:
    slug: str
    status: int
    title: str
    meaning: str


KINDS = {
    kind.slug: kind
    for kind in (
        Kind("bad-request", 400, "Bad request", "The request could not be read."),
        Kind(
            "unauthorized",
            401,
            "Authentication required",
            "Send a personal access token as `Authorization: Bearer tke_…`; it is missing, "
            "unknown, revoked or expired, or its member can no longer sign in. Cookies are "
            "not read on the API.",
        ),
        Kind("forbidden", 403, "Forbidden", "The token's member may not do this."),
        Kind(
            "insufficient-scope",
            403,
            "Token scope too narrow",
            "This operation needs a token with the `write` scope.",
        ),
        Kind(
            "download-refused",
            403,
            "Download not allowed yet",
            "Give-to-get: the member has used their starter downloads, or the giver kept the "
            "resource for members who share. `step` names what unlocks it.",
        ),
        Kind("not-found", 404, "Not found", "Nothing here, or nothing this member may see."),
        Kind("method-not-allowed", 405, "Method not allowed", "This address takes other methods."),
        Kind(
            "conflict",
            409,
            "Refused",
            "A rule of the exchange said no; `detail` says which, in the site's words.",
        ),
        Kind(
            "starter-download",
            409,
            "Confirm a starter download",
            "Taking this spends one of the member's starter downloads: send the same request "
            "as POST to take it deliberately (a GET never spends one).",
        ),
        Kind("too-large", 413, "Too large", "The upload exceeds the size limit or the quota."),
        Kind(
            "invalid",
            422,
            "Invalid input",
            "Some fields were refused; `errors` names each field and its problems.",
        ),
        Kind(
            "rate-limited",
            429,
            "Too many requests",
            "Wait for the seconds `Retry-After` gives before trying again.",
        ),
        Kind("server-error", 500, "Server error", "Something failed on our side; it is logged."),
        Kind(
            "unavailable",
            503,
            "Temporarily unavailable",
            "The file store or search index cannot be reached; try again shortly.",
        ),
    )
}
_BY_STATUS = {kind.status: kind for kind in reversed(KINDS.values())}


def on_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def problem(
    slug: str, detail: str = "", status: int | None = None, headers=None, **extra
) -> Response:
    """A problem+json response of kind ``slug``; ``extra`` members join the object."""
    kind = KINDS[slug]
    body = {
        "type": TYPE_ROOT + kind.slug,
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail or kind.meaning,
        "instance": request.path,
        **extra,
    }
    return current_app.response_class(
        json.dumps(body), status=body["status"], mimetype=CONTENT_TYPE, headers=headers
    )


def fail(slug: str, detail: str = "", **extra) -> NoReturn:
    """Stop the view with this problem (the response passes the after-request hooks)."""
    abort(problem(slug, detail, **extra))


def for_exception(exc: Exception) -> Response:
    """The problem for any exception the site's error handlers meet on an API path."""
    if isinstance(exc, HTTPException) and exc.response is not None:
        return exc.response
    if isinstance(exc, Refused):
        db.session.rollback()
        return problem("conflict", str(exc))
    if isinstance(exc, ObjectNotFound):
        return problem("not-found")
    if isinstance(exc, StorageError):
        log.error("storage unavailable on %s %s: %s", request.method, request.path, exc)
        return problem("unavailable")
    if isinstance(exc, HTTPException):
        return _for_http(exc)
    return _server_error(exc)


def _for_http(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code >= 500 and code != 503:
        return _server_error(exc)
    kind = _BY_STATUS.get(code)
    data = getattr(exc, "data", None) or {}
    extra = {"errors": data["messages"]} if "messages" in data else {}
    detail = exc.description if exc.description != type(exc).description else ""
    if kind is None:
        return problem("bad-request", detail or exc.description or "", status=code)
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if code == 401 else None
    return problem(kind.slug, detail, headers=headers, **extra)


def _server_error(exc: Exception) -> Response:
    original = getattr(exc, "original_exception", None) or exc
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return problem("server-error")


def or_page(handler: Callable) -> Callable:
    """Wrap a site error handler: a problem on API paths, the site's page elsewhere."""

    def handle(exc: Exception):
        return for_exception(exc) if on_api() else handler(exc)

    handle.__name__ = getattr(handler, "__name__", "handle")
    return handle
