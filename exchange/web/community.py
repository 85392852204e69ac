"""Thanks, the toolkit, impact, notifications, reports and a member's exchange page."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from .. import access, community, notify, transactions
from ..extensions import db, limiter, member_key, succeeded
from ..models import Member, Notification, Resource
from .errors import AccessDenied
from .forms import ConfirmForm, ExchangeSettingsForm, ReportForm, ThanksForm
from .helpers import form_page, safe_next
from .kits import collection_page
from .resources import visible_resource_or_404
from .stale_forms import reshown_when_stale

log = logging.getLogger(__name__)

bp = Blueprint("community", __name__)


@bp.app_context_processor
def unread_notifications() -> dict:
    """The header's unread count; a page still renders if the database is struggling."""
    if not current_user.is_authenticated:
        return {"unread_notifications": 0}
    try:
        return {"unread_notifications": notify.unread_count(current_user)}
    except SQLAlchemyError:
        log.warning("could not count unread notifications", exc_info=True)
        db.session.rollback()
        return {"unread_notifications": 0}


@bp.app_context_processor
def header_standing() -> dict:
    """A newcomer's starter downloads left, for the header: None for a member who has
    shared (or an administrator, or a visitor). The resource page's own count, the same
    rule in :func:`exchange.access.allowance_left`; a page still renders without it."""
    context = {"header_starter_total": current_app.config["STARTER_DOWNLOADS"]}
    if not current_user.is_authenticated:
        return {**context, "header_allowance": None}
    try:
        return {**context, "header_allowance": access.allowance_left(current_user)}
    except SQLAlchemyError:
        log.warning("could not count starter downloads left", exc_info=True)
        db.session.rollback()
        return {**context, "header_allowance": None}


def resource_extras(resource: Resource) -> dict:
    """What the resource page shows around the files: thanks, toolkit, starter downloads."""
    member = current_user if current_user.is_authenticated else None
    thanks = community.thanks_for(resource)
    standing = community.standing(member, resource) if member else community.Standing()
    mine = next((t for t in thanks if member and t.member_id == member.id), None)
    may_thank = community.may_thank(current_user, resource, standing)
    note = mine.note if mine else ""
    return dict(
        thanks=thanks,
        my_thanks=mine,
        may_thank=may_thank,
        thanks_form=ThanksForm(formdata=None, note=note) if may_thank else None,
        saved=standing.saved,
        my_collections=community.collections_of(member) if member else [],
        kits_using=community.kits_using(resource),
        allowance_left=access.allowance_left(member) if member else None,
        starter_total=current_app.config["STARTER_DOWNLOADS"],
    )


# -- thanks ----------------------------------------------------------------------------


@reshown_when_stale
@bp.route("/resources/<int:resource_id>/thanks", methods=["GET", "POST"])
@login_required
def thanks(resource_id: int):
    resource = visible_resource_or_404(resource_id)
    if not community.may_thank(current_user, resource):
        raise AccessDenied(
            _why_no_thanks(resource),
            _("Back to the resource"),
            url_for("resources.show", resource_id=resource.id),
        )
    mine = community.thanks_from(current_user, resource)
    form = ThanksForm(obj=mine)
    if form.validate_on_submit():
        community.thank(current_user, resource, form.note.data)
        transactions.commit()
        flash(_thanked_message(resource, again=mine is not None), "success")
        return redirect(url_for("resources.show", resource_id=resource.id, _anchor="thanks"))
    return form_page("community/thanks.html", form, resource=resource, mine=mine)


def _thanked_message(resource: Resource, again: bool) -> str:
    if again:
        return _(
            "You’d already thanked the giver for “%(title)s”, so your note is updated: the "
            "giver now sees the new one.",
            title=resource.title,
        )
    return _("Thank you! The giver will see your note.")


def _why_no_thanks(resource: Resource) -> str:
    if current_user.id == resource.owner_id:
        return _("This is your own resource: thanks come from the colleagues who use it.")
    return _("Download it first, then come back and say how it went.")


# -- toolkit ---------------------------------------------------------------------------


@bp.route("/resources/<int:resource_id>/save", methods=["POST"])
@login_required
def save(resource_id: int):
    resource = visible_resource_or_404(resource_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    saved = community.toggle_saved(current_user, resource)
    transactions.commit()
    flash(_("Saved to your toolkit.") if saved else _("Taken out of your toolkit."), "success")
    back = request.form.get("next")
    return redirect(safe_next(back) if back else url_for("resources.show", resource_id=resource.id))


@bp.route("/toolkit")
@login_required
def toolkit():
    """ "My toolkit": the member's default collection, on the same page as any collection."""
    return collection_page(community.toolkit_of(current_user))


# -- impact ----------------------------------------------------------------------------


@bp.route("/members/<int:member_id>/impact")
@login_required
def impact_page(member_id: int):
    member = db.get_or_404(Member, member_id)
    if not access.can_see_impact(current_user, member):
        raise AccessDenied(
            _("Only %(name)s can see the full impact of their gifts.", name=member.name),
            _("See %(name)s’s public page", name=member.name),
            url_for("members.show", member_id=member.id),
        )
    return render_template(
        "community/impact.html", member=member, impact=community.impact_of(member)
    )


# -- my exchange -----------------------------------------------------------------------


@reshown_when_stale
@bp.route("/account/exchange", methods=["GET", "POST"])
@login_required
def exchange():
    form = ExchangeSettingsForm(obj=current_user)
    if form.validate_on_submit():
        current_user.email_notifications = form.email_notifications.data
        transactions.commit()
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("community.exchange"))
    standing = community.standing_of(current_user, current_app.config["STARTER_DOWNLOADS"])
    return form_page("community/exchange.html", form, standing=standing)


# -- notifications ---------------------------------------------------------------------


@bp.route("/notifications")
@login_required
def notifications():
    return render_template(
        "community/notifications.html",
        notifications=notify.recent(current_user),
        form=ConfirmForm(),
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    if ConfirmForm().validate_on_submit():
        notify.mark_read(current_user)
        transactions.commit()
        flash(_("All caught up."), "success")
    return redirect(url_for("community.notifications"))


@bp.route("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Follow a notification to what it is about, marking it read on the way."""
    item = db.get_or_404(Notification, notification_id)
    if item.member_id != current_user.id:
        abort(404)
    url = item.url
    notify.mark_read(current_user, item.id)
    transactions.commit()
    return redirect(safe_next(url, fallback="community.notifications"))


# -- reports ---------------------------------------------------------------------------


@reshown_when_stale
@bp.route("/resources/<int:resource_id>/report", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"], key_func=member_key, deduct_when=succeeded)
def report_resource(resource_id: int):
    resource = visible_resource_or_404(resource_id)
    back = url_for("resources.show", resource_id=resource.id)
    return _report(resource.title, back, resource=resource)


@reshown_when_stale
@bp.route("/members/<int:member_id>/report", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"], key_func=member_key, deduct_when=succeeded)
def report_member(member_id: int):
    member = db.get_or_404(Member, member_id)
    back = url_for("members.show", member_id=member.id)
    return _report(member.name, back, member=member)


def _report(subject: str, back: str, **target):
    form = ReportForm()
    if form.validate_on_submit():
        try:
            community.report(current_user, form.reason.data, form.note.data or "", **target)
        except community.Refused as exc:
            form.note.errors = [str(exc)]
        else:
            transactions.commit()
            flash(_("Thank you. An administrator will look at your report."), "success")
            return redirect(back)
    return form_page("community/report.html", form, subject=subject, back=back)
