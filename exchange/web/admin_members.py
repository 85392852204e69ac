"""The admin area beyond the reports queue: the dashboard, the members list, one member's
page (their resources, reports about them, suspend and reinstate), and the audit log.

Routes hang on the admin blueprint, so its rule (:func:`exchange.access.can_administer`,
checked before every request) covers them all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts, community, transactions
from ..extensions import db
from ..models import Member
from ..resources import listings
from .admin import bp
from .forms import ModerationForm
from .helpers import page_number
from .member_forms import MemberSearchForm
from .stale_forms import reshown_when_stale

PER_PAGE = 50


@bp.route("/")
def dashboard():
    figures = community.dashboard(datetime.now(UTC))
    return render_template("admin/dashboard.html", board=figures, figures=community.FIGURES)


@bp.route("/members")
def members():
    form = MemberSearchForm(request.args)
    wanted = accounts.MemberFilter()
    if request.args and form.validate():
        wanted = accounts.MemberFilter(
            words=form.q.data or "",
            role=form.role.data or "",
            status=form.status.data or "",
            joined_from=form.joined_from.data,
            joined_to=form.joined_to.data,
        )
    query = accounts.members_matching(wanted)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    context = dict(form=form, page=page, status_of=accounts.status_of)
    return render_template("admin/members.html", **context), 422 if form.errors else 200


@bp.route("/members/<int:member_id>")
def member(member_id: int):
    return _member_page(db.get_or_404(Member, member_id), ModerationForm(formdata=None))


def _member_page(member: Member, form: ModerationForm, status: int = 200):
    context = dict(
        member=member,
        status=accounts.status_of(member),
        resources=listings.shared_by(member, current_user),
        reports=community.reports_about(member),
        actions=community.actions_about_member(member),
        reasons=community.REPORT_REASONS,
        labels=community.ACTIONS,
        form=form,
    )
    return render_template("admin/member.html", **context), status


@reshown_when_stale
@bp.route("/members/<int:member_id>/suspension", methods=["POST"])
def suspension(member_id: int):
    """Suspend or reinstate from the member's page, with the reason they will be told."""
    member = db.get_or_404(Member, member_id)
    form = ModerationForm()
    if not form.validate_on_submit():
        return _member_page(member, form, 422)
    verb = community.reinstate_member if member.suspended else community.suspend_member
    try:
        verb(current_user, member, form.note.data)
    except community.Refused as exc:
        flash(str(exc), "warning")
    else:
        transactions.commit()
        if verb is community.reinstate_member:
            done = _("%(name)s is reinstated; they have been told why by email.", name=member.name)
        else:
            done = _("%(name)s is suspended; they have been told why by email.", name=member.name)
        flash(done, "success")
    return redirect(url_for("admin.member", member_id=member.id))


@bp.route("/audit")
def audit():
    page = db.paginate(
        community.audit_log(), page=page_number(), per_page=PER_PAGE, error_out=False
    )
    return render_template("admin/audit.html", page=page, labels=community.ACTIONS)
