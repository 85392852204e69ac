"""Resources: browse, share, show, edit, delete, download."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import access, community, transactions
from ..extensions import db
from ..files import (
    BUNDLE_CONTENT_TYPE,
    QuotaExceeded,
    UploadRefused,
    UploadTooLarge,
    bundle_name,
    content_disposition,
    download_name,
    version_name,
)
from ..i18n import label
from ..models import FileVersion, Resource, ShareRequest, StoredFile
from ..resources import listings, operations, reading
from ..storage import get_storage
from ..vocab import STANDARD_TOPICS, parse_tags
from .cards import related_cards
from .errors import AccessDenied
from .forms import ConfirmForm, EditForm, ShareForm, edit_form
from .helpers import form_page, redirect_after_post, whole_number
from .search import catalogue_page
from .stale_forms import reshown_when_stale

bp = Blueprint("resources", __name__, url_prefix="/resources")

PREVIEW_MAX_AGE = 3600


def visible_resource_or_404(resource_id: int, for_page: bool = False) -> Resource:
    """The resource if this visitor may see it; otherwise 404, so ids reveal nothing.

    ``for_page`` loads, in the same query, what the resource's page shows.
    """
    if for_page:
        resource = listings.for_page(resource_id)
    else:
        resource = db.session.get(Resource, resource_id)
    if resource is None:
        abort(404)
    if not access.can_view(current_user, resource):
        abort(404)
    return resource


def editable_resource(resource_id: int) -> Resource:
    resource = visible_resource_or_404(resource_id)
    if not access.can_edit(current_user, resource):
        raise AccessDenied(_("Only the member who shared this resource can change it."))
    return resource


@bp.route("")
def index():
    """Browse: the catalogue with no words, newest first unless another sort is chosen."""
    return catalogue_page("resources.index")


def details_from(form) -> operations.ResourceDetails:
    return operations.ResourceDetails(
        title=form.title.data,
        synopsis=form.synopsis.data,
        how_used=form.how_used.data,
        tags=parse_tags(form.tags.data or ""),
        kind=form.kind.data,
        audience=form.audience.data,
        licence=form.licence.data,
        access=form.access.data,
        credit_name=form.credit_name.data or "",
        visibility=form.visibility.data,
        credit_placement=form.credit_placement.data,
        credit_txt=bool(form.credit_txt.data),
        text_layer=bool(form.text_layer.data),
        language=form.language.data or "",
    )


def uploads_from(field) -> list[operations.Upload]:
    return [
        operations.Upload(f.stream, f.filename or "")
        for f in field.data or []
        if getattr(f, "filename", None)
    ]


SUGGESTED_TAGS = 40


def _form_context(**extra):
    """What the share and edit forms show besides the form: tag suggestions (the standard
    topics, then the tags colleagues use most) and the upload limit."""
    used = [t for t in listings.popular_tags(SUGGESTED_TAGS) if t not in STANDARD_TOPICS]
    topics = [*STANDARD_TOPICS, *used]
    return dict(topics=topics, max_upload_mb=current_app.config["MAX_UPLOAD_MB"], **extra)


@reshown_when_stale
@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = ShareForm()
    answering, answer_problem = _answering()
    if request.method == "GET":
        form.credit_name.data = current_user.default_credit
    if form.validate_on_submit():
        uploads = uploads_from(form.files)
        with _refusals_named_on(form):
            if answer_problem:  # the request closed while the form was being filled in
                raise community.Refused(answer_problem)
            resource = operations.share_resource(
                current_user, details_from(form), uploads, answering
            )
            return _after_share(resource, answering)
    elif form.is_submitted() and not uploads_from(form.files):
        form.files.errors = [*form.files.errors, _("Please choose at least one file to share.")]
    context = _form_context(answering=answering, answer_problem=answer_problem)
    # A request that can't be answered any more: the form shares without answering.
    action = url_for("resources.new") if answer_problem else request.full_path.rstrip("?")
    return form_page("resources/new.html", form, form_action=action, **context)


@contextmanager
def _refusals_named_on(form) -> Iterator[None]:
    """Uploads the site refuses: over a quota or the size limit → the 413 page; a file
    refused for its type or content, or an answer the request can't take → named beside
    the file field, with the rest of the form kept (nothing was shared)."""
    try:
        yield
    except QuotaExceeded as exc:
        abort(413, description=str(exc))
    except UploadTooLarge:
        abort(413)
    except UploadRefused as exc:
        form.files.errors = [*form.files.errors, str(exc)]
    except community.Refused as exc:
        form.files.errors = [*form.files.errors, f"{exc} {NOTHING_SHARED}"]


NOTHING_SHARED = _(
    "Nothing has been shared yet: please choose your files again and press “Share it” to "
    "share your resource without answering."
)


def _answering() -> tuple[ShareRequest | None, str | None]:
    """The request this share answers (``?answers=<id>``), or why it can't be answered."""
    request_id = whole_number(request.args.get("answers", ""))
    if request_id is None:
        return None, None
    return community.answerable_request(request_id, current_user)


