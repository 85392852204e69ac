"""The footer's language switcher: plain links, so it works without script.

A member's choice is kept on their account (and follows them to every device, their emails
and notifications); a visitor's in a cookie. Either way the page they were on comes back,
now in the language they chose. Links rather than a posted form: a form would need a CSRF
token on every page, and so a session for every visitor; choosing a language changes
nothing anyone could abuse.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, redirect, request
from flask_login import current_user

from .. import accounts, transactions
from ..i18n import LANGUAGE_ARG, LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, LANGUAGES, supported
from .helpers import safe_next

bp = Blueprint("language", __name__)


@bp.get("/language/<code>")
def choose(code: str):
    if supported(code) != code:
        abort(404)
    response = redirect(safe_next(request.args.get("next")))
    if current_user.is_authenticated:
        accounts.set_language(current_user, code)
        transactions.commit()
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def _vary_on_language(response: Response) -> Response:
    """The same address answers in several languages: caches must keep them apart."""
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def alternates() -> list[tuple[str, str]]:
    """This page's address in each language (``hreflang`` code, URL), and ``x-default``."""
    args = request.args.to_dict(flat=False)
    args.pop(LANGUAGE_ARG, None)
    links = [(code, _url_with(args, {LANGUAGE_ARG: code})) for code in LANGUAGES]
    return [*links, ("x-default", _url_with(args, {}))]


def this_page() -> str:
    """Where the switcher brings the visitor back: this page, without a language in its
    address (which would overrule the choice just made)."""
    args = request.args.to_dict(flat=False)
    args.pop(LANGUAGE_ARG, None)
    query = urlencode(args, doseq=True)
    return f"{request.path}?{query}" if query else request.path


def _url_with(args: dict[str, list[str]], extra: dict[str, str]) -> str:
    query = urlencode({**args, **extra}, doseq=True)
    return f"{request.base_url}?{query}" if query else request.base_url


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_language)
    app.jinja_env.globals.update(language_alternates=alternates, language_next=this_page)
