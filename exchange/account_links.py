"""Signed links for accounts: confirming an email address and resetting a password.

Registration and password reset answer the same way whether or not an address has an
account, so nobody can find out who is a member; what differs is only the email that the
owner of the address receives. Reset links are single-use: they name the password they
replace, and stop working once it changes. Every link starts with ``SITE_URL``, never with
the Host a visitor's request named.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from . import notify
from .extensions import db
from .models import Member, utcnow

log = logging.getLogger(__name__)

CONFIRM_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 2 * 3600


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"exchange-{purpose}")


def _fingerprint(member: Member) -> str:
    """Changes whenever the password does, which retires every reset link issued before."""
    return hashlib.sha256(member.password_hash.encode()).hexdigest()[:16]


def _load(purpose: str, token: str, max_age: int) -> dict | None:
    try:
        data = _signer(purpose).loads(token, max_age=max_age)
    except BadData:
        return None
    return data if isinstance(data, dict) else None


def confirmation_url(member: Member) -> str:
    token = _signer("confirm").dumps({"id": member.id, "email": member.email})
    return notify.site_url("auth.confirm", token=token)


def confirm(token: str) -> Member | None:
    """The member a valid confirmation link names, now confirmed; None for a bad link."""
    data = _load("confirm", token, CONFIRM_MAX_AGE)
    member = db.session.get(Member, data.get("id", 0)) if data else None
    if member is None or member.email != data.get("email") or member.suspended:
        return None
    if member.confirmed_at is None:
        confirm_address(member)
        log.info("member %s confirmed their email address", member.id)
    return member


def confirm_address(member: Member) -> None:
    """A reset link reached this member's inbox, which proves the address too."""
    if member.confirmed_at is None:
        member.confirmed_at = utcnow()
        db.session.commit()


def reset_url(member: Member) -> str:
    token = _signer("reset").dumps({"id": member.id, "pw": _fingerprint(member)})
    return notify.site_url("auth.reset_password", token=token)


def member_for_reset(token: str) -> Member | None:
    data = _load("reset", token, RESET_MAX_AGE)
    member = db.session.get(Member, data.get("id", 0)) if data else None
    if member is None or member.suspended or data.get("pw") != _fingerprint(member):
        return None
    return member


def send_confirmation(member: Member) -> str:
    url = confirmation_url(member)
    _send(
        member,
        url,
        "confirm your email address",
        "Welcome! Please confirm your email address to finish creating your account:",
    )
    return url


def send_already_registered(member: Member) -> str:
    """Someone tried to register with an address that has an account: tell its owner."""
    url = reset_url(member)
    _send(
        member,
        url,
        "you already have an account",
        "Someone (perhaps you) tried to create an account with this address, which "
        "already has one. To log in with a new password, follow this link:",
    )
    return url


def send_reset(member: Member) -> str:
    url = reset_url(member)
    _send(
        member,
        url,
        "reset your password",
        "To choose a new password, follow this link (it works once, for two hours):",
    )
    return url


def _send(member: Member, url: str, subject: str, lead: str) -> None:
    site = current_app.config["SITE_NAME"]
    body = "\n".join(
        [
            f"Hello {member.name},",
            "",
            lead,
            "",
            url,
            "",
            "If this wasn't you, you can ignore this email.",
            "",
            f"— {site}",
        ]
    )
    # One email per link and purpose: the reset link of "you already have an account" may
    # be the very link a reset request signed in the same second, and both must be sent.
    key = "account:" + hashlib.sha256(f"{subject}|{url}".encode()).hexdigest()[:32]
    notify.send_now(key, member.email, f"{site}: {subject}", body)
