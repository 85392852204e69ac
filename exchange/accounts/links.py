"""Signed links for accounts: confirming an email address and resetting a password.

Registration and password reset answer the same way whether or not an address has an
account, and do the same work, so nobody can find out who is a member; what differs is
only whether the owner of the address is sent an email.

Every link is single-use and short-lived: it names the state of the account it was made
for (password, sessions, confirmation), so it stops working once it has been used, once
the password changes and once the member logs out everywhere. Every link starts with
``SITE_URL``, never with the Host a visitor's request named.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer

from .. import notify
from ..extensions import db
from ..i18n import current_language, speaking
from ..models import Member, utcnow
from ..notify import Words

log = logging.getLogger(__name__)

CONFIRM_MAX_AGE = 24 * 3600
RESET_MAX_AGE = 3600
# What the emails and the "check your email" page say about how long a link works.
CONFIRM_LIFETIME = _l("24 hours")
RESET_LIFETIME = _l("one hour")


@dataclass(frozen=True)
class Confirmation:
    """What following a confirmation link did: whose address, whether the browser that
    followed it is the one that registered (only that one is signed in), and the page the
    member was on their way to when they registered ("" for none)."""

    member: Member
    same_browser: bool
    next_path: str = ""


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"exchange-{purpose}")


def _fingerprint(member: Member) -> str:
    """Changes with the password, the session epoch (logout everywhere) and confirmation,
    which retires every link issued before any of them."""
    confirmed = member.confirmed_at.isoformat() if member.confirmed_at else ""
    state = f"{member.email}|{member.password_hash}|{member.session_epoch}|{confirmed}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def _load(purpose: str, token: str, max_age: int) -> dict | None:
    try:
        data = _signer(purpose).loads(token, max_age=max_age)
    except BadData:
        return None
    return data if isinstance(data, dict) else None


def _member_named(data: dict | None) -> Member | None:
    member_id = data.get("id") if data else None
    member = db.session.get(Member, member_id) if isinstance(member_id, int) else None
    return None if member is None or member.suspended else member


def _still_current(member: Member, data: dict) -> bool:
    return hmac.compare_digest(str(data.get("fp", "")), _fingerprint(member))


def _token(purpose: str, member: Member, **extra: str) -> str:
    return _signer(purpose).dumps({"id": member.id, "fp": _fingerprint(member), **extra})


def confirm(token: str, browser_nonce: str) -> Confirmation | None:
    """Confirm the address a link names; None for a bad, expired or foreign link.

    A link used before (or made before the password changed) confirms nothing new, but
    still says whose it is, so its owner can be asked to log in rather than told it failed.
    """
    data = _load("confirm", token, CONFIRM_MAX_AGE)
    member = _member_named(data)
    if member is None:
        return None
    next_path = str(data.get("next", ""))
    if not _still_current(member, data):
        used = member.confirmed_at is not None
        return Confirmation(member, False, next_path) if used else None
    nonce = str(data.get("n", ""))
    same_browser = bool(nonce and browser_nonce) and hmac.compare_digest(nonce, browser_nonce)
    confirm_address(member)
    log.info("member %s confirmed their email address", member.id)
    return Confirmation(member, same_browser, next_path)


def confirm_address(member: Member) -> None:
    """A link reached this member's inbox, which proves the address."""
    if member.confirmed_at is None:
        member.confirmed_at = utcnow()
        db.session.flush()


def member_for_reset(token: str) -> Member | None:
    data = _load("reset", token, RESET_MAX_AGE)
    member = _member_named(data)
    if member is None or not _still_current(member, data):
        return None
    return member


def send_confirmation(member: Member, browser_nonce: str, next_path: str = "") -> str:
    """Email a confirmation link that signs in only the browser holding ``browser_nonce``.

    ``next_path`` (a path on this site, checked by the caller) is signed into the link, so
    the member lands where they were going, whichever browser opens it.
    """
    extra = {"next": next_path} if next_path else {}
    token = _token("confirm", member, n=browser_nonce, **extra)
    url = notify.site_url("auth.confirm", token=token)
    lead = _l(
        "Welcome! Please confirm your email address to finish creating your account. "
        "This link works once, for %(lifetime)s:",
        lifetime=CONFIRM_LIFETIME,
    )
    _queue(member, url, _l("confirm your email address"), lead)
    return url


def send_already_registered(member: Member) -> None:
    """Someone tried to register with an address that has an account: tell its owner."""
    _queue(
        member,
        reset_url(member),
        _l("you already have an account"),
        _l(
            "Someone (perhaps you) tried to create an account with this address, which "
            "already has one. To log in with a new password, follow this link (it works "
            "once, for %(lifetime)s):",
            lifetime=RESET_LIFETIME,
        ),
    )


def send_reset(member: Member | None, email: str) -> None:
    """Email a reset link to ``member``, the account with this address, if there is one.

    The same token is signed and the same outbox row written either way (for an unknown
    address it is withdrawn at once), so the answer takes as long whoever asks.
    """
    real = member is not None and member.is_active
    subject = _l("reset your password")
    lead = _l(
        "To choose a new password, follow this link (it works once, for %(lifetime)s):",
        lifetime=RESET_LIFETIME,
    )
    target = member if real else _stand_in(email.strip().lower())
    _queue(target, reset_url(target), subject, lead, real=real)


def _stand_in(email: str) -> Member:
    """A member that is never saved, to sign and queue for an address without an account."""
    # "-" is no password's hash: nothing can ever verify against it.
    return Member(id=0, email=email, name="", password_hash="-", session_epoch=0)  # nosec B106


def reset_url(member: Member) -> str:
    return notify.site_url("auth.reset_password", token=_token("reset", member))


def _queue(member: Member, url: str, subject: Words, lead: Words, real: bool = True) -> None:
    """Written in the member's language; for an address without an account (or a member
    who never chose), in the language of the page that asked."""
    site = current_app.config["SITE_NAME"]
    with speaking(member.language or current_language()):
        subject = str(subject)
        whole_subject = _("%(site)s: %(title)s", site=site, title=subject)
        body = "\n".join(
            [
                _("Hello %(name)s,", name=member.name) if member.name else _("Hello,"),
                "",
                str(lead),
                "",
                url,
                "",
                _("If this wasn't you, you can ignore this email."),
                "",
                f"— {site}",
            ]
        )
    # One email per link and purpose: a repeat of the same request in the same second
    # (the same signed link) queues nothing new.
    key = "account:" + hashlib.sha256(f"{subject}|{url}".encode()).hexdigest()[:32]
    notify.queue_account_email(key, member.email, whole_subject, body, real=real)
