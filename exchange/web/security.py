"""Headers every response carries, error pages included.

The policy is strict because members upload files: nothing from a document is ever
rendered as markup on our origin, and the site itself needs no third-party resources.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",  # blob: the share form's own previews of picked pictures
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


# Responses that say themselves how long a browser may keep them: the site's own files, and a
# file's first-page picture (``private``: only the browser that was allowed to see it).
KEEPS_ITS_OWN_CACHING = frozenset({"static", "resources.preview"})


def add_security_headers(response: Response) -> Response:
    """Set the browser protections; private pages are never stored by caches."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint not in KEEPS_ITS_OWN_CACHING and (
        not current_user.is_anonymous or "Cache-Control" not in headers
    ):
        # Pages may show a member's own data; no shared or browser cache keeps them.
        # (is_anonymous, unlike is_authenticated, reads no column a commit has expired.)
        headers["Cache-Control"] = "no-store"
    return response


class SecureCookiesOnHttps:
    """WSGI middleware: mark every cookie ``Secure`` when the request came over HTTPS.

    It sits outside Flask so it sees the session cookie (written after ``after_request``
    handlers run) and Flask-Login's remember-me cookie alike. Deciding per request keeps
    plain-HTTP development and loopback benchmarks working, while a deployment behind TLS
    (with ``EXCHANGE_PROXY_FIX`` so the scheme is known) never sends a cookie in clear.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start_secure(status, headers, exc_info=None):
            return start_response(
                status, [_secure(name, value) for name, value in headers], exc_info
            )

        return self.wsgi_app(environ, start_secure)


def _secure(name: str, value: str) -> tuple[str, str]:
    if name.lower() == "set-cookie" and "; secure" not in value.lower():
        return name, f"{value}; Secure"
    return name, value


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.wsgi_app = SecureCookiesOnHttps(app.wsgi_app)
