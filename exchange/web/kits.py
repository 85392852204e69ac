"""Collections and workshop kits: my collections, a kit's page and running order, the
buttons that change it (small forms, so they work without script), copying, following and
downloading a kit as one zip."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access, community, transactions
from ..files import content_disposition
from ..models import Collection, Resource
from ..resources import kits
from ..vocab import parse_tags
from .errors import AccessDenied
from .forms import AddToCollectionForm, CollectionForm, ConfirmForm, ItemNoteForm
from .helpers import form_page, safe_next
from .resources import visible_resource_or_404
from .stale_forms import reshown_when_stale

bp = Blueprint("kits", __name__)


def visible_collection_or_404(collection_id: int) -> Collection:
    """A collection this visitor may see; otherwise 404, so private ones reveal nothing."""
    collection = community.collection_for_page(collection_id)
    if collection is None or not access.can_view_collection(current_user, collection):
        abort(404)
    return collection


def editable_collection(collection_id: int) -> Collection:
    collection = visible_collection_or_404(collection_id)
    if not access.can_edit_collection(current_user, collection):
        raise AccessDenied(_("Only the member who made this collection can change it."))
    return collection


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _back_to(collection: Collection, anchor: str | None = None) -> str:
    back = request.form.get("next")
    if back:
        return safe_next(back)
    return url_for("kits.show", collection_id=collection.id, _anchor=anchor)


# -- lists and pages ------------------------------------------------------------------------


@bp.route("/collections")
@login_required
def index():
    return render_template("kits/index.html", collections=community.collections_of(current_user))


@bp.route("/collections/<int:collection_id>")
def collection(collection_id: int):
    return redirect(url_for("kits.show", collection_id=collection_id), 301)


@bp.route("/kits/<int:collection_id>")
def show(collection_id: int):
    return collection_page(visible_collection_or_404(collection_id))


def collection_page(collection: Collection | None):
    """A collection's or kit's page; ``None`` is a member's toolkit before its first save."""
    if collection is None:
        return render_template("kits/show.html", collection=None, entries=[], plan={})
    entries = community.entries_for(collection, current_user)
    plan = kits.download_plan(collection, current_user)
    return render_template(
        "kits/show.html",
        collection=collection,
        entries=entries,
        plan={p.entry.item.id: p for p in plan},
        included=[p for p in plan if p.included],
        excluded=[p for p in plan if not p.included],
        starters=kits.starters_spent(plan),
        allowance_left=_allowance_left(),
        total_minutes=community.total_minutes(entries),
        kit_credit=kits.kit_credit(collection),
        can_edit=access.can_edit_collection(current_user, collection),
        follows=community.follows_kit(current_user, collection),
        note_form=ItemNoteForm(formdata=None),
    )


def _allowance_left() -> int | None:
    return access.allowance_left(current_user) if current_user.is_authenticated else None


# -- making and changing collections -----------------------------------------------------


def _details(form: CollectionForm) -> community.CollectionDetails:
    return community.CollectionDetails(
        title=form.title.data or "",
        purpose=form.purpose.data or "",
        is_kit=bool(form.is_kit.data),
        public=bool(form.public.data),
        tags=parse_tags(form.tags.data or ""),
    )


@reshown_when_stale
@bp.route("/collections/new", methods=["GET", "POST"])
@login_required
def new():
    form = CollectionForm()
    if request.method == "GET":
        form.is_kit.data = request.args.get("kit") == "1"
    if form.validate_on_submit():
        made = community.create_collection(current_user, _details(form))
        resource = _resource_to_add()
        if resource is not None:
            community.add_item(made, resource)
        transactions.commit()
        flash(
            _("“%(title)s” is made. Add resources to it from their pages.", title=made.title),
            "success",
        )
        return redirect(url_for("kits.show", collection_id=made.id))
    return form_page("kits/form.html", form, collection=None, adding=_resource_to_add())


def _resource_to_add() -> Resource | None:
    """``?add=<resource id>``: a resource to put in the new collection straight away."""
    wanted = request.values.get("add", "")
    if not wanted.isdigit() or len(wanted) > 18:
        return None
    return visible_resource_or_404(int(wanted))


@reshown_when_stale
@bp.route("/kits/<int:collection_id>/edit", methods=["GET", "POST"])
@login_required
def edit(collection_id: int):
    collection = editable_collection(collection_id)
    form = CollectionForm(obj=collection)
    if form.validate_on_submit():
        try:
            community.update_collection(collection, _details(form))
        except community.Refused as exc:
            form.public.errors = [str(exc)]
        else:
            transactions.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("kits.show", collection_id=collection.id))
    return form_page("kits/form.html", form, collection=collection, adding=None)


@reshown_when_stale
@bp.route("/kits/<int:collection_id>/delete", methods=["GET", "POST"])
@login_required
def delete(collection_id: int):
    collection = editable_collection(collection_id)
    if collection.is_default:
        raise community.Refused(
            _("“My toolkit” can’t be deleted; take out what you no longer need.")
        )
    form = ConfirmForm()
    if form.validate_on_submit():
        title = collection.title
        community.delete_collection(collection)
        transactions.commit()
        flash(_("“%(title)s” has been deleted.", title=title), "success")
        return redirect(url_for("kits.index"))
    return render_template("kits/delete.html", collection=collection, form=form)


