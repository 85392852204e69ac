"""Atom feeds of new resources: the whole site, a topic, a member's shares, a search.

A feed reader is nobody in particular, so every feed holds only what a visitor who is not
signed in may see (whoever asks for it): published, public resources. Each entry carries
the giver's credit as the resource page does: the author is the name they chose to be
credited by (no name at all for an anonymous gift), and the summary ends with the same
ready-to-copy credit line. Links start with ``EXCHANGE_SITE_URL``, as an email's do, never
with the Host the request named.
"""

from __future__ import annotations

import logging

from feedgen.feed import FeedGenerator
from flask import Blueprint, abort, current_app, request, url_for

from .. import access, notify
from .. import search as search_mod
from ..models import Resource
from ..resources import listings, operations
from .helpers import member_or_404
from .search import FILTER_ARGS

log = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

FEED_SIZE = 30
ATOM = "application/atom+xml"
ANONYMOUS_AUTHOR = "Anonymous giver"


@bp.route("/resources.atom")
def newest():
    return _atom("New resources", "main.home", {}, listings.public_newest(FEED_SIZE))


@bp.route("/tags/<path:tag>.atom")
def topic(tag: str):
    resources = listings.public_on_topic(tag, FEED_SIZE)
    if resources is None:
        abort(404)
    return _atom(f"New on “{tag}”", "search.search", {"tag": tag}, resources)


@bp.route("/members/<int:member_id>.atom")
def member(member_id: int):
    giver = member_or_404(member_id)
    resources = listings.public_credited_to(giver, FEED_SIZE)
    page = {"member_id": giver.id}
    return _atom(f"New from {giver.name}", "members.show", page, resources)


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
    title = f"New for “{wanted.q}”" if wanted.q else "New resources matching a search"
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
    feed.title(f"{site}: {title}")
    feed.link(href=self_url, rel="self", type=ATOM)
    feed.link(href=notify.site_url(page_endpoint, **page_args), rel="alternate", type="text/html")
    feed.author(name=site)
    feed.language("en")
    if resources:
        feed.updated(max(r.updated_at for r in resources))
    for resource in resources:
        _entry(feed, resource)
    body = feed.atom_str(pretty=True)
    return current_app.response_class(body, mimetype=ATOM)


def _query() -> dict[str, list[str]]:
    return search_args() if request.endpoint == "feeds.search" else {}


def _entry(feed: FeedGenerator, resource: Resource) -> None:
    url = notify.site_url("resources.show", resource_id=resource.id)
    entry = feed.add_entry(order="append")
    entry.id(url)
    entry.title(resource.title)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(resource.created_at)
    entry.updated(resource.updated_at)
    if resource.anonymous:
        entry.author(name=ANONYMOUS_AUTHOR)
    else:
        giver_page = notify.site_url("members.show", member_id=resource.owner_id)
        entry.author(name=resource.credit_name, uri=giver_page)
    entry.summary(f"{resource.synopsis}\n\n{operations.credit_line_for(resource)}")
    for name in resource.tag_names:
        entry.category(term=name, label=name)


# -- where pages point feed readers --------------------------------------------------------


def search_feed_url() -> str:
    """The feed of the search (or browse) this page shows: a topic's own feed when it is one
    topic alone, the feed of every new resource when nothing narrows it."""
    args = search_args()
    if not args:
        return url_for("feeds.newest")
    if list(args) == ["tag"] and len(args["tag"]) == 1:
        return url_for("feeds.topic", tag=args["tag"][0])
    return url_for("feeds.search", **args)


def init_app(app) -> None:
    app.jinja_env.globals.update(search_feed_url=search_feed_url)
