"""Atom feeds of new resources: the whole site, a topic, a member's shares, a search.

A feed reader is nobody in particular, so every feed holds only what a visitor who is not
signed in may see (whoever asks for it): published, public resources. Each entry carries
the giver's credit as the resource page does: the author is the name they chose to be
credited by (no name at all for an anonymous gift), and the summary ends with the same
ready-to-copy credit line. Links start with ``EXCHANGE_SITE_URL``, as an email's do, never
with the Host the request named.

A feed's own words (its title, "Anonymous giver") are in the language chosen as for a page:
``?hl=`` in its address (the links pages give carry their own language), else the feed
reader's ``Accept-Language``, else English. The givers' words (titles, synopses, names)
stay as written, and so does the credit line, which travels inside the files in English.
"""

from __future__ import annotations

import logging

from feedgen.feed import FeedGenerator
from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import access, notify
from .. import search as search_mod
from ..i18n import LANGUAGE_ARG, SOURCE_LANGUAGE, current_language, supported
from ..models import Resource
from ..resources import listings, operations
from .helpers import member_or_404
from .search import FILTER_ARGS

log = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

FEED_SIZE = 30
ATOM = "application/atom+xml"
ANONYMOUS_AUTHOR = _l("Anonymous giver")


@bp.route("/resources.atom")
def newest():
    return _atom(_("New resources"), "main.home", {}, listings.public_newest(FEED_SIZE))


@bp.route("/tags/<path:tag>.atom")
def topic(tag: str):
    resources = listings.public_on_topic(tag, FEED_SIZE)
    if resources is None:
        abort(404)
    return _atom(_("New on “%(topic)s”", topic=tag), "search.search", {"tag": tag}, resources)


@bp.route("/members/<int:member_id>.atom")
def member(member_id: int):
    giver = member_or_404(member_id)
    resources = listings.public_credited_to(giver, FEED_SIZE)
    page = {"member_id": giver.id}
    return _atom(_("New from %(name)s", name=giver.name), "members.show", page, resources)


@bp.route("/search.atom")
def search():
    """The newest public matches of a search, as the search page finds them for a visitor."""
    args = search_args()
    wanted = search_mod.SearchRequest(
        q=search_mod.clean_query(request.args.get("q", "")),
        filters={FILTER_ARGS[a]: v for a, v in args.items() if a in FILTER_ARGS},
        sort="newest",
        page=1,
        per_page=FEED_SIZE,
    )
    try:
        results = search_mod.search(wanted, access.search_visibility(None))
    except Exception:
        log.exception("search feed failed for %r", wanted.q)
        abort(503, description="Search is unavailable for a moment; please try again shortly.")
    if wanted.q:
        title = _("New for “%(words)s”", words=wanted.q)
    else:
        title = _("New resources matching a search")
    return _atom(title, "search.search", args, listings.public_in_order(results.ids))


def search_args() -> dict[str, list[str]]:
    """The words and filters of this request's search (no page, no sort), ten values each."""
    names = ("q", *FILTER_ARGS)
    return {n: [v for v in request.args.getlist(n) if v][:10] for n in names if request.args.get(n)}


# -- building a feed -------------------------------------------------------------------------


def _atom(title: str, page_endpoint: str, page_args: dict, resources: list[Resource]):
    site = current_app.config["SITE_NAME"]
    self_url = notify.site_url(request.endpoint, **(request.view_args or {}), **_query())
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_("%(site)s: %(title)s", site=site, title=title))
    feed.link(href=self_url, rel="self", type=ATOM)
    page_url = notify.site_url(page_endpoint, **page_args, **_in_language())
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.author(name=site)
    feed.language(current_language())
    if resources:
        feed.updated(max(r.updated_at for r in resources))
    for resource in resources:
        _entry(feed, resource)
    body = feed.atom_str(pretty=True)
    return current_app.response_class(body, mimetype=ATOM)


def _query() -> dict[str, list[str]]:
    """The query of this feed's own address: its search, and the language it names."""
    query = search_args() if request.endpoint == "feeds.search" else {}
    named = supported(request.args.get(LANGUAGE_ARG))
    if named:
        query[LANGUAGE_ARG] = [named]
    return query


def _in_language() -> dict[str, str]:
    """``hl`` for an address in the language being spoken, unless that is English (the
    address without it, where a reader's own Accept-Language decides)."""
    language = current_language()
    return {} if language == SOURCE_LANGUAGE else {LANGUAGE_ARG: language}


def _entry(feed: FeedGenerator, resource: Resource) -> None:
    url = notify.site_url("resources.show", resource_id=resource.id, **_in_language())
    entry = feed.add_entry(order="append")
    # The same in every language: one resource, one entry.
    entry.id(notify.site_url("resources.show", resource_id=resource.id))
    entry.title(resource.title)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(resource.created_at)
    entry.updated(resource.updated_at)
    if resource.anonymous:
        entry.author(name=str(ANONYMOUS_AUTHOR))
    else:
        giver_page = notify.site_url("members.show", member_id=resource.owner_id)
        entry.author(name=resource.credit_name, uri=giver_page)
    entry.summary(f"{resource.synopsis}\n\n{operations.credit_line_for(resource)}")
    for name in resource.tag_names:
        entry.category(term=name, label=name)


# -- where pages point feed readers --------------------------------------------------------


def feed_url(endpoint: str, **values) -> str:
    """A feed's address as a page links to it: in the page's language, so a feed found on a
    French page stays French in any feed reader."""
    return url_for(endpoint, **values, **_in_language())


def search_feed_url() -> str:
    """The feed of the search (or browse) this page shows: a topic's own feed when it is one
    topic alone, the feed of every new resource when nothing narrows it."""
    args = search_args()
    if not args:
        return feed_url("feeds.newest")
    if list(args) == ["tag"] and len(args["tag"]) == 1:
        return feed_url("feeds.topic", tag=args["tag"][0])
    return feed_url("feeds.search", **args)


def init_app(app) -> None:
    app.jinja_env.globals.update(search_feed_url=search_feed_url, feed_url=feed_url)
