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


def register_form(client, name: str, email: str):
    """Submit the register form and return the page the visitor lands on."""
    response = client.post("/register", data={"name": name, "email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client.get(response.headers["Location"])


def test_email_addresses_are_unique_whatever_their_case(app, new_visitor):
    owner = new_visitor()
    owner.register(email="sam@example.org")
    links_before = owner.emailed_links()
    attempt = new_visitor()
    attempt.email = "SAM@Example.ORG"
    page = register_form(attempt.client, "Sam Again", "SAM@Example.ORG").get_data(as_text=True)
    assert "We’ve sent a link to <strong>sam@example.org</strong>" in page
    assert len(members(app)) == 1
    new_links = owner.emailed_links()[len(links_before) :]
    assert len(new_links) == 1 and "/password/reset/" in new_links[0], (
        "the address's owner is told, with a way back in"
    )
    assert attempt.client.get("/account").status_code == 302, "nobody is signed in"


def test_registering_a_taken_address_looks_exactly_like_a_new_one(app, new_visitor):
    """Nobody can find out whether an address has an account by trying to register it."""
    new_visitor().register(email="taken@example.org")
    taken = register_form(app.test_client(), "X", "taken@example.org").get_data(as_text=True)
    fresh = register_form(app.test_client(), "X", "fresh@example.org").get_data(as_text=True)
    assert taken.replace("taken@", "fresh@") == fresh


def test_a_new_member_logs_in_only_after_confirming_their_address(app, new_visitor):
    visitor = new_visitor()
    visitor.email = "new@example.org"
    register_form(visitor.client, "New Member", visitor.email)
    assert visitor.client.get("/account").status_code == 302
    response = visitor.login()
    assert response.headers["Location"] == "/check-your-email", "a fresh link is sent"
    assert visitor.follow_emailed_link().status_code == 302
    assert visitor.client.get("/account").status_code == 200
    assert app.test_client().get("/confirm/forged-token").status_code == 302


def test_forgotten_password_answers_the_same_for_unknown_addresses(app, member):
    def ask(email: str) -> str:
        client = app.test_client()
        response = client.post("/password/forgot", data={"email": email})
        assert response.status_code == 302
        return client.get(response.headers["Location"]).get_data(as_text=True)

    known = ask(member.email)
    unknown = ask("nobody@example.org")
    assert known.replace(member.email, "nobody@example.org") == unknown
    assert "/password/reset/" in member.emailed_links()[-1]


def test_a_reset_link_sets_a_new_password_once(app, member):
    member.logout()
    app.test_client().post("/password/forgot", data={"email": member.email})
    link = member.emailed_links()[-1]
    response = member.client.post(link, data={"new_password": "a brand new passphrase"})
    assert response.status_code == 302
    assert member.client.get("/account").status_code == 200
    member.logout()
    assert member.login(password="a brand new passphrase").status_code == 302
    reused = app.test_client().post(link, data={"new_password": "someone else's try"})
    assert reused.headers["Location"] == "/password/forgot", "the link worked only once"


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