def _after_share(resource: Resource, answering=None):
    if answering is not None:
        flash(_("Your resource answers the request “%(title)s”.", title=answering.title), "success")
    if resource.status == Resource.DRAFT:
        flash(_("Before it’s published, please check one thing about your files."), "warning")
        return redirect_after_post(url_for("resources.review", resource_id=resource.id))
    if resource.status == Resource.PROCESSING:
        flash(_("Thank you for sharing! Your files are uploaded."), "success")
    else:
        flash(_("Thank you for sharing! Your resource is published."), "success")
    return redirect_after_post(url_for("resources.show", resource_id=resource.id))


READING_LABELS = {"read": _l("read"), "reading": _l("reading…"), "waiting": _l("waiting")}


@bp.route("/<int:resource_id>")
def show(resource_id: int):
    resource = visible_resource_or_404(resource_id, for_page=True)
    if reading.is_reading(resource) and access.can_edit(current_user, resource):
        progress = reading.progress(resource)
        return render_template(
            "resources/reading.html",
            resource=resource,
            progress=progress,
            problem=reading_problem(progress),
            reading_summary=_reading_summary(progress),
            reading_labels=READING_LABELS,
            reading_note=reading_note,
            form=ConfirmForm(),
        )
    decision = access.download_decision(current_user, resource)
    from .community import resource_extras

    return render_template(
        "resources/show.html",
        resource=resource,
        decision=decision,
        can_edit=access.can_edit(current_user, resource),
        credit_line=operations.credit_line_for(resource),
        histories=listings.file_histories(resource, current_user),
        more_like_this=_more_like_this(resource),
        **resource_extras(resource),
    )


def _more_like_this(resource: Resource):
    """The "More like this" cards (empty Markup when there are none, or the block is off)."""
    limit = current_app.config["RELATED_RESOURCES"]
    more = listings.more_like_this(resource, current_user, limit)
    why = {h.id: (h.id in more.taken_together, more.shared_tags[h.id]) for h in more.hits}
    return related_cards(more.hits, more.tags_by_id, why)


