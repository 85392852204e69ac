"""Blueprints. Views stay thin: read the request, call an operation, render a page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import admin, auth, community, main, members, ops, requests, resources, search

    for module in (auth, main, members, ops, resources, search):
        app.register_blueprint(module.bp)
    for module in (requests, community, admin):
        app.register_blueprint(module.bp)
    app.jinja_env.globals.update(site_name=app.config["SITE_NAME"])
    from . import cards, helpers

    helpers.register(app)
    cards.init_app(app)
