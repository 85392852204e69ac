"""Which language a page speaks, and in which language a member is written to.

A member's setting wins, then a visitor's choice (the footer's links set a cookie), then the
browser's Accept-Language, then English; ``?hl=`` names a language for one address (the
``hreflang`` alternates point there). Notifications and emails follow their reader's
language, not the language of whoever caused them.
"""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Member, Notification, OutboxEmail, StoredFile

from .fixtures.api import Script, make_token
from .fixtures.exchange import member_id, page, share_txt
from .fixtures.members import Visitor


def html_lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)">', page).group(1)


def test_the_browser_language_then_the_choice_made_in_the_footer(app, new_visitor):
    visitor = new_visitor()
    page = visitor.client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).text
    assert html_lang(page) == "fr" and "Partager une ressource" in page
    assert 'hreflang="es" href="http://localhost/?hl=es"' in page
    assert 'hreflang="x-default" href="http://localhost/"' in page

    switched = visitor.client.get("/language/es?next=/requests")
    assert switched.headers["Location"] == "/requests"
    page = visitor.client.get("/requests", headers={"Accept-Language": "fr"}).text
    assert html_lang(page) == "es" and "Solicitudes" in page, "the choice beats the browser"
    assert html_lang(visitor.client.get("/?hl=en").text) == "en"
    assert visitor.client.get("/language/de").status_code == 404


def test_a_members_setting_follows_them_and_their_notifications_are_in_it(app, new_visitor):
    giver, taker = new_visitor(), new_visitor()
    giver.register()
    giver.client.get("/language/fr")
    resource_id = giver.share_id()
    taker.register()
    assert taker.client.post(f"/resources/{resource_id}/files/1").status_code == 200
    thanked = taker.client.post(
        f"/resources/{resource_id}/thanks", data={"note": "Used it with a group of ten."}
    )
    assert thanked.status_code == 302

    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == giver.email))
        assert member.language == "fr"
        notice = db.session.scalar(select(Notification.message))
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.key.startswith("email:")))
    assert notice.startswith(f"{taker.name} vous remercie pour")
    assert email.body.startswith(f"Bonjour {giver.name},")
    fresh_browser = new_visitor()
    fresh_browser.login(email=giver.email)
    assert html_lang(fresh_browser.client.get("/").text) == "fr", "the setting, not a cookie"


def test_dates_numbers_and_plurals_are_written_the_language_s_way(app, member):
    resource_id = member.share_id()
    member.client.get("/language/es")
    page = member.client.get(f"/resources/{resource_id}").text
    assert re.search(r"Compartido por .+ el \d+ de \w+ de \d{4}", page)
    assert "0</strong> miembros lo han descargado" in page
    assert re.search(r"\d+,\d KB", page), "a decimal comma"


def test_a_resource_s_language_and_the_token_page_are_translated_but_the_api_is_not(app, member):
    member.client.get("/language/fr")
    resource_id = member.share_id(licence="free-with-credit", language="fr")
    assert "en français</span>" in member.client.get(f"/resources/{resource_id}").text
    form = member.client.get(f"/resources/{resource_id}/edit").text
    assert "Détectée d’après son texte" in form and ">Français</option>" in form
    assert "Jetons d’API" in member.client.get("/account/tokens").text

    script = Script(app, make_token(member))
    french = {"Accept-Language": "fr"}
    shown = script.get(f"/resources/{resource_id}", headers=french).json
    assert shown["licence_label"] == "Free to use with credit"
    refused = script.post("/resources", data={"title": ""}, headers=french).json
    assert "Please give your resource a title." in str(refused)


def test_reasons_stored_in_english_are_shown_in_the_reader_s_language(app, member):
    """Rows keep the English (older ones too); the page words them for whoever reads it."""
    resource_id = share_txt(member, "Values cards")
    with app.app_context():
        stored = db.session.scalar(select(StoredFile).where(StoredFile.resource_id == resource_id))
        stored.text_status, stored.text_reason = StoredFile.UNSEARCHABLE, "it is password-protected"
        stored.credit_on_page, stored.page_credit_note = False, "the file is password-protected"
        file_id, name = stored.id, stored.original_name
        db.session.commit()
    shown = page(member, f"/resources/{resource_id}?hl=fr")
    assert "recherche\u202f: il est protégé par un mot de passe." in shown
    assert "(pas sur la page\u202f: le fichier est protégé par un mot de passe)" in shown
    shown = page(member, f"/resources/{resource_id}?hl=es")
    assert "búsqueda: está protegido con contraseña." in shown

    with app.app_context():  # reading stopped on it, noted before pages worded the sentence
        stored = db.session.get(StoredFile, file_id)
        stored.pending = True
        stored.resource.processing_note = f"We could not read “{name}”: Boom"
        db.session.commit()
    shown = html.unescape(page(member, f"/resources/{resource_id}?hl=fr"))
    assert f"Nous n’avons pas pu lire «\u202f{name}\u202f»\u202f: Boom</p>" in shown


def test_the_impact_page_names_months_in_the_reader_s_language(app, member):
    shown = page(member, f"/members/{member_id(app, member)}/impact?hl=fr")
    assert re.search(r'<th scope="row">déc\. \d{4}</th>', shown)
    assert ">déc.</text>" in shown and "Dec" not in shown
    shown = page(member, f"/members/{member_id(app, member)}/impact?hl=es")
    assert re.search(r'<th scope="row">dic \d{4}</th>', shown)


def test_a_feed_speaks_its_reader_s_language_and_pages_link_theirs(app, member):
    share_txt(member, "Values cards")
    reader = Visitor(app.test_client())
    french = reader.client.get("/feeds/resources.atom", headers={"Accept-Language": "fr"}).text
    assert "<title>Toolkit Exchange\u202f: Nouvelles ressources</title>" in french
    assert 'xml:lang="fr"' in french
    spanish = reader.client.get("/feeds/resources.atom?hl=es").text
    assert "<title>Toolkit Exchange: Nuevos recursos</title>" in spanish
    assert 'href="http://localhost/feeds/resources.atom?hl=es" rel="self"' in spanish
    home = reader.client.get("/?hl=fr").text
    assert 'title="Nouvelles ressources" href="/feeds/resources.atom?hl=fr"' in home
