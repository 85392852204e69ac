"""Small things every template and view needs: safe redirects, sizes, dates, paging."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from urllib.parse import quote_plus, urlsplit

from flask import Flask, abort, g, jsonify, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from ..extensions import db
from ..files import ACCEPT_ATTRIBUTE, ALLOWED, ALLOWED_SUMMARY, CREDIT_PLACES
from ..i18n import label, long_date
from ..models import Member
from . import MAX_ID

# A longer "next" is no page of this site; it would also swell the link emailed to confirm.
MAX_NEXT_LENGTH = 500


def member_or_404(member_id: int) -> Member:
    """A member others may see, follow or read a feed of: a deleted account is gone (404)
    on every page, feed and button, not only on its own page."""
    member = db.get_or_404(Member, member_id)
    if member.is_deleted:
        abort(404)
    return member


def same_site_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else "" (``//evil``, ``/\\evil``,
    ``https://…`` and control characters are dropped), so it can be kept for later."""
    if not target:
        return ""
    cleaned = target.replace("\\", "/").strip()
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return ""
    if any(ord(ch) < 32 for ch in cleaned) or len(cleaned) > MAX_NEXT_LENGTH:
        return ""
    return cleaned


def safe_next(target: str | None, fallback: str = "main.home") -> str:
    """Only ever redirect to a path on this site (never ``//evil``, ``/\\evil``, ``https://…``)."""
    return same_site_path(target) or url_for(fallback)


def human_size(size: int | None) -> str:
    """A file's size the way the reader's language writes it ("1.5 MB", "1,5 Mo")."""
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    value = size / 1024
    for unit in (_("KB"), _("MB")):
        if value < 1024:
            return f"{format_decimal(value, '0.0')} {unit}"
        value /= 1024
    return f"{format_decimal(value, '0.0')} {_('GB')}"


def nice_date(moment: datetime | None) -> str:
    return long_date(moment) if moment else ""


def status_label(status: str) -> str:
    """A resource's, request's or report's status, as a badge says it."""
    labels = {
        "published": _("Published"),
        "draft": _("Draft"),
        "hidden": _("Hidden"),
        "suspended": _("Suspended"),
        "open": _("Open"),
        "fulfilled": _("Fulfilled"),
        "declined": _("Declined"),
        "actioned": _("Actioned"),
        "dismissed": _("Dismissed"),
    }
    return labels.get(status, status.capitalize())


def privacy_kind(kind: str) -> str:
    """What kind of personal detail the privacy check found, in words."""
    labels = {
        "email": _("email address"),
        "phone": _("phone number"),
        "national-id": _("national ID number"),
        "street-address": _("street address"),
    }
    return labels.get(kind, kind.replace("-", " "))


def page_number() -> int:
    """The ``page`` query argument as a positive whole number (1 when missing or odd)."""
    number = whole_number(request.args.get("page", "1"))
    return number if number and number < 100_000 else 1


def whole_number(raw: str) -> int | None:
    """``raw`` as a whole number a database id can hold, or None.

    ``"²".isdigit()`` is True but ``int("²")`` fails; 2**63 and beyond fit no id column, and
    the driver raises rather than finding nothing.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    number = int(raw)
    return number if number <= MAX_ID else None


def file_label(fmt: str) -> str:
    """What people call a format: "Word document", "PDF"."""
    known = ALLOWED.get(fmt)
    return label(known.label) if known else fmt.upper()


# -- links that listings repeat on every card --------------------------------------------
#
# A listing links every card to its resource, its giver and its topics, and building each
# of those with ``url_for`` cost more than the rest of the card. ``url_for`` still decides
# every address: it runs once per request and endpoint, and the result is completed the way
# ``url_for`` itself would (same digits, same query encoding).

QUERY_SAFE = "!$'()*,/:;?@"  # what url_for leaves unescaped in a query string
_ID_MARK = 7_304_812_961  # a number no real id has: where the id goes in a built address


def query_quote(text: str) -> str:
    """A query argument's name or value, escaped as ``url_for`` escapes it.

    Short texts are remembered (pages repeat the same topics and facet values); a long one,
    which only a visitor's own typing produces, is not kept.
    """
    return _short_quote(text) if len(text) <= 100 else quote_plus(text, safe=QUERY_SAFE)


@lru_cache(maxsize=4096)
def _short_quote(text: str) -> str:
    return quote_plus(text, safe=QUERY_SAFE)


def request_url(endpoint: str) -> str:
    """``url_for(endpoint)``, built once per request."""
    built = g.setdefault("_built_urls", {})
    if endpoint not in built:
        built[endpoint] = url_for(endpoint)
    return built[endpoint]


def id_url(endpoint: str, argument: str, value: int) -> str:
    """``url_for(endpoint, argument=value)`` for a route whose only argument is an int."""
    patterns = g.setdefault("_id_url_patterns", {})
    if endpoint not in patterns:
        head, _, tail = url_for(endpoint, **{argument: _ID_MARK}).partition(str(_ID_MARK))
        patterns[endpoint] = (head, tail)
    head, tail = patterns[endpoint]
    return f"{head}{int(value)}{tail}"


def resource_url(resource_id: int) -> str:
    return id_url("resources.show", "resource_id", resource_id)


def member_url(member_id: int) -> str:
    return id_url("members.show", "member_id", member_id)


def topic_url(tag_name: str) -> str:
    """The search for one topic, as a tag links to it."""
    return f"{request_url('search.search')}?tag={query_quote(tag_name)}"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        human_size=human_size,
        nice_date=nice_date,
        # Filters rather than globals: a template calls a filter directly and a global through
        # its context's call machinery, which more than doubled what each card link cost.
        resource_url=resource_url,
        member_url=member_url,
        topic_url=topic_url,
    )
    app.jinja_env.globals.update(
        accept_attribute=ACCEPT_ATTRIBUTE,
        allowed_summary=ALLOWED_SUMMARY,
        file_label=file_label,
        credit_places=CREDIT_PLACES,
        status_label=status_label,
        privacy_kind=privacy_kind,
    )


def form_page(template: str, form, **context):
    """Render a form page: 422 when it is being shown again with problems named, else 200."""
    status = 422 if form.errors else 200
    return render_template(template, form=form, **context), status


def redirect_after_post(url: str):
    """A redirect, or for the upload script (which follows it itself) the address as JSON."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return jsonify(redirect=url)
    return redirect(url)
