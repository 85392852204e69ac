"""The API's own description: the OpenAPI 3.1 document, interactive docs that work offline
under the site's Content-Security-Policy, and a page for each kind of problem."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory

from .problems import KINDS

bp = Blueprint("api_docs", __name__)

# Swagger UI's files, served from the installed package: no CDN, nothing from elsewhere.
SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})
SWAGGER_MAX_AGE = 86_400

SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A personal access token (`tke_…`) made on the My account page.",
}


def spec_options() -> dict:
    return {
        "info": {
            "description": (
                "List, search, read, share, review and download career-guidance resources; "
                "find and keep collections and workshop kits; follow colleagues, topics and "
                "kits; use the Requests board; see the impact of your gifts; as a member does "
                "on the site: the same rules, the same credit and give-to-get. Errors are "
                "RFC 9457 problems (`type` is stable)."
            )
        },
        "security": [{"token": []}],
    }


@bp.route("/api/v1/openapi.json")
def openapi():
    return jsonify(current_app.extensions["exchange.api"].document())


@bp.route("/api/docs")
def docs():
    return render_template("api/docs.html")


@bp.route("/api/docs/assets/<name>")
def swagger_asset(name: str):
    if name not in SWAGGER_FILES:
        abort(404)
    return send_from_directory(SWAGGER_DIST, name, max_age=SWAGGER_MAX_AGE)


@bp.route("/api/problems/<slug>")
def problem_type(slug: str):
    """What a problem ``type`` means: its URI dereferences to this."""
    kind = KINDS.get(slug)
    if kind is None:
        abort(404)
    return jsonify(
        type=f"/api/problems/{slug}", title=kind.title, status=kind.status, description=kind.meaning
    )
