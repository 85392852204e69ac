"""Requests must name this site's host: ``SITE_URL``'s, or one in ``EXCHANGE_TRUSTED_HOSTS``.

Flask checks the Host header (``X-Forwarded-Host`` behind a configured proxy) against
``TRUSTED_HOSTS``, which :mod:`exchange.config` derives from those settings, and refuses
any other with a 400. Links never come from the Host header anyway (see
:func:`exchange.notify.site_url`); refusing strange hosts is the second line.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import SecurityError


def refuse_unknown_host(_error: SecurityError) -> Response:
    """A plain answer: the site's own error page builds links, and with an unknown host
    Flask has nothing to build them from."""
    return Response(
        "This server does not answer for that host name.\n",
        status=400,
        mimetype="text/plain",
    )


def register(app: Flask) -> None:
    app.register_error_handler(SecurityError, refuse_unknown_host)
