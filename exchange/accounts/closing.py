"""Closing an account: the member's row is emptied of everything that named them.

The row stays, so the ledger's counts and any words the member chose to leave behind keep
something to point at; its address is freed (another account may register with it), its
password can never match, and every session it had ends (its session epoch moves on), as
does every API token it made.
Flushes only: the account deletion commits once, with everything else it changes.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from .. import notify
from ..extensions import db
from ..i18n import speaking
from ..models import DataExport, Member, OutboxEmail, utcnow
from .tokens import revoke_all

FORMER_NAME = "Former member"


def close_account(member: Member) -> list[str]:
    """Empty the member's row and end their sessions; returns stored keys to delete."""
    keys = _drop_exports(member)
    _confirm_by_email(member)
    _drop_waiting_emails(member)
    member.name = FORMER_NAME
    member.email = f"deleted:{member.id}"  # not an address: no registration can take it
    member.password_hash = ""  # nosec B105: an empty hash is no password; it matches none
    for field in ("credit_name", "organisation", "role", "region", "bio"):
        setattr(member, field, "")
    member.email_notifications = False
    member.is_admin = False
    member.session_epoch += 1
    revoke_all(member)  # the API's tokens end with the sessions
    member.deleted_at = utcnow()
    db.session.flush()
    return keys


def _drop_exports(member: Member) -> list[str]:
    query = select(DataExport.storage_key).where(DataExport.member_id == member.id)
    keys = [key for key in db.session.scalars(query) if key]
    db.session.execute(delete(DataExport).where(DataExport.member_id == member.id))
    return keys


def _drop_waiting_emails(member: Member) -> None:
    """Nothing more is sent to the old address but the confirmation of the deletion."""
    db.session.execute(
        delete(OutboxEmail).where(
            OutboxEmail.to_address == member.email,
            OutboxEmail.status == OutboxEmail.PENDING,
            OutboxEmail.key != _confirmation_key(member),
        )
    )


def _confirmation_key(member: Member) -> str:
    return f"account:deleted:{member.id}"


def _confirm_by_email(member: Member) -> None:
    site = notify.site_root()
    name = current_app.config["SITE_NAME"]
    with speaking(member.language):
        body = "\n".join(
            [
                _("Hello %(name)s,", name=member.name),
                "",
                _(
                    "Your account on %(site)s is deleted, as you asked. You are signed out "
                    "everywhere, and this address may register again whenever you like.",
                    site=name,
                ),
                "",
                f"— {name}, {site}",
            ]
        )
        subject = _("%(site)s: your account is deleted", site=name)
    notify.queue_account_email(_confirmation_key(member), member.email, subject, body, real=True)
