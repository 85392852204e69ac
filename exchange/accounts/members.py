"""Member accounts: registration, sign-in checks, profile and password changes.

Passwords are hashed with Argon2id. Sign-in takes the same time whether or not the email
exists, so the response never tells an attacker which addresses have accounts.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError

from .. import access
from ..extensions import db
from ..i18n import current_language
from ..models import Member, insert_if_absent, utcnow
from . import links as account_links

log = logging.getLogger(__name__)

_HASHERS = {
    "default": PasswordHasher(),
    # Only honoured when EXCHANGE_ENV=testing: keeps a suite of many sign-ups quick.
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


class EmailTaken(ValueError):
    """Someone already registered with this address."""


def _hasher_name() -> str:
    fast = current_app.config["ENV"] == "testing" and current_app.config.get("FAST_PASSWORDS")
    return "fast" if fast else "default"


def _hasher() -> PasswordHasher:
    return _HASHERS[_hasher_name()]


@functools.cache
def _dummy_hash(hasher_name: str) -> str:
    """A hash to verify against when the email is unknown, so both paths cost the same."""
    return _HASHERS[hasher_name].hash("not a real password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def register_member(name: str, email: str, password: str, confirmed: bool = False) -> Member:
    """Create a member; raises :class:`EmailTaken` however the address is capitalised.

    Written in the caller's transaction (a savepoint keeps it usable after a taken address).
    """
    member = Member(
        name=name.strip(),
        email=normalise_email(email),
        password_hash=_hasher().hash(password),
        confirmed_at=utcnow() if confirmed else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(member)
    except IntegrityError as exc:
        raise EmailTaken(email) from exc
    log.info("member %s registered", member.id)
    return member


def authenticate(email: str, password: str) -> Member | None:
    """The member with these credentials, or None; equally slow for unknown addresses."""
    member = find_by_email(email)
    stored = member.password_hash if member else _dummy_hash(_hasher_name())
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if member is None:
        return None
    _rehash_if_needed(member, password)
    return member


def _rehash_if_needed(member: Member, password: str) -> None:
    """A hash made with weaker settings is replaced; the sign-in's request commits it."""
    if _hasher().check_needs_rehash(member.password_hash):
        member.password_hash = _hasher().hash(password)


def start_registration(
    name: str, email: str, password: str, browser_nonce: str, next_path: str = ""
) -> str:
    """Register, or tell the owner of an address that already has an account.

    Either way the visitor sees the same answer and the same statements run (the insert
    of an address that is taken does nothing), so neither the page nor its timing reveals
    whether an address belongs to a member. Returns the confirmation link of a new account
    (shown on the page only on a development server without email), and "" for a taken
    address: the visitor has proved nothing about it, so nothing about it is shown.
    ``next_path`` is where the new member was going; the confirmation link leads there.
    """
    address = normalise_email(email)
    values = {"name": name.strip(), "email": address, "password_hash": _hasher().hash(password)}
    # The language the visitor was reading when they joined: their emails start in it too.
    values["language"] = current_language()
    created = insert_if_absent(Member, ["email"], **values)
    member = find_by_email(address)
    if created:
        log.info("member %s registered", member.id)
        return account_links.send_confirmation(member, browser_nonce, next_path)
    account_links.send_already_registered(member)
    return ""


def check_password(member: Member, password: str) -> bool:
    try:
        return _hasher().verify(member.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(member: Member, new_password: str) -> None:
    """Set a new password and sign the member out of every other browser."""
    member.password_hash = _hasher().hash(new_password)
    member.session_epoch += 1
    db.session.flush()
    log.info("member %s changed their password", member.id)


def end_all_sessions(member: Member) -> None:
    """Invalidate every session and remember-me cookie issued to this member so far."""
    member.session_epoch += 1
    db.session.flush()


def sign_in_token(member: Member) -> str:
    """How the session and the remember-me cookie name a member: id, session epoch and the
    moment of sign-in, so a copied remember-me cookie stops working when it expires (30
    days), whatever the browser it was copied to does with its expiry date."""
    return f"{member.id}:{member.session_epoch}:{int(time.time())}"


def read_sign_in_token(token: str) -> tuple[int, int] | None:
    """(member id, session epoch) from a sign-in token that is well formed and not older than
    a remember-me cookie may live; None otherwise."""
    parts = token.split(":")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    member_id, epoch, signed_in = (int(part) for part in parts)
    if time.time() - signed_in > _longest_sign_in().total_seconds():
        return None
    return member_id, epoch


def load_member(token: str) -> Member | None:
    """Flask-Login's loader: the id and session epoch must both still match, and the
    sign-in be no older than a remember-me cookie may live."""
    named = read_sign_in_token(token)
    if named is None:
        return None
    member_id, epoch = named
    found = db.session.execute(_member_and_sharing(), {"member_id": member_id}).first()
    if found is None:
        return None
    member, shared = found
    if member.session_epoch != epoch or member.suspended:
        return None
    access.remember_shared(member, bool(shared))  # every page asks; one round trip answers
    return member


def _longest_sign_in() -> timedelta:
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)


@functools.cache
def _member_and_sharing() -> Select:
    """Built once: on every signed-in request, building the query cost more than running it."""
    return select(Member, access.shared_clause(Member.id)).where(
        Member.id == bindparam("member_id")
    )


PROFILE_FIELDS = ("name", "credit_name", "organisation", "role", "region", "bio")


def set_language(member: Member, code: str) -> None:
    """The language of the member's pages, emails and notifications from now on."""
    member.language = code
    db.session.flush()


def update_profile(member: Member, **fields: str) -> None:
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(member, name, fields[name].strip())
    db.session.flush()
    log.info("member %s updated their profile", member.id)
