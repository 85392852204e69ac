"""Resources on the API: list and search, read one, share, review a held draft and publish
it, download a file, thank.

Each operation is the page's own path with JSON at the ends: the catalogue through
:func:`listings.catalogue`, one resource through :func:`listings.for_page` and
:mod:`exchange.access` (with its reading progress, :func:`reading.progress`, for its giver
while its files are read), a share through the share form's own checks and
:func:`operations.share_resource`, a held draft through the review page's
:func:`operations.privacy_findings` and :func:`operations.publish_draft`, a download through
the page's decision and ledger (:func:`exchange.web.resources.take_file`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import request, url_for
from flask_login import current_user
from marshmallow import RAISE
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from ... import access, community, transactions
from ... import search as search_mod
from ...files import Finding, QuotaExceeded, UploadRefused, UploadTooLarge
from ...models import Resource, ShareRequest, StoredFile
from ...resources import listings, operations, reading
from .. import resources as pages
from ..forms import ShareForm, ThanksForm, edit_form
from ..helpers import privacy_kind, whole_number
from ..search import FILTER_ARGS
from . import schemas
from .auth import caller, needs_write
from .blueprints import api_blueprint
from .problems import fail
from .shapes import (
    NOT_MODIFIED,
    page_links,
    problem_responses,
    resource_detail,
    resource_summary,
)
from .shapes import link_header as link_headers

log = logging.getLogger(__name__)

bp = api_blueprint(
    "api_resources",
    "Resources: search and browse, read, share, download (give-to-get), thank.",
)


@bp.route("/resources", methods=["GET"])
@bp.arguments(schemas.ResourceQuery, location="query", unknown=RAISE)
@bp.response(200, schemas.ResourcePage, headers=link_headers())
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 422, 429, 503)
def list_resources(args: dict):
    """List or search resources: the catalogue's query, filters, facets, sort and pages.

    Without `q` this is browsing (newest first); with words, best match first. The
    same visibility rules as the site: what the token's member may see, nothing else.
    """
    wanted = search_mod.SearchRequest(
        q=search_mod.clean_query(args["q"]),
        filters={facet: args[arg] for arg, facet in FILTER_ARGS.items() if args[arg]},
        sort=args["sort"],
        page=args["page"],
        per_page=args["per_page"],
    )
    found = _catalogue(wanted)
    snippets = search_mod.snippets_for(found.hits, found.results.terms)
    items = [
        resource_summary(hit, found.tags_by_id.get(hit.id, []), snippets) for hit in found.hits
    ]
    body = {
        "items": items,
        "total": found.results.total,
        "page": wanted.page,
        "per_page": wanted.per_page,
        "pages": found.pages,
        "sort": wanted.effective_sort,
        "facets": {
            k: [{"value": v, "count": n} for v, n in c] for k, c in found.results.facets.items()
        },
        "suggestion": found.results.suggestion,
    }
    return body, 200, page_links("api_resources.list_resources", wanted.page, found.pages)


def _catalogue(wanted: search_mod.SearchRequest) -> listings.Catalogue:
    try:
        return listings.catalogue(wanted, caller())
    except Exception:
        log.exception("search failed for %r", wanted.q)
        fail("unavailable", "Search is unavailable for a moment while its index is repaired.")


@bp.route("/resources/<int:resource_id>", methods=["GET"])
@bp.response(200, schemas.ResourceDetail)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 404, 429)
def get_resource(resource_id: int):
    """One resource as its page shows it: files, credit line, licence, counts, and whether
    the token's member may download it (give-to-get)."""
    resource = pages.visible_resource_or_404(resource_id, for_page=True)
    return resource_detail(resource, caller())


@bp.route("/resources/<int:resource_id>/files/<int:file_id>/download", methods=["GET", "POST"])
@bp.response(
    302,
    description="To the credited file: a short-lived presigned address on an S3 store.",
    headers={"Location": {"schema": {"type": "string"}, "description": "The file."}},
)
@bp.alt_response(
    200,
    description="The credited file itself, from a folder store.",
    content_type="application/octet-stream",
    success=True,
)
@problem_responses(bp, 401, 403, 404, 409, 429, 503)
def download_file(resource_id: int, file_id: int):
    """Take a file: the credited copy, with the page's give-to-get rules and counting.

    A download that would spend one of a newcomer's starter downloads is refused on GET
    (409, type `starter-download`): send POST to take it deliberately, as the page asks
    for a button press.
    """
    resource, stored = pages.visible_file_or_404(resource_id, file_id)
    decision = access.download_decision(current_user, resource)
    if not decision.allowed:
        fail("download-refused", decision.reason, step=_step(decision))
    if decision.uses_starter and not _deliberate():
        left = access.allowance_left(caller())
        fail("starter-download", f"This spends one of your {left} starter downloads left.")
    return pages.take_file(resource, stored)