@bp.route("/<int:resource_id>/reading.json")
def reading_status(resource_id: int):
    """How far the reading of a resource's files has got, for its page's script: each
    file's state, why reading stopped (if it did) and where to go once it is done."""
    resource = visible_resource_or_404(resource_id)
    progress = reading.progress(resource)
    review = resource.status == Resource.DRAFT and not progress.reading
    next_page = "resources.review" if review else "resources.show"
    files = [
        {
            "name": f.name,
            "state": f.state,
            "label": str(READING_LABELS[f.state]),
            "note": reading_note(f),
        }
        for f in progress.files
    ]
    response = jsonify(
        reading=progress.reading,
        problem=reading_problem(progress),
        done=progress.done,
        summary=_reading_summary(progress),
        files=files,
        next=url_for(next_page, resource_id=resource.id),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def reading_problem(progress: reading.Progress) -> str:
    """Why reading stopped, in the reader's words; the job's own (an exception's line) are
    quoted as they are, unless they are one of ours."""
    if not progress.detail:
        return ""
    detail = label(progress.detail)
    if progress.stuck_on is None:
        return _("We could not read your files: %(problem)s", problem=detail)
    return _("We could not read “%(name)s”: %(problem)s", name=progress.stuck_on, problem=detail)


def reading_note(file: reading.FileProgress) -> str:
    """What the page adds after a file's state: why its words can't be searched, or that
    they were read from a scan."""
    if file.reason:
        return _("contents not searchable: %(reason)s", reason=label(file.reason))
    return _("read from a scan") if file.from_scan else ""


def _reading_summary(progress: reading.Progress) -> str:
    return ngettext(
        "%(done)d of %(num)d file read.",
        "%(done)d of %(num)d files read.",
        len(progress.files),
        done=progress.done,
    )


@bp.route("/<int:resource_id>/read-again", methods=["POST"])
@login_required
def read_again(resource_id: int):
    """ "Try again" after reading a resource's files stopped on a problem."""
    resource = editable_resource(resource_id)
    if ConfirmForm().validate_on_submit() and reading.read_again(resource):
        transactions.commit()
        flash(_("We’re reading your files again."), "success")
    return redirect(url_for("resources.show", resource_id=resource.id))


@reshown_when_stale
@bp.route("/<int:resource_id>/review", methods=["GET", "POST"])
@login_required
def review(resource_id: int):
    """A draft whose files look like they hold personal data: fix, or confirm and publish."""
    resource = editable_resource(resource_id)
    if not reading.held_for_review(resource):
        return redirect(url_for("resources.show", resource_id=resource.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.publish_draft(resource)
        transactions.commit()
        flash(_("Thank you for checking. Your resource is published."), "success")
        return redirect(url_for("resources.show", resource_id=resource.id))
    findings = operations.privacy_findings(resource)
    return render_template("resources/review.html", resource=resource, findings=findings, form=form)


@reshown_when_stale
@bp.route("/<int:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit(resource_id: int):
    resource = editable_resource(resource_id)
    form = edit_form([(f.id, f.original_name) for f in resource.files], obj=resource)
    if request.method == "GET":
        form.tags.data = ", ".join(resource.tag_names)
    if form.validate_on_submit():
        uploads, replacements = uploads_from(form.files), replacements_from(form)
        if (uploads or replacements) and not form.no_client_data.data:
            form.no_client_data.errors = [_("Please confirm the new files contain no client data.")]
        else:
            with _refusals_named_on(form):
                audit_if_admin(resource, "edit-resource")
                removing = form.remove_files.data
                details = details_from(form)
                operations.edit_resource(resource, details, uploads, removing, replacements)
                return _after_edit(resource)
    return form_page("resources/edit.html", form, **_form_context(resource=resource))


def replacements_from(form: EditForm) -> list[operations.Replacement]:
    """The new versions chosen on the edit form, each with its note of what changed."""
    chosen = []
    for file_id, _label in form.replaceable:
        upload, note = form.replacement_fields(file_id)
        if getattr(upload.data, "filename", ""):
            stream = operations.Upload(upload.data.stream, upload.data.filename)
            chosen.append(operations.Replacement(file_id, stream, note.data or ""))
    return chosen


def _after_edit(resource: Resource):
    if reading.held_for_review(resource):
        flash(_("Before it’s published again, please check one thing about your files."), "warning")
        return redirect_after_post(url_for("resources.review", resource_id=resource.id))
    flash(_("Your changes are saved."), "success")
    return redirect_after_post(url_for("resources.show", resource_id=resource.id))


@reshown_when_stale
@bp.route("/<int:resource_id>/delete", methods=["GET", "POST"])
@login_required
def delete(resource_id: int):
    resource = editable_resource(resource_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = resource.title
        audit_if_admin(resource, "delete-resource")
        operations.delete_resource(resource)
        flash(_("“%(title)s” has been deleted.", title=title), "success")
        return redirect(url_for("members.show", member_id=current_user.id))
    return render_template("resources/delete.html", resource=resource, form=form)


def audit_if_admin(resource: Resource, action: str) -> None:
    """An admin changing someone else's resource goes in the audit log, in the same commit."""
    if current_user.id != resource.owner_id:
        note = f"“{resource.title}”"
        community.record_admin_action(current_user, action, note, resource_id=resource.id)


def visible_file_or_404(resource_id: int, file_id: int) -> tuple[Resource, StoredFile]:
    """A file of a resource this visitor may see, read with its resource in one query."""
    found = listings.with_file(resource_id, file_id)
    if found is None or not access.can_view(current_user, found[0]):
        abort(404)
    return found


@bp.route("/<int:resource_id>/files/<int:file_id>", methods=["GET", "POST"])
def download(resource_id: int, file_id: int):
    resource, stored = visible_file_or_404(resource_id, file_id)
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    decision = access.download_decision(current_user, resource)
    if not decision.allowed:
        raise AccessDenied(decision.reason, decision.step_label, decision.step_url)
    if decision.uses_starter and request.method != "POST":
        return _confirm_starter(resource, stored)
    return take_file(resource, stored)


def take_file(resource: Resource, stored: StoredFile):
    """The one way a file leaves the site, for the pages and the API alike: the credited
    file (a presigned redirect, or the bytes from the folder store), written to the ledger
    in the same request. Only call it once :func:`access.download_decision` allowed it."""
    response = _send(resource, stored)  # first: the commit below expires every row read
    operations.record_download(current_user, resource, stored)
    transactions.commit()
    return response


def _confirm_starter(resource: Resource, stored: StoredFile):
    """A starter download is spent by a deliberate POST, never by following a link."""
    return render_template(
        "community/confirm_download.html",
        resource=resource,
        file=stored,
        form=ConfirmForm(),
        allowance_left=access.allowance_left(current_user),
        starter_total=current_app.config["STARTER_DOWNLOADS"],
    )


@bp.route("/<int:resource_id>/files/<int:file_id>/versions/<int:number>")
def download_version(resource_id: int, file_id: int, number: int):
    """An earlier version of a file, credited as the current one is: for its giver and the
    members who took it (:func:`access.earlier_version_decision`). Fetching it again is
    logged, and counts as nothing new."""
    resource, stored = visible_file_or_404(resource_id, file_id)
    if number == stored.version:
        return redirect(url_for("resources.download", resource_id=resource_id, file_id=file_id))
    version = listings.earlier_version(stored, number)
    if version is None:
        abort(404)
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    decision = access.earlier_version_decision(current_user, resource, file_id, number)
    if not decision.allowed:
        raise AccessDenied(decision.reason, decision.step_label, decision.step_url)
    return take_version(resource, stored, version)


def take_version(resource: Resource, stored: StoredFile, version: FileVersion):
    """An earlier version leaves as the current file does, for the pages and the API alike:
    credited, named for its number, and logged (it counts as nothing new). Only call it
    once :func:`access.earlier_version_decision` allowed it."""
    saved_as = version_name(version.original_name, version.number)
    response = _send(resource, version, saved_as=saved_as)
    operations.record_download(current_user, resource, stored, version=version.number)
    transactions.commit()
    return response


def _send(resource: Resource, stored: StoredFile | FileVersion, saved_as: str = ""):
    file_name = saved_as or stored.original_name
    name = download_name(resource.title, resource.credit_name, file_name)
    content_type = stored.content_type
    if stored.zipped_with_credit and stored.credited_key:
        name, content_type = bundle_name(name), BUNDLE_CONTENT_TYPE
    return get_storage().send(
        stored.credited_key or stored.storage_key,
        filename=name,
        content_type=content_type,
        content_disposition=content_disposition(name),
    )


@bp.route("/<int:resource_id>/files/<int:file_id>/preview.png")
def preview(resource_id: int, file_id: int):
    _, stored = visible_file_or_404(resource_id, file_id)
    if not stored.preview_key:
        abort(404)
    with get_storage().open(stored.preview_key) as fh:
        data = fh.read(5 * 1024 * 1024)
    response = current_app.response_class(data, mimetype="image/png")
    response.headers["Content-Disposition"] = "inline; filename=preview.png"
    # Cards show many at once. A file's new version has its own picture: the resource page
    # asks for it under its own address (``?v=<version>``); a card may show the old one a
    # while longer.
    response.headers["Cache-Control"] = f"private, max-age={PREVIEW_MAX_AGE}"
    return response
