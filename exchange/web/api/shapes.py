"""How the API shows things: a resource, a member, a page's links; and the responses every
operation documents. Dicts shaped for the schemas in :mod:`.schemas`."""

from __future__ import annotations

import http
from collections.abc import Callable

from flask import request, url_for
from flask_smorest import Blueprint

from ... import access, community
from ...models import Collection, Member, Resource, StoredFile
from ...resources import listings, operations, reading

NOT_MODIFIED = {"description": "Not modified: the `ETag` sent in `If-None-Match` still holds."}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "For If-None-Match."}}


def link_header() -> dict:
    return {
        **ETAG_HEADER,
        "Link": {
            "schema": {"type": "string"},
            "description": 'RFC 8288 links: rel="first", "prev", "next", "last".',
        },
    }


def problem_responses(bp: Blueprint, *codes: int) -> Callable:
    """Document these error statuses (problem+json) on an operation."""

    def decorate(view: Callable) -> Callable:
        for code in codes:
            view = bp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return view

    return decorate


def page_links(endpoint: str, page: int, pages: int, **path) -> dict[str, str]:
    """``Link`` to the first, previous, next and last pages, keeping the query's arguments."""
    wanted = {"first": 1, "last": pages}
    if page > 1:
        wanted["prev"] = min(page - 1, pages)
    if page < pages:
        wanted["next"] = page + 1
    links = [
        f'<{_page_url(endpoint, number, path)}>; rel="{rel}"' for rel, number in wanted.items()
    ]
    return {"Link": ", ".join(links)}


def _page_url(endpoint: str, number: int, path: dict) -> str:
    args = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return url_for(endpoint, **path, **args)


def _page_url_of(resource_id: int) -> str:
    return url_for("resources.show", resource_id=resource_id, _external=True)


def resource_summary(hit, tags: list[str], snippets: dict, thanks: int | None = None) -> dict:
    """A search hit (or a resource) as a card shows it: its downloads are the counted
    members of :mod:`exchange.counts`, its thanks those the card counts unless given."""
    snippet = snippets.get(hit.id)
    return {
        "id": hit.id,
        "title": hit.title,
        "synopsis": hit.synopsis,
        "kind": hit.kind,
        "audience": hit.audience,
        "licence": hit.licence,
        "credit_name": hit.credit_name or None,
        "tags": tags,
        "downloads": hit.download_count,
        "thanks": hit.thanks_count if thanks is None else thanks,
        "created_at": hit.created_at,
        "snippet": {"source": snippet.source, "html": str(snippet.html)} if snippet else None,
        "url": _page_url_of(hit.id),
    }


def resource_detail(resource: Resource, viewer: Member) -> dict:
    """A resource as its page shows it, with what the viewer may do about its files."""
    thanks = len(community.thanks_for(resource))  # as the page lists them
    return {
        **resource_summary(resource, resource.tag_names, {}, thanks),
        "how_used": resource.how_used,
        "licence_label": resource.licence_label,
        "access": resource.access,
        "visibility": resource.visibility,
        "status": resource.status,
        "language": resource.language or "",
        "credit_line": operations.credit_line_for(resource),
        "giver": None if resource.anonymous else member_ref(resource.owner),
        "files": _files(resource, viewer),
        "download": _decision(resource, viewer),
        "kits_using": [collection_ref(kit) for kit in community.kits_using(resource)],
        "reading": _reading(resource, viewer),
    }


def _reading(resource: Resource, viewer: Member) -> dict | None:
    """What the page shows its giver instead of the resource while its files are read."""
    if not (reading.is_reading(resource) and access.can_edit(viewer, resource)):
        return None
    progress = reading.progress(resource)
    return {
        "reading": progress.reading,
        "problem": progress.problem,
        "done": progress.done,
        "files": [{"name": f.name, "state": f.state, "note": f.note} for f in progress.files],
    }


def _files(resource: Resource, viewer: Member) -> list[dict]:
    """Each file with its versions as the page's history shows them to this viewer."""
    histories = listings.file_histories(resource, viewer)
    may_take = access.download_decision(viewer, resource).allowed
    return [_file(resource, f, histories.get(f.id), may_take) for f in resource.files]


def _file(
    resource: Resource, stored: StoredFile, history: listings.FileHistory | None, may_take: bool
) -> dict:
    download_url = url_for(
        "api_resources.download_file", resource_id=resource.id, file_id=stored.id, _external=True
    )
    return {
        "id": stored.id,
        "name": stored.original_name,
        "format": stored.format,
        "language": stored.language or "",
        "content_type": stored.content_type,
        "size": stored.size,
        "searchable": stored.searchable,
        "credit_on_page": stored.credit_on_page,
        "zipped_with_credit": bool(stored.zipped_with_credit and stored.credited_key),
        "download_url": download_url,
        "versions": [
            _version(v, _version_url(resource, stored, v, download_url, may_take))
            for v in (history.versions if history else [listings.current_version(stored)])
        ],
        "updated_since_taken": bool(history and history.updated_since_taken),
    }


def _version(version: listings.VersionShown, download_url: str | None) -> dict:
    """One line of a file's history; the current version is fetched as the file is."""
    return {
        "number": version.number,
        "uploaded_at": version.uploaded_at,
        "name": version.name,
        "note": version.note,
        "current": version.current,
        "fetchable": download_url is not None,
        "download_url": download_url,
    }


def _version_url(
    resource: Resource,
    stored: StoredFile,
    version: listings.VersionShown,
    download_url: str,
    may_take: bool,
) -> str | None:
    """Where the caller fetches this version, or None: the current one is the file itself
    (give-to-get), an earlier one is the giver's and its takers' (access.py says which)."""
    if version.current:
        return download_url if may_take else None
    if not version.fetchable:
        return None
    return url_for(
        "api_resources.download_version",
        resource_id=resource.id,
        file_id=stored.id,
        number=version.number,
        _external=True,
    )


def collection_ref(collection: Collection) -> dict:
    return {
        "id": collection.id,
        "title": collection.title,
        "is_kit": collection.is_kit,
        "owner": member_ref(collection.owner),
        "url": url_for("kits.show", collection_id=collection.id, _external=True),
    }


def _decision(resource: Resource, viewer: Member) -> dict:
    decision = access.download_decision(viewer, resource)
    return {
        "allowed": decision.allowed,
        "uses_starter": decision.uses_starter,
        "reason": decision.reason,
        "starter_downloads_left": access.allowance_left(viewer),
    }


def member_ref(member: Member) -> dict:
    return {
        "id": member.id,
        "name": member.name,
        "url": url_for("members.show", member_id=member.id, _external=True),
    }


def shared_summaries(resources: list[Resource], viewer: Member) -> list[dict]:
    """Resources a member's page lists, as cards (the same hits a search returns)."""
    hits, tags = listings.hits_in_order([r.id for r in resources], viewer)
    return [resource_summary(hit, tags.get(hit.id, []), {}) for hit in hits]