# -- items -------------------------------------------------------------------------------------


@bp.route("/kits/<int:collection_id>/items/<int:item_id>/move", methods=["POST"])
@login_required
def move(collection_id: int, item_id: int):
    collection = editable_collection(collection_id)
    _confirmed()
    step = -1 if request.form.get("direction") == "up" else 1
    community.move_item(collection, item_id, step)
    transactions.commit()
    return redirect(_back_to(collection, anchor=f"item-{item_id}"))


@bp.route("/kits/<int:collection_id>/items/<int:item_id>/note", methods=["POST"])
@login_required
def note(collection_id: int, item_id: int):
    collection = editable_collection(collection_id)
    form = ItemNoteForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "warning")
        return redirect(_back_to(collection, anchor=f"item-{item_id}"))
    community.set_item_note(collection, item_id, form.note.data or "", form.minutes.data)
    transactions.commit()
    flash(_("The note is saved."), "success")
    return redirect(_back_to(collection, anchor=f"item-{item_id}"))


@bp.route("/kits/<int:collection_id>/items/<int:item_id>/remove", methods=["POST"])
@login_required
def remove(collection_id: int, item_id: int):
    collection = editable_collection(collection_id)
    _confirmed()
    community.remove_item(collection, item_id)
    transactions.commit()
    flash(_("Taken out of “%(title)s”.", title=collection.shown_title), "success")
    return redirect(_back_to(collection))


@bp.route("/resources/<int:resource_id>/collect", methods=["POST"])
@login_required
def collect(resource_id: int):
    """Put a resource into one of my collections or kits, from the resource's page."""
    resource = visible_resource_or_404(resource_id)
    form = AddToCollectionForm()
    form.collection.choices = [
        (c.id, c.shown_title) for c in community.collections_of(current_user)
    ]
    if not form.validate_on_submit():
        flash(_("Please choose one of your collections."), "warning")
        return redirect(url_for("resources.show", resource_id=resource.id))
    target = editable_collection(form.collection.data)
    added = community.add_item(target, resource, note=form.note.data or "")
    transactions.commit()
    if added:
        flash(_("Added to “%(title)s”.", title=target.shown_title), "success")
    else:
        flash(_("It was already in “%(title)s”.", title=target.shown_title), "success")
    return redirect(url_for("resources.show", resource_id=resource.id))


# -- copying, following, downloading ------------------------------------------------------


@bp.route("/kits/<int:collection_id>/copy", methods=["POST"])
@login_required
def copy(collection_id: int):
    original = visible_collection_or_404(collection_id)
    _confirmed()
    made = community.copy_collection(current_user, original)
    transactions.commit()
    flash(
        _(
            "This is your own version, private until you share it. Change anything you like: "
            "the original kit stays credited."
        ),
        "success",
    )
    return redirect(url_for("kits.show", collection_id=made.id))


@bp.route("/kits/<int:collection_id>/follow", methods=["POST"])
@login_required
def follow(collection_id: int):
    collection = visible_collection_or_404(collection_id)
    _confirmed()
    try:
        community.follow_kit(current_user, collection)
    except community.Refused as exc:
        flash(str(exc), "warning")
    else:
        transactions.commit()
        flash(
            _(
                "You follow “%(title)s”: its changes appear in “What’s new”.",
                title=collection.title,
            ),
            "success",
        )
    return redirect(_back_to(collection))


@bp.route("/kits/<int:collection_id>/unfollow", methods=["POST"])
@login_required
def unfollow(collection_id: int):
    collection = visible_collection_or_404(collection_id)
    _confirmed()
    community.unfollow_kit(current_user, collection)
    transactions.commit()
    flash(_("You no longer follow “%(title)s”.", title=collection.title), "success")
    return redirect(_back_to(collection))


@bp.route("/kits/<int:collection_id>/download", methods=["POST"])
@login_required
def download(collection_id: int):
    """One zip, in the running order; a POST, since it may spend starter downloads."""
    collection = visible_collection_or_404(collection_id)
    _confirmed()
    plan = kits.download_plan(collection, current_user)
    if not any(p.included for p in plan):
        raise nothing_to_take()
    return send_kit(collection, plan)


def nothing_to_take() -> AccessDenied:
    """Why a kit's download is refused when give-to-get keeps every item back."""
    return AccessDenied(
        _(
            "Nothing in this kit is yours to take yet. Share one of your own tools, or answer "
            "a colleague’s request, to open everything."
        ),
        _("Share a resource"),
        url_for("resources.new"),
    )


def send_kit(collection: Collection, plan: list[kits.Planned]):
    """The kit's zip, for the page and the API alike: built, written to the ledger (each
    included resource once), committed, then sent. Only call it with something included."""
    archive = kits.download_kit(collection, current_user, plan)
    name = kits.zip_name(collection)
    transactions.commit()
    response = send_file(
        archive, mimetype="application/zip", as_attachment=True, download_name="kit.zip"
    )
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "no-store"
    return response
