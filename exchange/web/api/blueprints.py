"""What every API blueprint does around its operations: authenticate by token, count
against the API's rate limit and say how much of it is left, and answer conditional reads.

The API asks for no CSRF token: it never reads the session cookie (:mod:`.auth`), so a
forged cross-site request carries nothing it would act on, and a script has no page to
read a token from."""

from __future__ import annotations

import math
import time

from flask import Response, current_app, request
from flask_smorest import Blueprint

from ...extensions import csrf, limiter
from . import auth

# Per member (all their tokens together), or per address for calls without a token; shared
# between workers and nodes through the site's limiter storage (Redis when configured).
DEFAULT_LIMIT = "300 per minute"


def api_blueprint(name: str, description: str) -> Blueprint:
    bp = Blueprint(name, __name__, description=description)
    bp.before_request(auth.authenticate)
    bp.after_request(rate_limit_headers)
    bp.after_request(conditional)
    limiter.limit(api_limit, key_func=auth.rate_key)(bp)
    csrf.exempt(bp)
    return bp


def conditional(response: Response) -> Response:
    """Reads carry an ``ETag`` (a hash of the body); ``If-None-Match`` with it gives 304."""
    if request.method in ("GET", "HEAD") and response.status_code == 200 and response.is_json:
        response.add_etag()
        response.make_conditional(request)
    return response


def api_limit() -> str:
    """``API_RATE_LIMIT`` in the app's settings, else :data:`DEFAULT_LIMIT`."""
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_LIMIT)


def rate_limit_headers(response: Response) -> Response:
    """The IETF ``RateLimit-*`` fields, from the limit that is closest to running out."""
    current = limiter.current_limit
    if current is not None:
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(max(0, math.ceil(current.reset_at - time.time())))
    return response