def _deliberate() -> bool:
    return request.method == "POST"


@bp.route("/resources/<int:resource_id>/files/<int:file_id>/versions/<int:number>", methods=["GET"])
@bp.response(
    302,
    description="To the credited version: a short-lived presigned address on an S3 store.",
    headers={"Location": {"schema": {"type": "string"}, "description": "The file."}},
)
@bp.alt_response(
    200,
    description="The credited version itself, from a folder store.",
    content_type="application/octet-stream",
    success=True,
)
@problem_responses(bp, 401, 403, 404, 409, 429, 503)
def download_version(resource_id: int, file_id: int, number: int):
    """Take one version of a file (the numbers are in the file's `versions`).

    The current version is the file itself, with its give-to-get rules; an earlier one stays
    with its giver and with the members who took that very version, as on the page.
    """
    resource, stored = pages.visible_file_or_404(resource_id, file_id)
    if number == stored.version:
        return download_file(resource_id, file_id)
    version = listings.earlier_version(stored, number)
    if version is None:
        fail("not-found")
    decision = access.earlier_version_decision(current_user, resource, file_id, number)
    if not decision.allowed:
        fail("download-refused", decision.reason, step=_step(decision))
    return pages.take_version(resource, stored, version)


def _step(decision: access.Decision) -> dict[str, str]:
    return {"label": decision.step_label, "url": decision.step_url}


@bp.route("/resources", methods=["POST"])
@bp.doc(requestBody=schemas.SHARE_BODY)
@bp.response(201, schemas.Shared, headers={"Location": {"schema": {"type": "string"}}})
@problem_responses(bp, 401, 403, 409, 413, 422, 429, 503)
@needs_write
def share(args=None):
    """Share a resource: multipart, the share form's fields and files, with the form's own
    checks, the upload limits and quota, extraction and the privacy hold (a file that seems
    to hold personal data keeps the share a `draft` until its giver reviews it)."""
    form = ShareForm(formdata=_form_data(), meta={"csrf": False})
    uploads = pages.uploads_from(form.files)
    if not form.validate() or not uploads:
        errors = dict(form.errors)
        if not uploads:
            errors.setdefault("files", []).append("Please choose at least one file to share.")
        fail("invalid", "Some fields need another look.", errors=errors)
    resource = _shared(form, uploads)
    body = {
        "id": resource.id,
        "status": resource.status,
        "url": url_for("resources.show", resource_id=resource.id, _external=True),
        "review_url": _review_url(resource),
    }
    location = url_for("api_resources.get_resource", resource_id=resource.id)
    return body, 201, {"Location": location}


def _form_data() -> CombinedMultiDict:
    return CombinedMultiDict([request.files, request.form])


def _shared(form: ShareForm, uploads: list[operations.Upload]) -> Resource:
    answering = _answering(form)
    with _upload_refusals():
        return operations.share_resource(caller(), pages.details_from(form), uploads, answering)


def _answering(form: ShareForm) -> ShareRequest | None:
    """The request this share answers (the form field ``answers``), as the page's
    ``?answers=`` does; a request that cannot take it refuses the share (409)."""
    request_id = whole_number(request.form.get("answers", ""))
    if request_id is None:
        return None
    answering, problem = community.answerable_request(request_id, caller())
    if problem:
        fail("conflict", f"{problem} Nothing was shared.")
    return answering


@contextmanager
def _upload_refusals() -> Iterator[None]:
    """What the share and edit forms say beside the file field, as problems."""
    try:
        yield
    except QuotaExceeded as exc:
        fail("too-large", str(exc))
    except UploadTooLarge:
        fail("too-large")
    except UploadRefused as exc:
        fail("invalid", str(exc), errors={"files": [str(exc)]})


def _review_url(resource: Resource) -> str | None:
    if resource.status != Resource.DRAFT:
        return None
    return url_for("resources.review", resource_id=resource.id, _external=True)


@bp.route("/resources/<int:resource_id>/review", methods=["GET"])
@bp.response(200, schemas.Review)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 403, 404, 409, 429)
def review(resource_id: int):
    """What the privacy check found in a draft held for review, file by file, as the review
    page shows its giver: check it, then publish (`POST …/publish`), or replace the file
    (`PATCH`) or delete the draft."""
    resource = _held_draft(resource_id)
    findings = operations.privacy_findings(resource)
    return {
        "resource_id": resource.id,
        "title": resource.title,
        "status": resource.status,
        "files": [_file_findings(stored, items) for stored, items in findings.items()],
        "publish_url": url_for("api_resources.publish", resource_id=resource.id, _external=True),
    }


