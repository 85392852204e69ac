"""A form sent with a stale CSRF token comes back with what was typed, never lost.

CSRF tokens expire (``WTF_CSRF_TIME_LIMIT``) and belong to one session, so a page left
open too long, or left open while the browser signed in again, sends a token that is no
longer good. Flask-WTF would refuse such a request with a bare 400 before any view ran.

Here the token is checked by :func:`check_csrf` instead, at the same point of every
request. A missing or forged token is still a 400. A stale one, sent to a form page
marked with :func:`reshown_when_stale`, lets the request go on through every check the
page has (sign-in, administrators only…) to its view, whose form then fails its own CSRF
check: nothing changes, and the page is shown again with the typed values, a fresh token
and a message asking to send it once more. Only pages whose every change is behind
``form.validate_on_submit()`` may be marked; any other page explains on the 400 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError

from ..extensions import csrf
from .errors import render_error

View = TypeVar("View", bound=Callable)

# Refusals a page left open explains (the token was ours, once); any other reason, such as
# no token at all, is not a form someone filled in on this site.
STALE = {
    "The CSRF token has expired.",
    "The CSRF session token is missing.",
    "The CSRF tokens do not match.",
}
STALE_MESSAGE = (
    "This form was open too long, so for your safety it wasn’t sent. "
    "Please go back and submit it again."
)


def reshown_when_stale(view: View) -> View:
    """Mark a form page whose view only changes anything through a validated form.

    Put it above ``@bp.route``: the route registers the very function it returns.
    """
    view.reshown_when_stale = True  # type: ignore[attr-defined]
    return view


def check_csrf() -> None:
    """Flask-WTF's check of every POST, letting a stale token through to a marked page."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    try:
        csrf.protect(apply_exemptions=True)
    except CSRFError as error:
        view = current_app.view_functions.get(request.endpoint or "")
        if error.description not in STALE or not getattr(view, "reshown_when_stale", False):
            raise


def explain_refusal(error: CSRFError):
    if error.description in STALE:
        return render_error(400, message=STALE_MESSAGE)
    return render_error(400)


def register(app: Flask) -> None:
    """Check CSRF tokens here rather than in Flask-WTF's own hook (turned off)."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(check_csrf)
    app.register_error_handler(CSRFError, explain_refusal)
