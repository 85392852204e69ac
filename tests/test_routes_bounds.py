"""Numbers a database cannot hold (ids of 2**63 and beyond) are "not found", never a 500.

PostgreSQL and SQLite store ids as signed 64-bit integers; handing either a larger Python
int raises deep in the driver. Every numeric route, query argument and form field is walked
here, for a visitor, a member and an administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.routing import Rule

from .fixtures.exchange import make_admin
from .fixtures.members import SHARE_DEFAULTS, Visitor

TOO_BIG = [str(2**63), str(2**64), "9" * 40]
OUT_OF_RANGE = [*TOO_BIG, "0"]
INT_ARGUMENT = re.compile(r"<int:(\w+)>")
# Every form field and query argument the views read as a number.
NUMERIC_FIELDS = ("page", "answers", "resource", "answer", "remove_files", "form_id")
SIGNS_OUT = {"auth.logout"}  # the walk must stay signed in


def int_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if INT_ARGUMENT.search(rule.rule)]


def paths(rule: Rule, value: str) -> Iterator[str]:
    """The rule with ``value`` in each int argument in turn (the others a real id, 1), and in
    all of them at once."""
    names = INT_ARGUMENT.findall(rule.rule)
    for bad in names:
        yield INT_ARGUMENT.sub(lambda m, bad=bad: value if m.group(1) == bad else "1", rule.rule)
    yield INT_ARGUMENT.sub(value, rule.rule)


@pytest.fixture
def browsers(app: Flask) -> dict[str, Visitor]:
    """A visitor, the member who shared resource 1 (file 1), and an administrator."""
    giver, admin = Visitor(app.test_client()), Visitor(app.test_client())
    giver.register()
    giver.share_id()
    admin.register()
    make_admin(app, admin)
    return {"visitor": Visitor(app.test_client()), "member": giver, "admin": admin}


def test_the_walk_covers_every_kind_of_numeric_route(app):
    rules = {rule.rule for rule in int_rules(app)}
    assert "/resources/<int:resource_id>/files/<int:file_id>" in rules
    assert "/admin/members/<int:member_id>/suspend" in rules
    assert "/notifications/<int:notification_id>" in rules
    assert len(rules) >= 20


@pytest.mark.parametrize("value", TOO_BIG)
def test_an_id_too_big_for_the_database_is_not_found_on_every_route(app, browsers, value):
    for who, browser in browsers.items():
        for rule in int_rules(app):
            for path in paths(rule, value):
                for method in sorted(rule.methods & {"GET", "POST"}):
                    response = browser.client.open(path, method=method)
                    assert response.status_code == 404, (who, method, path)


def test_id_zero_is_never_a_server_error(app, browsers):
    for who, browser in browsers.items():
        for rule in int_rules(app):
            for path in paths(rule, "0"):
                for method in sorted(rule.methods & {"GET", "POST"}):
                    response = browser.client.open(path, method=method)
                    assert response.status_code < 500, (who, method, path)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_numbers_in_query_arguments_and_form_fields_are_never_a_server_error(app, browsers, value):
    """Every page, given every numeric argument out of range, in the query and the form."""
    fields = dict.fromkeys(NUMERIC_FIELDS, value)
    for who, browser in browsers.items():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in {"static", *SIGNS_OUT} or rule.arguments - {
                *INT_ARGUMENT.findall(rule.rule)
            }:
                continue
            path = INT_ARGUMENT.sub("1", rule.rule)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = browser.client.open(
                    path, method=method, query_string=fields, data=fields
                )
                assert response.status_code < 500, (who, method, path)


def test_an_edit_posted_without_its_tags_field_keeps_the_tags(app, member):
    """Found by the walk above: the edit form read the resource's tag rows as its text."""
    resource_id = member.share_id()
    fields = {k: v for k, v in SHARE_DEFAULTS.items() if k != "tags"} | {"title": "Renamed"}
    response = member.client.post(f"/resources/{resource_id}/edit", data=fields)
    assert response.status_code == 302
    page = member.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    assert "Renamed" in page and "networking" in page
