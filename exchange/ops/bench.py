"""Baselines for the load benchmark, served only with ``EXCHANGE_BENCH_ENDPOINTS=1`` on a
benchmark stack (never in production: the lean download skips give-to-get).

The load test compares each kind of request with a baseline served by the same workers in
the same run: ``hello`` (the smallest response), ``template`` (the layout from a cached
template), and two that do a real request's essential work in the fewest steps, so that
the ratio measures what the site's own code adds. The lean download reads the member
from the session cookie, checks the resource is visible, writes the ledger as the real
download does and presigns the same URL; the lean search makes the real page's engine
call and renders the same results page with the same data, each part computed the leanest
way the site knows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    session,
)
from flask_login import current_user
from sqlalchemy import bindparam, insert, select, text

from .. import access, accounts
from .. import search as search_mod
from ..extensions import db
from ..files import content_disposition, download_name
from ..models import Download, Member, Resource, StoredFile, utcnow
from ..resources.listings import hits_in_order
from ..resources.operations import LEDGER_STATEMENT, ledger_step_by_step
from ..storage import S3Storage, get_storage
from ..web.cards import search_cards
from ..web.helpers import request_url
from ..web.search import FILTER_ARGS, SearchLinks, facets_of, sorts_for
from ..web.search import PER_PAGE as SEARCH_PER_PAGE

log = logging.getLogger(__name__)

BENCH_PAGE = """{% extends "base.html" %}
{% block title %}Benchmark page{% endblock %}
{% block content %}<h1>A page with the site's layout</h1>
<p class="lead">Rendered from a compiled template that stays cached, with no database work
beyond loading the signed-in member: the baseline that real pages are compared with.</p>
{% endblock %}"""


def install_bench_endpoints(app: Flask) -> None:
    """``/bench/hello``, ``/bench/template``, ``/bench/download/…`` and ``/bench/search``."""
    template = app.jinja_env.from_string(BENCH_PAGE)
    app.add_url_rule("/bench/hello", "ops.bench_hello", _hello)
    app.add_url_rule("/bench/template", "ops.bench_template", lambda: render_template(template))
    app.add_url_rule(
        "/bench/download/<int:resource_id>/<int:file_id>", "ops.bench_download", lean_download
    )
    app.add_url_rule("/bench/search", "ops.bench_search", lean_search)


def _hello() -> Response:
    return Response("Hello, world!\n", mimetype="text/plain")


@dataclass(frozen=True, slots=True)
class LeanMember:
    """The signed-in member as the lean download needs it: three columns, no ORM object."""

    id: int
    is_admin: bool
    region: str

    is_authenticated = True
    is_anonymous = False


_MEMBERS = Member.__table__
_RESOURCES = Resource.__table__
_FILES = StoredFile.__table__
_MEMBER_ROW = select(
    _MEMBERS.c.id,
    _MEMBERS.c.is_admin,
    _MEMBERS.c.region,
    _MEMBERS.c.session_epoch,
    _MEMBERS.c.suspended,
).where(_MEMBERS.c.id == bindparam("member_id"))
_FILE_ROW = (
    select(
        _RESOURCES.c.owner_id,
        _RESOURCES.c.status,
        _RESOURCES.c.title,
        _RESOURCES.c.credit_name,
        _FILES.c.storage_key,
        _FILES.c.credited_key,
        _FILES.c.original_name,
        _FILES.c.content_type,
        _FILES.c.version,
    )
    .join_from(_FILES, _RESOURCES, _FILES.c.resource_id == _RESOURCES.c.id)
    .where(_RESOURCES.c.id == bindparam("resource_id"), _FILES.c.id == bindparam("file_id"))
)
_LOGGED_ONLY = insert(Download.__table__)
_NO_DISK_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def lean_download(resource_id: int, file_id: int) -> Response:
    """The real download's four steps written plainly: member, visibility, ledger, presign.

    The ledger is written with the real download's own statement and commit settings, so
    the database does the same work for both and the ratio is the site's code alone.
    """
    member = _session_member()
    if member is None:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    ids = {"resource_id": resource_id, "file_id": file_id}
    found = db.session.connection().execute(_FILE_ROW, ids).first()
    if found is None or not _visible_to(member, found):
        abort(404)
    url = _presigned_url(found)
    entry = {"resource_id": resource_id, "file_id": file_id, "file_version": found.version}
    _write_ledger(member, entry, counts=member.id != found.owner_id)
    headers = {"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(status=302, headers=headers)


def _session_member() -> LeanMember | None:
    """The member named by the session cookie, if its session epoch still matches.

    It becomes the request's user, so the security headers (which ask whether anyone is
    signed in) do not load the member a second time through Flask-Login.
    """
    named = accounts.read_sign_in_token(str(session.get("_user_id", "")))
    if named is None:
        return None
    member_id, epoch = named
    row = db.session.connection().execute(_MEMBER_ROW, {"member_id": member_id}).first()
    if row is None or row.session_epoch != epoch or row.suspended:
        return None
    g._login_user = LeanMember(row.id, row.is_admin, row.region)  # Flask-Login's slot
    return g._login_user


def _visible_to(member: LeanMember, found: Any) -> bool:
    """:func:`access.can_view`, on the two columns it reads."""
    return found.status == Resource.PUBLISHED or member.is_admin or member.id == found.owner_id


def _presigned_url(found: Any) -> str:
    """The URL the real download redirects to: same key, same forced headers, same signer."""
    storage = get_storage()
    if not isinstance(storage, S3Storage):
        abort(501, description="The lean download presigns S3 URLs; files here are in a folder.")
    name = download_name(found.title, found.credit_name, found.original_name)
    key = found.credited_key or found.storage_key
    params = {
        "Bucket": storage.bucket,
        "Key": f"{storage.prefix}/{key}" if storage.prefix else key,
        "ResponseContentDisposition": content_disposition(name),
        "ResponseContentType": found.content_type,
    }
    signer = storage._signer()  # the store's boto3 client of this process
    return signer.generate_presigned_url(
        "get_object", Params=params, ExpiresIn=storage.presign_seconds
    )


def _write_ledger(member: LeanMember, entry: dict, counts: bool) -> None:
    """The download row (and, for another's resource, the taker and count), committed."""
    entry = {**entry, "member_id": member.id, "region": member.region, "created_at": utcnow()}
    connection = db.session.connection()
    on_postgresql = connection.dialect.name == "postgresql"
    if on_postgresql:
        connection.execute(_NO_DISK_WAIT)
    if not counts:
        connection.execute(_LOGGED_ONLY, entry)
    elif on_postgresql:
        connection.execute(LEDGER_STATEMENT, entry)
    else:  # SQLite, in tests: the real download's statements there
        ledger_step_by_step(entry)
    db.session.commit()


def lean_search() -> str:
    """The real search page's engine call for ``q``, then the same template with the same data.

    Every part the page shows is computed the leanest way the site knows, which is the
    page's own: the hits in one Core statement, snippets from one regular expression,
    facet links joined from pre-encoded arguments, cards from the per-worker store of their
    rendered parts. What the real page adds is only its own handling of the request.
    """
    wanted = search_mod.SearchRequest(
        q=search_mod.clean_query(request.args.get("q", "")), per_page=SEARCH_PER_PAGE
    )
    results = search_mod.search(wanted, access.search_visibility(current_user))
    hits, tags_by_id = hits_in_order(results.ids, current_user._get_current_object())
    links = SearchLinks(request_url("search.search"), request.args)
    terms = results.terms
    return render_template(
        "search.html",
        browsing=False,
        wanted=wanted,
        results=results,
        resources=hits,
        cards=search_cards(hits, search_mod.snippets_for(hits, terms), tags_by_id, terms),
        pages=max(1, -(-results.total // SEARCH_PER_PAGE)),
        filter_args=FILTER_ARGS,
        facets=facets_of(results, links),
        sorts=sorts_for(wanted),
        links=links,
    )
