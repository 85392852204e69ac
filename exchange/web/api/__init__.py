"""The open API (``/api/v1``): JSON over HTTP for career services' own systems.

It is a face of the site beside the pages: its views call the same listings, operations,
access rules and counts, and differ only in speaking JSON and reading a token instead of a
cookie. The OpenAPI 3.1 document is generated from the views and their marshmallow schemas
by flask-smorest (see docs/architecture.md for why that library).
"""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from . import problems
from .schemas import Problem

VERSION = "1.0.0"
PREFIX = "/api/v1"


class ExchangeApi(Api):
    """flask-smorest, told that errors are RFC 9457 problems and that it must leave the
    site's own error pages alone (it would otherwise answer every 404 in JSON)."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        """The site's handlers answer problems on /api paths (problems.or_page)."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status >= 400:
                self._error_response(status.name, status.phrase)
        self._error_response("DEFAULT_ERROR", "A problem (RFC 9457)")

    def _error_response(self, name: str, description: str) -> None:
        response = {"description": description, "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.CONTENT_TYPE)
        self.spec.components.response(name, response, lazy=True)


def register(app: Flask) -> None:
    from . import community, docs, follows, kits, me, resources

    app.config.update(
        API_TITLE=f"{app.config['SITE_NAME']} API",
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.1.0",
        API_SPEC_OPTIONS=docs.spec_options(),
    )
    api = ExchangeApi(app)
    api.spec.components.security_scheme("token", docs.SECURITY_SCHEME)
    for module in (resources, community, me, kits, follows):
        api.register_blueprint(module.bp, url_prefix=PREFIX)
    app.register_blueprint(docs.bp)
    app.extensions["exchange.api"] = api
