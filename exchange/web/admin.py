"""The admins' queue: reports in, and the hide / restore / suspend / reinstate decisions."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access, community, transactions
from ..extensions import db
from ..models import Member, Report, Resource
from .errors import AccessDenied
from .forms import ModerationForm
from .stale_forms import reshown_when_stale

bp = Blueprint("admin", __name__, url_prefix="/admin")

RECENT = 30


@bp.before_request
@login_required
def admins_only():
    if not access.can_administer(current_user):
        raise AccessDenied(_("Only administrators can see the admin area."))


@bp.route("/reports")
def reports():
    return _queue_page(ModerationForm(formdata=None))


def _queue_page(form: ModerationForm, status: int = 200, failed_for: str = ""):
    context = dict(
        **community.moderation_queue(recent=RECENT),
        reasons=community.REPORT_REASONS,
        labels=community.ACTIONS,
        form=form,
        failed_for=failed_for,
    )
    return render_template("admin/reports.html", **context), status


def _decide(action: Callable[[str], None], done: str):
    """Run one moderation decision with its note and commit it, or show the queue again
    with the problem (a refused decision keeps nothing).

    The queue holds many small forms; ``form_id`` says which one to show again.
    """
    form = ModerationForm()
    if form.validate_on_submit():
        try:
            action(form.note.data)
        except community.Refused as exc:
            flash(str(exc), "warning")
        else:
            transactions.commit()
            flash(done, "success")
        return redirect(url_for("admin.reports"))
    return _queue_page(form, 422, failed_for=request.form.get("form_id", ""))


@reshown_when_stale
@bp.route("/resources/<int:resource_id>/hide", methods=["POST"])
def hide(resource_id: int):
    resource = db.get_or_404(Resource, resource_id)
    return _decide(
        lambda note: community.hide_resource(current_user, resource, note),
        f"“{resource.title}” is hidden.",
    )


@reshown_when_stale
@bp.route("/resources/<int:resource_id>/restore", methods=["POST"])
def restore(resource_id: int):
    resource = db.get_or_404(Resource, resource_id)
    return _decide(
        lambda note: community.restore_resource(current_user, resource, note),
        _("“%(title)s” is visible again.", title=resource.title),
    )


@reshown_when_stale
@bp.route("/members/<int:member_id>/suspend", methods=["POST"])
def suspend(member_id: int):
    member = db.get_or_404(Member, member_id)
    return _decide(
        lambda note: community.suspend_member(current_user, member, note),
        _("%(name)s is suspended and their resources are hidden.", name=member.name),
    )


@reshown_when_stale
@bp.route("/members/<int:member_id>/reinstate", methods=["POST"])
def reinstate(member_id: int):
    member = db.get_or_404(Member, member_id)
    return _decide(
        lambda note: community.reinstate_member(current_user, member, note),
        _("%(name)s is reinstated, with their resources.", name=member.name),
    )


@reshown_when_stale
@bp.route("/reports/<int:report_id>/dismiss", methods=["POST"])
def dismiss(report_id: int):
    item = db.get_or_404(Report, report_id)
    return _decide(
        lambda note: community.dismiss_report(current_user, item, note),
        _("Report dismissed; the reporter has been thanked."),
    )
