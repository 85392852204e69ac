"""The open API (``/api/v1``): JSON over HTTP for career services' own systems.

It is a face of the site beside the pages: its views call the same listings, operations,
access rules and counts, and differ only in speaking JSON and reading a token instead of a
cookie. The OpenAPI 3.1 document is generated from the views and their marshmallow schemas
by flask-smorest (see docs/architecture.md for why that library).
"""

from __future__ import annotations

import http
import threading

from flask import Flask
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from . import problems
from .schemas import Problem

VERSION = "1.0.0"
PREFIX = "/api/v1"


class ExchangeApi(Api):
    """flask-smorest, told that errors are RFC 9457 problems and that it must leave the
    site's own error pages alone (it would otherwise answer every 404 in JSON), and that
    writes the OpenAPI document when it is first asked for (:meth:`document`)."""

    ERROR_SCHEMA = Problem

    def __init__(self, app: Flask) -> None:
        self._undocumented: list[tuple[Blueprint, str, list | None]] = []
        self._documenting = threading.Lock()
        self._responses_described = False
        super().__init__(app)

    def register_blueprint(
        self, blp: Blueprint, *, parameters: list | None = None, **options
    ) -> None:
        """The blueprint's routes now, its pages of the document later. Describing every
        operation from its schemas is most of the cost of making the app, which each web
        worker, job and test pays, while the document is read by few of them."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def document(self) -> dict:
        """The OpenAPI document, every blueprint described (once per process)."""
        with self._documenting:
            if not self._responses_described:
                self._describe_responses()
                self._responses_described = True
            while self._undocumented:
                blp, name, parameters = self._undocumented.pop(0)
                blp.register_views_in_doc(
                    self, self._app, self.spec, name=name, parameters=parameters
                )
                self.spec.tag({"name": name, "description": blp.description})
        return self.spec.to_dict()

    def _register_error_handlers(self) -> None:
        """The site's handlers answer problems on /api paths (problems.or_page)."""

    def _register_responses(self) -> None:
        """Described with the operations, in :meth:`document`."""

    def _describe_responses(self) -> None:
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
