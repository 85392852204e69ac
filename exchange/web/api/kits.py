"""Collections and workshop kits on the API: the caller's list, a kit's running order, the
changes its page's buttons make, copying, and downloading it as one zip.

Each operation is the kit page's own: who may see or change a collection is asked of
:mod:`exchange.web.kits` (and so of :mod:`exchange.access`), the changes are the
:mod:`exchange.community` verbs, and the download is :func:`exchange.resources.kits.download_plan`
with the page's :func:`~exchange.web.kits.send_kit`.
"""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from marshmallow import RAISE
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from ... import access, community, transactions
from ...models import Collection, Resource
from ...resources import kits, operations
from ...vocab import parse_tags
from .. import kits as pages
from ..forms import CollectionForm, ItemNoteForm
from ..resources import visible_resource_or_404
from . import schemas
from .auth import caller, needs_write
from .blueprints import api_blueprint
from .problems import fail
from .shapes import NOT_MODIFIED, collection_ref, page_links, problem_responses
from .shapes import link_header as link_headers

bp = api_blueprint("api_kits", "Collections and workshop kits: read, make, change, copy, take.")

LOCATION = {"Location": {"schema": {"type": "string"}}}


def collection_summary(collection: Collection) -> dict:
    return {
        **collection_ref(collection),
        "purpose": collection.purpose,
        "public": collection.public,
        "toolkit": collection.is_default,
        "tags": collection.tag_names,
        "items": len(collection.items),
        "based_on": collection.copied_from_id,
        "updated_at": collection.updated_at,
    }


def collection_detail(collection: Collection) -> dict:
    """A kit as its page shows it to the caller: the running order with each item's note,
    minutes and credit line, and the kit's own credit."""
    entries = community.entries_for(collection, caller())
    return {
        **collection_summary(collection),
        "kit_credit": kits.kit_credit(collection),
        "total_minutes": community.total_minutes(entries) if collection.is_kit else None,
        "can_edit": access.can_edit_collection(caller(), collection),
        "following": community.follows_kit(caller(), collection),
        "running_order": [_entry(entry) for entry in entries],
    }


def _entry(entry: community.Entry) -> dict:
    resource = entry.resource
    return {
        "id": entry.item.id,
        "number": entry.number,
        "resource_id": resource.id if resource else None,
        "title": resource.title if resource else entry.item.resource_title,
        "note": entry.item.note or "",
        "minutes": entry.item.minutes,
        "starts_at": entry.starts_at,
        "credit_line": operations.credit_line_for(resource) if resource else None,
    }


# -- reading -----------------------------------------------------------------------------------


@bp.route("/me/collections", methods=["GET"])
@bp.response(200, schemas.Collections)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 429)
def my_collections():
    """The caller's collections and kits: “My toolkit” first, then the latest changed."""
    return {"items": [collection_summary(c) for c in community.collections_of(caller())]}


