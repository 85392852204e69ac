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
from ..i18n import (
    LANGUAGE_ARG,
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_MAX_AGE,
    LANGUAGES,
    SOURCE_LANGUAGE,
    current_language,
    label,
    supported,
)
from ..vocab import N_
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


# The words of static/site.js, which reads them translated from <body data-messages>.
SCRIPT_MESSAGES = (
    N_("%(num)s bytes"),
    N_("KB"),
    N_("MB"),
    N_("GB"),
    N_("%(ext)s file"),
    N_("File"),
    N_("Word document"),
    N_("Word template"),
    N_("Excel spreadsheet"),
    N_("Excel template"),
    N_("PowerPoint presentation"),
    N_("PowerPoint template"),
    N_("OpenDocument text"),
    N_("OpenDocument spreadsheet"),
    N_("OpenDocument presentation"),
    N_("Rich Text document"),
    N_("Text file"),
    N_("CSV table"),
    N_("Markdown text"),
    N_("Image (PNG)"),
    N_("Image (JPEG)"),
    N_("Image (GIF)"),
    N_("Image (WebP)"),
    N_("Credit line copied."),
    N_("Copied ✓"),
    N_("We don’t accept .%(ext)s files."),
    N_("This file has no extension, so we can’t tell what it is."),
    N_("This file is empty."),
    N_("Remove"),
    N_("Remove %(name)s"),
    N_("%(name)s removed."),
    N_("These files add up to %(total)s, over the %(limit)s limit. Please remove some."),
    N_("Added %(names)s."),
    N_("Please remove the files marked with a problem before sending."),
    N_("The upload was interrupted. Please check your connection and try again."),
    N_("Sending your files…"),
    N_("Upload complete. Checking your files and making previews…"),
    N_("Chosen tags"),
    N_("Tag %(tag)s removed."),
    N_("Remove tag %(tag)s"),
    N_("Tag %(tag)s added."),
)


def script_messages() -> dict[str, str]:
    """The script's words in this page's language; none on English pages (it has them)."""
    if current_language() == SOURCE_LANGUAGE:
        return {}
    return {text: label(text) for text in SCRIPT_MESSAGES}


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_language)
    app.jinja_env.globals.update(
        language_alternates=alternates, language_next=this_page, script_messages=script_messages
    )
