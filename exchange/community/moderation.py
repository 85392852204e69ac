"""Reports and moderation: members report spam or client data; administrators hide and
restore resources, suspend and reinstate members, and dismiss reports, each action logged
with who did it and why.

Each decision writes, in the caller's transaction, the change, its log entry, the
notifications it causes and the change-log entries search follows; the admin's request
commits them together, and the index catches up after that commit.
"""

from __future__ import annotations

import logging

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from .. import notify
from ..extensions import db
from ..models import (
    IndexChange,
    Member,
    ModerationAction,
    Report,
    Resource,
    utcnow,
)
from ..vocab import N_
from .audit import record_admin_action
from .rules import Refused

log = logging.getLogger(__name__)

REPORT_REASONS = {
    "spam": N_("Spam"),
    "not-career": N_("Not a career resource"),
    "client-data": N_("Contains client data"),
    "copyright": N_("Copyright"),
    "other": N_("Something else"),
}


def report(
    reporter: Member,
    reason: str,
    note: str = "",
    resource: Resource | None = None,
    member: Member | None = None,
) -> Report:
    """Report a resource or a member to the admins; a repeat updates the open report."""
    _check_report(reporter, reason, note, resource, member)
    target = {
        "resource_id": resource.id if resource else None,
        "member_id": member.id if member else None,
    }
    item = _open_report(reporter, **target)
    if item is None:
        item = Report(reporter_id=reporter.id, reason=reason, note=note.strip(), **target)
        db.session.add(item)
        db.session.flush()
        _tell_admins(item)
        log.info("member %s reported %s", reporter.id, report_target(item))
    item.reason, item.note = reason, note.strip()
    db.session.flush()
    return item


def _open_report(reporter: Member, resource_id: int | None, member_id: int | None):
    query = select(Report).where(
        Report.reporter_id == reporter.id,
        Report.status == Report.OPEN,
        Report.resource_id == resource_id,
        Report.member_id == member_id,
    )
    return db.session.scalar(query)


def _check_report(
    reporter: Member, reason: str, note: str, resource: Resource | None, member: Member | None
) -> None:
    if (resource is None) == (member is None):
        raise Refused(_("A report is about one resource or one member."))
    if reason not in REPORT_REASONS:
        raise Refused(_("Please choose a reason."))
    if reason == "other" and not note.strip():
        raise Refused(_("Please say in a few words what’s wrong."))
    owner_id = resource.owner_id if resource else member.id
    if owner_id == reporter.id:
        raise Refused(_("You can’t report your own resources or yourself."))


def report_target(item: Report) -> str:
    if item.resource is not None:
        return _("resource “%(title)s”", title=item.resource.title)
    if item.member:
        return _("member %(name)s", name=item.member.name)
    return _("something since removed")


def _tell_admins(item: Report) -> None:
    admins = db.session.scalars(
        select(Member).where(Member.is_admin.is_(True), Member.suspended.is_(False))
    )
    for admin in admins:
        notify.notify(
            admin,
            f"report:{item.id}:{admin.id}",
            "report",
            LazyString(_new_report_message, item),
            url_for("admin.reports"),
        )


def _new_report_message(item: Report) -> str:
    reason = _(REPORT_REASONS[item.reason]).lower()
    return _("New report (%(reason)s) about %(target)s.", reason=reason, target=report_target(item))


def hide_resource(admin: Member, resource: Resource, note: str) -> None:
    """Take a resource off the exchange (pages, search, downloads) after a report."""
    if resource.status == Resource.HIDDEN:
        raise Refused(_("That resource is already hidden."))
    resource.status = Resource.HIDDEN
    IndexChange.record(resource.id)
    action = _log_action(admin, "hide", note, resource_id=resource.id)
    _close_reports(admin, note, Report.resource_id == resource.id)
    notify.notify(
        resource.owner,
        f"hidden:{action.id}",
        "moderation",
        _l(
            "An administrator hid your resource “%(title)s”: %(note)s",
            title=resource.title,
            note=note.strip(),
        ),
        url_for("resources.show", resource_id=resource.id),
    )
    log.info("admin %s hid resource %s", admin.id, resource.id)


def restore_resource(admin: Member, resource: Resource, note: str) -> None:
    """Publish a hidden resource again."""
    if resource.status != Resource.HIDDEN:
        raise Refused(_("Only a hidden resource can be restored."))
    resource.status = Resource.SUSPENDED if resource.owner.suspended else Resource.PUBLISHED
    IndexChange.record(resource.id)
    action = _log_action(admin, "restore", note, resource_id=resource.id)
    notify.notify(
        resource.owner,
        f"restored:{action.id}",
        "moderation",
        _l("Your resource “%(title)s” is visible again.", title=resource.title),
        url_for("resources.show", resource_id=resource.id),
    )
    log.info("admin %s restored resource %s", admin.id, resource.id)