@bp.route("/kits", methods=["GET"])
@bp.arguments(schemas.KitQuery, location="query", unknown=RAISE)
@bp.response(200, schemas.KitPage, headers=link_headers())
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 422, 429)
def list_kits(args: dict):
    """Find shared kits and collections: those whose title, purpose, notes or items' titles
    hold every word of `q` (the search page's “Workshop kits”), most recently changed first;
    without words, every one. The caller's own unshared ones are found too, as on the site."""
    q, page, per_page = args["q"], args["page"], args["per_page"]
    viewer = caller()
    found = community.find_kits(q, viewer, per_page, (page - 1) * per_page, browse=True)
    total = community.count_kits(q, viewer, browse=True)
    pages = max(1, -(-total // per_page))
    body = {
        "items": [collection_summary(kit) for kit in found],
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
    }
    return body, 200, page_links("api_kits.list_kits", page, pages)


@bp.route("/collections/<int:collection_id>", methods=["GET"])
@bp.response(200, schemas.CollectionDetail)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 404, 429)
def get_collection(collection_id: int):
    """A collection or kit the caller may see (a shared one, or their own), in its order."""
    return collection_detail(pages.visible_collection_or_404(collection_id))


# -- making and changing -------------------------------------------------------------------


@bp.route("/collections", methods=["POST"])
@bp.arguments(schemas.NewCollection)
@bp.response(201, schemas.CollectionDetail, headers=LOCATION)
@problem_responses(bp, 401, 403, 422, 429)
@needs_write
def create_collection(args: dict):
    """Make a collection, or a workshop kit (`is_kit`); private unless `public`."""
    form = _checked_form(args, None)
    made = community.create_collection(caller(), _details(form))
    transactions.commit()
    location = url_for("api_kits.get_collection", collection_id=made.id)
    return collection_detail(made), 201, {"Location": location}


@bp.route("/collections/<int:collection_id>", methods=["PATCH"])
@bp.arguments(schemas.CollectionIn)
@bp.response(200, schemas.CollectionDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def edit_collection(args: dict, collection_id: int):
    """Change a collection's words, tags, kind or sharing; what is left out is kept."""
    collection = pages.editable_collection(collection_id)
    form = _checked_form(args, collection)
    community.update_collection(collection, _details(form))  # the toolkit stays private: 409
    transactions.commit()
    return collection_detail(collection)


def _checked_form(args: dict, collection: Collection | None) -> CollectionForm:
    """The collection form's own checks, over what the collection has with ``args`` on top."""
    values = _form_values(collection)
    values.update({name: value for name, value in args.items() if name != "tags"})
    if "tags" in args:
        values["tags"] = ", ".join(args["tags"])
    data = {name: _form_value(value) for name, value in values.items()}
    form = CollectionForm(formdata=MultiDict(data), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    return form


def _form_values(collection: Collection | None) -> dict:
    if collection is None:
        return {"title": "", "purpose": "", "tags": "", "is_kit": False, "public": False}
    return {
        "title": collection.title,
        "purpose": collection.purpose,
        "tags": ", ".join(collection.tag_names),
        "is_kit": collection.is_kit,
        "public": collection.public,
    }


def _form_value(value: str | bool) -> str:
    """A checkbox is ticked as a browser ticks it; words go as they are."""
    if isinstance(value, bool):
        return "y" if value else ""
    return value


def _details(form: CollectionForm) -> community.CollectionDetails:
    return community.CollectionDetails(
        title=form.title.data or "",
        purpose=form.purpose.data or "",
        is_kit=bool(form.is_kit.data),
        public=bool(form.public.data),
        tags=parse_tags(form.tags.data or ""),
    )


@bp.route("/collections/<int:collection_id>", methods=["DELETE"])
@bp.response(204, description="Deleted, with its items and its followers' follows.")
@problem_responses(bp, 401, 403, 404, 409, 429)
@needs_write
def delete_collection(collection_id: int):
    """Delete one of your collections (“My toolkit” is never deleted: 409)."""
    community.delete_collection(pages.editable_collection(collection_id))
    transactions.commit()


# -- items -------------------------------------------------------------------------------------


@bp.route("/collections/<int:collection_id>/items", methods=["POST"])
@bp.arguments(schemas.NewItem)
@bp.response(201, schemas.CollectionDetail, description="Added at the end.")
@bp.alt_response(200, schema=schemas.CollectionDetail, description="It was already there.")
@problem_responses(bp, 401, 403, 404, 422, 429)
@needs_write
def add_item(args: dict, collection_id: int):
    """Put a resource the caller may see at the end of one of their collections."""
    collection = pages.editable_collection(collection_id)
    form = ItemNoteForm(formdata=MultiDict({"note": args["note"]}), meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    added = community.add_item(collection, _resource(args["resource_id"]), note=form.note.data)
    transactions.commit()
    return collection_detail(collection), 201 if added else 200


def _resource(resource_id: int) -> Resource:
    """A resource the caller may see, or a 422 naming the field (not a 404 for the kit)."""
    try:
        return visible_resource_or_404(resource_id)
    except NotFound:
        fail("invalid", "No such resource.", errors={"resource_id": ["No such resource."]})


@bp.route("/collections/<int:collection_id>/items/<int:item_id>", methods=["DELETE"])
@bp.response(204, description="Taken out.")
@problem_responses(bp, 401, 403, 404, 409, 429)
@needs_write
def remove_item(collection_id: int, item_id: int):
    """Take an item out (409 when it is not, or no longer, in this collection)."""
    community.remove_item(pages.editable_collection(collection_id), item_id)
    transactions.commit()


@bp.route("/collections/<int:collection_id>/items/<int:item_id>/move", methods=["POST"])
@bp.arguments(schemas.Move)
@bp.response(200, schemas.CollectionDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def move_item(args: dict, collection_id: int, item_id: int):
    """Swap an item with its neighbour above (`up`) or below (`down`); at an end, nothing."""
    collection = pages.editable_collection(collection_id)
    community.move_item(collection, item_id, -1 if args["direction"] == "up" else 1)
    transactions.commit()
    return collection_detail(collection)


@bp.route("/collections/<int:collection_id>/items/<int:item_id>/note", methods=["PUT"])
@bp.arguments(schemas.ItemNote)
@bp.response(200, schemas.CollectionDetail)
@problem_responses(bp, 401, 403, 404, 409, 422, 429)
@needs_write
def note_item(args: dict, collection_id: int, item_id: int):
    """How the item fits (“15 min, in pairs”) and, in a kit, its minutes."""
    collection = pages.editable_collection(collection_id)
    minutes = "" if args["minutes"] is None else str(args["minutes"])
    data = MultiDict({"note": args["note"], "minutes": minutes})
    form = ItemNoteForm(formdata=data, meta={"csrf": False})
    if not form.validate():
        fail("invalid", "Some fields need another look.", errors=dict(form.errors))
    community.set_item_note(collection, item_id, form.note.data or "", form.minutes.data)
    transactions.commit()
    return collection_detail(collection)


# -- copying and downloading ------------------------------------------------------------------


@bp.route("/collections/<int:collection_id>/copy", methods=["POST"])
@bp.response(201, schemas.CollectionDetail, headers=LOCATION)
@problem_responses(bp, 401, 403, 404, 409, 429)
@needs_write
def copy_collection(collection_id: int):
    """Make your own version: a private copy, crediting the original."""
    made = community.copy_collection(caller(), pages.visible_collection_or_404(collection_id))
    transactions.commit()
    location = url_for("api_kits.get_collection", collection_id=made.id)
    return collection_detail(made), 201, {"Location": location}


@bp.route("/collections/<int:collection_id>/plan", methods=["GET"])
@bp.response(200, schemas.KitPlan)
@bp.alt_response(304, **NOT_MODIFIED)
@problem_responses(bp, 401, 404, 429)
def download_plan(collection_id: int):
    """What the kit's zip would hold for the caller, before taking it: each item with its
    give-to-get decision (what is not included, and why), and the starter downloads it spends."""
    plan = kits.download_plan(pages.visible_collection_or_404(collection_id), caller())
    return {
        "items": [_planned(p) for p in plan],
        "included": sum(1 for p in plan if p.included),
        "not_included": sum(1 for p in plan if not p.included),
        "starter_downloads_spent": kits.starters_spent(plan),
        "starter_downloads_left": access.allowance_left(caller()),
        "download_url": url_for(
            "api_kits.download_kit", collection_id=collection_id, _external=True
        ),
    }


def _planned(planned: kits.Planned) -> dict:
    return {
        "number": planned.entry.number,
        "resource_id": planned.resource.id,
        "title": planned.resource.title,
        "credit_line": planned.credit_line,
        "included": planned.included,
        "uses_starter": planned.included and planned.decision.uses_starter,
        "reason": "" if planned.included else planned.decision.reason,
    }


@bp.route("/collections/<int:collection_id>/download", methods=["GET", "POST"])
@bp.response(
    200,
    description="The kit's zip: a running-order sheet and the credited files, in order.",
    content_type="application/zip",
)
@problem_responses(bp, 401, 403, 404, 409, 429, 503)
def download_kit(collection_id: int):
    """Take the kit as one zip, each item under its own give-to-get rule (see its `plan`).

    A download that would spend starter downloads is refused on GET (409, type
    `starter-download`): send POST to take it deliberately, as the page asks for a button.
    """
    collection = pages.visible_collection_or_404(collection_id)
    plan = kits.download_plan(collection, current_user)
    if not any(p.included for p in plan):
        refused = pages.nothing_to_take()
        step = {"label": refused.step_label, "url": refused.step_url}
        fail("download-refused", refused.reason, step=step)
    spent = kits.starters_spent(plan)
    if spent and request.method != "POST":
        fail("starter-download", f"This kit spends {spent} of your starter downloads.")
    return pages.send_kit(collection, plan)
