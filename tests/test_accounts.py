"""Registering, logging in and out, and the profile."""

from __future__ import annotations

from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Member

from .fixtures.members import PASSWORD


def members(app) -> list[Member]:
    with app.app_context():
        return list(db.session.scalars(select(Member)))


def test_register_signs_the_new_member_in(app, new_visitor):
    visitor = new_visitor()
    response = visitor.register(name="Dale Briers", email="Dale@Example.org")
    assert response.status_code == 302
    page = visitor.client.get("/account").get_data(as_text=True)
    assert "Dale Briers" in page
    [member] = members(app)
    assert member.email == "dale@example.org"


def test_passwords_are_stored_as_argon2_hashes(app, member):
    [stored] = members(app)
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_email_addresses_are_unique_whatever_their_case(app, new_visitor):
    new_visitor().register(email="sam@example.org")
    again = new_visitor()
    response = again.register(name="Sam Again", email="SAM@Example.ORG")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "An account with this email already exists" in page
    assert 'value="Sam Again"' in page, "what was typed is shown again"
    assert len(members(app)) == 1


def test_registration_problems_are_named_beside_the_fields(new_visitor):
    response = new_visitor().register(name="", email="not-an-email", password="short")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please tell us your name." in page
    assert "That doesn’t look like an email address." in page
    assert "Please use at least 10 characters." in page
    assert 'value="not-an-email"' in page


def test_login_and_logout(member):
    member.logout()
    assert member.client.get("/account").status_code == 302
    response = member.login()
    assert response.status_code == 302
    assert member.client.get("/account").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(member, new_visitor):
    member.logout()
    wrong_password = member.login(password="not the password at all")
    unknown_email = new_visitor().login(email="nobody@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 422
    message = "That email and password don’t match an account."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)


def test_login_keeps_the_visitor_on_this_site(member):
    member.logout()
    response = member.client.post(
        "/login?next=//evil.example/steal", data={"email": member.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_page_the_member_wanted(member):
    member.logout()
    response = member.client.post(
        "/login?next=/resources/new", data={"email": member.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/resources/new"


def test_logout_ends_every_session_already_issued(app, member):
    stolen = app.test_client()
    cookie = member.client.get_cookie("session")
    stolen.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert stolen.get("/account").status_code == 200, "the copied cookie worked before logout"
    member.logout()
    assert stolen.get("/account").status_code == 302


def test_profile_edit_is_saved_and_prefills_the_credit(member):
    response = member.client.post(
        "/account",
        data={
            "name": "Dale Briers",
            "credit_name": "",
            "organisation": "Collaborative Career Conversations",
            "role": "Career counsellor",
            "region": "Ontario, Canada",
            "bio": "Twenty years of helping people find work they like.",
        },
    )
    assert response.status_code == 302
    form = member.client.get("/resources/new").get_data(as_text=True)
    assert 'value="Dale Briers (Collaborative Career Conversations)"' in form


def test_changing_the_password_signs_out_other_browsers(app, member):
    other = app.test_client()
    other.post("/login", data={"email": member.email, "password": PASSWORD})
    assert other.get("/account").status_code == 200
    response = member.client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert member.client.get("/account").status_code == 200, "this browser stays signed in"
    assert other.get("/account").status_code == 302
    member.logout()
    assert member.login(password="a brand new passphrase").status_code == 302
