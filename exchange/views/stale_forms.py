"""A form sent with a stale CSRF token comes back with what was typed, never lost.

CSRF tokens expire (``WTF_CSRF_TIME_LIMIT``) and belong to one session, so a page left
open too long, or left open while the browser signed in again, sends a token that is no
longer good, and Flask-WTF refuses the request before any view runs. A form page marked
with :func:`reshown_when_stale` is then run again with the refusal standing: its form fails
its own CSRF check, so nothing changes, and the page is shown again with the typed values,
a fresh token and a message asking to send it once more. Only pages whose every change is
behind ``form.validate_on_submit()`` may be marked. Anything else gets a clear 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError

from ..errors import render_error

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
    """Mark a form page whose view only changes anything through a validated form."""
    view.reshown_when_stale = True  # type: ignore[attr-defined]
    return view


def handle_csrf_error(error: CSRFError):
    view = current_app.view_functions.get(request.endpoint or "")
    if error.description not in STALE:
        return render_error(400)
    if not getattr(view, "reshown_when_stale", False):
        return render_error(400, message=STALE_MESSAGE)
    return current_app.ensure_sync(view)(**(request.view_args or {}))


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
