"""Personal access tokens: how a member's own script signs in to the API.

A token is ``tke_`` and 43 characters of ``secrets.token_urlsafe`` (256 random bits), shown
once when made. Only its SHA-256 is stored: the secret has enough entropy that a fast hash
is as safe as a slow one, and lets every API request find its token with one indexed read.
The prefix makes a leaked token recognisable to secret scanners and to people.

A token works while it is not revoked, not expired, and its member may still sign in:
suspending a member stops their tokens at once; deleting the account revokes them
(:func:`revoke_all`, called by :func:`exchange.accounts.close_account`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..models import ApiToken, Member, utcnow

PREFIX = "tke_"
MAX_TOKENS = 20  # live tokens a member may hold at once
# ``last_used_at`` is written at most this often, so a busy script costs no write per call.
TOUCH_EVERY = timedelta(minutes=1)


class TokenRefused(ValueError):
    """A token cannot be made as asked; the message says why, for the account page."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to the member once, never stored


def _lookup(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    member: Member, name: str, scopes: Sequence[str], expires_at: datetime | None = None
) -> NewToken:
    """Make a token for ``member``; flushes, the caller commits."""
    wanted = [s for s in ApiToken.SCOPES if s in scopes]
    if ApiToken.READ not in wanted:
        raise TokenRefused(_("A token needs at least the read scope."))
    if len(live_tokens_of(member)) >= MAX_TOKENS:
        raise TokenRefused(
            _("You have %(count)s tokens already: revoke one first.", count=MAX_TOKENS)
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        member_id=member.id,
        name=name.strip()[:80],
        lookup=_lookup(secret),
        hint=secret[:10],
        scopes=" ".join(wanted),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def live_tokens_of(member: Member) -> list[ApiToken]:
    """The member's tokens that are not revoked, newest first (expired ones included, so
    the account page can say they expired)."""
    query = (
        select(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def revoke_token(member: Member, token_id: int) -> bool:
    """Revoke one of ``member``'s own tokens; False if they have no such live token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.member_id != member.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    return True


def revoke_all(member: Member) -> None:
    """Every live token of the member stops working (their account is being deleted)."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def token_for(secret: str) -> ApiToken | None:
    """The working token this secret names, with its member; None for any other secret.

    Marks it used (at most once a minute). The caller commits, or the request's end does.
    """
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.lookup == _lookup(secret)))
    if token is None or not _works(token):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
    return token


def _works(token: ApiToken) -> bool:
    if token.revoked_at is not None:
        return False
    if token.expires_at is not None and token.expires_at <= utcnow():
        return False
    return token.member.is_active and token.member.confirmed_at is not None
