"""The web: pages (one blueprint per area), forms, error pages, trusted hosts and security
headers. Views stay thin: read the request, call an operation, render a page."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# Ids are signed 64-bit integers in PostgreSQL and SQLite alike; a larger number handed to
# either raises in the driver, so it must never get past the URL or a form.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` that matches only numbers a database id can be: bigger ones are a 404."""

    def __init__(self, map, *args, max: int = MAX_ID, **kwargs) -> None:
        super().__init__(map, *args, max=min(max, MAX_ID), **kwargs)


def register(app: Flask) -> None:
    # Before any blueprint: a rule binds its converters when it is added to the map.
    app.url_map.converters["int"] = IdConverter
    # admin_jobs, admin_members, member_data and api_tokens add routes to the admin and auth
    # blueprints.
    from . import (  # noqa: F401
        admin,
        admin_jobs,
        admin_members,
        api_tokens,
        auth,
        community,
        kits,
        main,
        member_data,
        members,
        ops,
        requests,
        resources,
        search,
    )

    for module in (auth, main, members, ops, resources, search):
        app.register_blueprint(module.bp)
    for module in (requests, community, kits, admin):
        app.register_blueprint(module.bp)
    from . import feeds, follows, language

    for module in (feeds, follows, language):
        app.register_blueprint(module.bp)
        module.init_app(app)
    from . import api

    api.register(app)
    api_tokens.init_app(app)
    app.jinja_env.globals.update(site_name=app.config["SITE_NAME"])
    from . import cards, errors, helpers, hosts, security

    helpers.register(app)
    cards.init_app(app)
    errors.register(app)
    hosts.register(app)
    security.register(app)