def suspend_member(admin: Member, member: Member, note: str) -> None:
    """Sign a member out everywhere, refuse their logins and hide what they've shared.

    Their published resources become "suspended" (not "hidden"), so reinstating them
    brings back exactly those, while anything an admin hid on its own stays hidden.
    """
    if member.is_admin:
        raise Refused(_("Administrators can’t be suspended here."))
    if member.suspended:
        raise Refused(_("That member is already suspended."))
    member.suspended = True
    member.session_epoch += 1
    _set_status(member, Resource.PUBLISHED, Resource.SUSPENDED)
    action = _log_action(admin, "suspend", note, member_id=member.id)
    _close_reports(admin, note, Report.member_id == member.id)
    _tell_member_directly(member, f"suspended:{action.id}", LazyString(suspension_notice, note))
    db.session.flush()
    log.info("admin %s suspended member %s", admin.id, member.id)


def reinstate_member(admin: Member, member: Member, note: str) -> None:
    """Let a suspended member back in, with the resources their suspension hid."""
    if not member.suspended:
        raise Refused(_("That member isn’t suspended."))
    member.suspended = False
    _set_status(member, Resource.SUSPENDED, Resource.PUBLISHED)
    action = _log_action(admin, "reinstate", note, member_id=member.id)
    _tell_member_directly(
        member, f"reinstated:{action.id}", _l("Your account is active again: you can log in.")
    )
    db.session.flush()
    log.info("admin %s reinstated member %s", admin.id, member.id)


def suspension_notice(note: str) -> str:
    """What a suspended member is told, by email and when a login is refused."""
    reason = note.strip() or _("no reason was given")
    return _("An administrator suspended your account: %(reason)s", reason=reason)


def _tell_member_directly(member: Member, key: str, message: str | LazyString) -> None:
    """By email whatever their settings: a suspended member sees no page of the site."""
    notify.notify(member, key, "moderation", message)
    notify.queue_email(member, key, message)


def _set_status(member: Member, old: str, new: str) -> None:
    for resource in member.resources:
        if resource.status == old:
            resource.status = new
            IndexChange.record(resource.id)


def dismiss_report(admin: Member, item: Report, note: str) -> None:
    """Close a report with no action, telling the reporter it was looked at."""
    if item.status != Report.OPEN:
        raise Refused(_("That report has already been handled."))
    _log_action(admin, "dismiss", note, report_id=item.id)
    _handle(admin, item, Report.DISMISSED, note)
    db.session.flush()


def _close_reports(admin: Member, note: str, about) -> None:
    open_reports = db.session.scalars(select(Report).where(about, Report.status == Report.OPEN))
    for item in open_reports:
        _handle(admin, item, Report.ACTIONED, note)


def _handle(admin: Member, item: Report, status: str, note: str) -> None:
    item.status, item.handled_by_id = status, admin.id
    item.handled_note, item.handled_at = note.strip(), utcnow()
    notify.notify(
        item.reporter,
        f"report-handled:{item.id}",
        "report-handled",
        LazyString(_handled_message, item, status),
        "",
    )


def _handled_message(item: Report, status: str) -> str:
    target = report_target(item)
    if status == Report.ACTIONED:
        return _(
            "Thank you for your report about %(target)s. An administrator has looked into it "
            "and taken action.",
            target=target,
        )
    return _(
        "Thank you for your report about %(target)s. An administrator has looked into it and "
        "decided to leave it as it is.",
        target=target,
    )


def _log_action(admin: Member, action: str, note: str, **target: int) -> ModerationAction:
    return record_admin_action(admin, action, note, **target)


def moderation_queue(recent: int) -> dict[str, list]:
    """What the administrators' queue shows: open reports (oldest first), hidden resources,
    suspended members, and the ``recent`` latest moderation actions."""
    return {
        "open_reports": _all(
            select(Report).where(Report.status == Report.OPEN).order_by(Report.created_at)
        ),
        "hidden": _all(
            select(Resource).where(Resource.status == Resource.HIDDEN).order_by(Resource.title)
        ),
        "suspended": _all(select(Member).where(Member.suspended.is_(True)).order_by(Member.name)),
        "actions": _all(
            select(ModerationAction).order_by(ModerationAction.created_at.desc()).limit(recent)
        ),
    }


def _all(query) -> list:
    return list(db.session.scalars(query))
