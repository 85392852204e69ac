"""Who is calling: a personal access token in ``Authorization: Bearer``, and nothing else.

The API never reads the session cookie, so a page's cookie cannot act on the API and no
request needs a CSRF token. The token's member becomes ``current_user`` for the request
(Flask-Login's per-request slot, without touching the session), so the access rules and
operations the pages use see the same member they would on the site.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from ... import accounts, transactions
from ...extensions import db
from ...models import ApiToken, Member
from .problems import fail

_NOT_READ = object()


def current_token() -> ApiToken | None:
    """The working token this request carries, read once per request."""
    token = g.get("api_token", _NOT_READ)
    if token is _NOT_READ:
        token = g.api_token = _read_token()
    return token


def _read_token() -> ApiToken | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = accounts.token_for(secret.strip())
    if token is not None and token in db.session.dirty:
        transactions.commit()  # last used: bookkeeping of its own, before the view's work
    return token


def authenticate() -> None:
    """Every API operation needs a working token; the cookie is ignored either way."""
    g._login_user = current_app.login_manager.anonymous_user()
    token = current_token()
    if token is None:
        fail("unauthorized", _why_unauthorized(), headers=_challenge())
    g._login_user = token.member


def _why_unauthorized() -> str:
    if "Authorization" not in request.headers:
        return "Send a personal access token: `Authorization: Bearer tke_…`."
    return "That token is unknown, revoked or expired, or its member can no longer sign in."


def _challenge() -> dict[str, str]:
    if "Authorization" not in request.headers:
        return {"WWW-Authenticate": 'Bearer realm="api"'}
    return {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


def caller() -> Member:
    """The member the token belongs to (only inside an authenticated operation)."""
    return g._login_user


def needs_write(view: Callable) -> Callable:
    """Operations that change anything need a token with the ``write`` scope."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_token()
        if token is None or not token.allows(ApiToken.WRITE):
            fail("insufficient-scope", headers={"WWW-Authenticate": _scope_challenge()})
        return view(*args, **kwargs)

    return checked


def _scope_challenge() -> str:
    return 'Bearer realm="api", error="insufficient_scope", scope="write"'


def rate_key() -> str:
    """API limits count per member (all their tokens together); without one, per address."""
    token = current_token()
    return f"api-member:{token.member_id}" if token is not None else get_remote_address()
