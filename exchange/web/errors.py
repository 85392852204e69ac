"""Friendly error pages in the site's own design; tracebacks only ever go to the log."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import (
    Forbidden,
    HTTPException,
    InternalServerError,
)

from ..community import Refused
from ..extensions import db, limiter
from ..storage import ObjectNotFound, StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    title: str | LazyString
    message: str | LazyString


PAGES = {
    400: Page(_l("That request didn’t make sense"), _l("Please go back and try again.")),
    403: Page(_l("You can’t open this yet"), _l("This page isn’t available to your account.")),
    404: Page(_l("We can’t find that page"), _l("It may have been moved or removed.")),
    405: Page(_l("That didn’t work"), _l("Please go back and use the buttons on the page.")),
    409: Page(_l("That can’t be done"), _l("Please go back and try again.")),
    413: Page(
        _l("That upload is too large"),
        _l("Nothing was saved. Please choose smaller files and try again."),
    ),
    429: Page(
        _l("Too many attempts"),
        _l(
            "We’ve paused this for a little while to keep the site safe for everyone. "
            "Please wait a minute and try again."
        ),
    ),
    500: Page(
        _l("Something went wrong on our side"),
        _l("It’s been logged and we’ll look into it. Please try again in a moment."),
    ),
    503: Page(
        _l("We can’t reach our file store right now"),
        _l("Nothing you shared has been lost. Please try again in a few minutes."),
    ),
}


class AccessDenied(Forbidden):
    """A 403 that says why and names the one step that unlocks access."""

    def __init__(self, reason: str, step_label: str = "", step_url: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.step_label = step_label
        self.step_url = step_url


def render_error(code: int, **context):
    page = PAGES.get(code, PAGES[500])
    context.setdefault("message", page.message)
    context.setdefault("max_upload_mb", None)
    return render_template("error.html", code=code, title=page.title, **context), code


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    if isinstance(exc, AccessDenied):
        return render_error(
            403, message=exc.reason, step_label=exc.step_label, step_url=exc.step_url
        )
    if code in (413, 503) and exc.description != type(exc).description:
        return render_error(code, message=exc.description)  # our own, more specific reason
    if code == 429:
        return render_error(429, message=_when_to_come_back())
    return render_error(code if code in PAGES else 500)


def _when_to_come_back() -> str:
    """The 429 page's advice, from the limit that refused: a minute for logins, up to an hour
    for posts (the same wait as the ``Retry-After`` header)."""
    refused = limiter.current_limit
    minutes = max(round((refused.reset_at - time.time()) / 60), 1) if refused else 1
    return ngettext(
        "We’ve paused this for a little while to keep the site safe for everyone. "
        "Please try again in a minute.",
        "We’ve paused this for a little while to keep the site safe for everyone. "
        "Please try again in %(num)d minutes.",
        minutes,
    )


def handle_storage_error(exc: StorageError):
    log.error("storage unavailable on %s %s: %s", request.method, request.path, exc)
    return render_error(503)


def handle_refusal(exc: Exception):
    """A domain rule said no and no view caught it: say why, kindly, instead of a 500.

    Views catch refusals to re-show their form; this is the net under any that slips past.
    Nothing the refused verb flushed is kept: the request's transaction is rolled back.
    """
    db.session.rollback()
    log.info("refused on %s %s: %s", request.method, request.path, exc)
    return render_error(409, message=str(exc))


def handle_unexpected(exc: Exception):
    original = getattr(exc, "original_exception", None) or exc
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return render_error(500)


def register(app: Flask) -> None:
    """The site's pages, or on ``/api`` paths an RFC 9457 problem (:mod:`.api.problems`)."""
    from .api.problems import or_page

    app.register_error_handler(HTTPException, or_page(handle_http_error))
    app.register_error_handler(ObjectNotFound, or_page(lambda exc: render_error(404)))
    app.register_error_handler(StorageError, or_page(handle_storage_error))
    app.register_error_handler(Refused, or_page(handle_refusal))
    app.register_error_handler(InternalServerError, or_page(handle_unexpected))