def _held_draft(resource_id: int) -> Resource:
    """A draft the caller may change, held for a privacy review (as the page takes it)."""
    resource = pages.editable_resource(resource_id)
    if not reading.held_for_review(resource):
        fail("conflict", "Only a draft held for a privacy review, its files read, has one.")
    return resource


def _file_findings(stored: StoredFile, findings: list[Finding]) -> dict:
    return {
        "file_id": stored.id,
        "name": stored.original_name,
        "findings": [
            {"kind": f.kind, "label": privacy_kind(f.kind), "sample": f.sample, "count": f.count}
            for f in findings
        ],
    }


@bp.route("/resources/<int:resource_id>/publish", methods=["POST"])
@bp.arguments(schemas.Publish)
@bp.response(200, schemas.ResourceDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def publish(args: dict, resource_id: int):
    """Publish a draft held for a privacy review, confirming (`no_client_data`) what the
    review page asks: the findings are not a client's details."""
    resource = _held_draft(resource_id)
    operations.publish_draft(resource)
    transactions.commit()
    return resource_detail(pages.visible_resource_or_404(resource_id, for_page=True), caller())


@bp.route("/resources/<int:resource_id>/thanks", methods=["POST"])
@bp.arguments(schemas.ThanksIn)
@bp.response(200, schemas.ThanksOut)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def thank(args: dict, resource_id: int):
    """Say how you used a resource you took (or change what you said): its giver is told."""
    resource = pages.visible_resource_or_404(resource_id)
    form = ThanksForm(formdata=MultiDict({"note": args["note"]}), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    if not community.may_thank(caller(), resource):
        fail("forbidden", "Download it first, then say how it went.")
    thanks = community.thank(caller(), resource, form.note.data)
    transactions.commit()
    return {"resource_id": resource.id, "note": thanks.note, "created_at": thanks.created_at}


@bp.route("/resources/<int:resource_id>", methods=["DELETE"])
@bp.response(204, description="Deleted, with its files.")
@problem_responses(bp, 401, 403, 404, 429, 503)
@needs_write
def delete_resource(resource_id: int):
    """Delete a resource the token's member shared (an administrator: anyone's, in the
    audit log), as the page's delete button does."""
    resource = pages.editable_resource(resource_id)
    pages.audit_if_admin(resource, "delete-resource")
    operations.delete_resource(resource)


@bp.route("/resources/<int:resource_id>", methods=["PATCH"])
@bp.doc(requestBody=schemas.EDIT_BODY)
@bp.response(200, schemas.ResourceDetail)
@problem_responses(bp, 401, 403, 404, 413, 422, 429, 503)
@needs_write
def edit_resource(resource_id: int):
    """Change what you send of a resource you shared, add, remove or replace files (a new
    version: `replace_<file id>`, with `note_<file id>` saying what changed): the edit
    form's checks, with every field you leave out kept as it is."""
    resource = pages.editable_resource(resource_id)
    files = [(f.id, f.original_name) for f in resource.files]
    form = edit_form(files, formdata=_edited(resource), obj=resource, meta={"csrf": False})
    uploads, replacements = pages.uploads_from(form.files), pages.replacements_from(form)
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    if (uploads or replacements) and not form.no_client_data.data:
        problem = "Please confirm the new files contain no client data."
        fail("invalid", problem, errors={"no_client_data": [problem]})
    with _upload_refusals():
        pages.audit_if_admin(resource, "edit-resource")
        details, removing = pages.details_from(form), form.remove_files.data
        operations.edit_resource(resource, details, uploads, removing, replacements)
    return resource_detail(pages.visible_resource_or_404(resource_id, for_page=True), caller())


def _edited(resource: Resource) -> CombinedMultiDict:
    """The resource as it stands, with what the request sends in place of it."""
    values = MultiDict(
        {
            **{name: getattr(resource, name) for name in EDITABLE},
            "tags": ", ".join(resource.tag_names),
            "credit_txt": "y" if resource.credit_txt else "",
        }
    )
    for name in request.form:
        values.setlist(name, request.form.getlist(name))
    return CombinedMultiDict([request.files, values])


EDITABLE = (
    "title",
    "synopsis",
    "how_used",
    "kind",
    "audience",
    "licence",
    "access",
    "visibility",
    "credit_name",
    "credit_placement",
)
