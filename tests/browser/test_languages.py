"""A counsellor switches the site to French in Chromium, then shares, searches and downloads
without meeting a word of English (nor an English month, nor a reason stored in English for
a file whose words can't be read); then Spanish, for a look at the same pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.corpus import corpus_file

from .conftest import screenshot
from .people import Upload, register, text_upload

pytestmark = pytest.mark.browser

# English words the interface uses everywhere, the words of reasons stored in English, and
# English months; none may show on a French or Spanish page.
ENGLISH = re.compile(
    r"\b(Share|Search|Download|Log in|Log out|Resources?|Browse|Requests|Thanks|Upload"
    r"|Files|Title|Synopsis|Tags|Audience|Saved|Remove|My toolkit|What’s new"
    r"|searchable|password|protected|could not|scan|not on the page"
    r"|January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b"
)
FRENCH_DATE = re.compile(
    r"le \d+ (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
    r"|décembre) \d{4}"
)
TITLE = "Grille de préparation à l’entretien"
FILE = text_upload(
    "grille-entretien.txt", "Avant l’entretien : relire l’annonce, préparer trois exemples."
)


def assert_no_english(page: Page, where: str) -> None:
    page.wait_for_load_state("load")
    shown = page.locator("body").inner_text()
    found = sorted(set(ENGLISH.findall(shown)))
    assert not found, f"{where} ({page.url}) shows English: {found}"


def choose_language(page: Page, name: str, code: str) -> None:
    page.get_by_role("navigation", name=re.compile("Language|Langue|Idioma")).get_by_role(
        "link", name=name
    ).click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def locked_pdf() -> Upload:
    """A PDF that opens only with its password: shared, but its words can't be read."""
    path = corpus_file("hostile/sample-files-libreoffice-writer-password.pdf")
    return Upload("grille-protegee.pdf", "application/pdf", path.read_bytes())


def share_in_french(page: Page) -> None:
    page.goto("/resources/new")
    assert_no_english(page, "the share form")
    files = [FILE.as_payload(), locked_pdf().as_payload()]
    page.get_by_label("Fichiers", exact=True).set_input_files(files)
    expect(page.locator("[data-file-list]")).to_contain_text("Fichier texte")
    page.get_by_label("Titre", exact=True).fill(TITLE)
    page.get_by_label("Résumé", exact=True).fill("Une fiche pour préparer un entretien d’embauche.")
    page.get_by_label("Comment je l’utilise", exact=True).fill(
        "Je la remets en deuxième séance et nous la relisons ensemble avant l’entretien."
    )
    page.get_by_label("Type", exact=True).select_option(label="Fiche d’exercice")
    page.get_by_label("Public", exact=True).select_option(label="Personnes en recherche d’emploi")
    page.get_by_label("Mots-clés", exact=True).fill("entretien, préparation")
    page.get_by_label("Me créditer sous le nom", exact=True).fill("Camille Martin (Cap Emploi)")
    page.get_by_label("Licence", exact=True).select_option(label="CC BY 4.0")
    page.get_by_label("Ouvert à tous les membres connectés", exact=True).check()
    page.get_by_label("Je confirme que ces fichiers ne contiennent aucune information").check()
    page.get_by_role("button", name="Partager", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE, timeout=60_000)
    expect(page.get_by_role("status")).to_contain_text("Merci pour votre partage")


def test_french_then_spanish_share_search_and_download(open_page):
    page = open_page()
    register(page, name="Camille Martin")
    choose_language(page, "Français", "fr")
    assert_no_english(page, "the home page")

    share_in_french(page)
    assert_no_english(page, "the new resource's page")

    page.goto("/")
    page.get_by_role("search").get_by_label("Rechercher").fill("entretien")
    page.get_by_role("search").get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("résultat"))).to_be_visible()
    assert_no_english(page, "the search results")
    screenshot(page, "search-in-french")
    page.get_by_role("link", name=TITLE).click()

    expect(page.locator("main")).to_contain_text("il est protégé par un mot de passe")
    expect(page.locator(".byline").first).to_contain_text(FRENCH_DATE)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Télécharger {FILE.name}").click()
    assert "grille-entretien" in download.value.suggested_filename
    assert_no_english(page, "the page after the download")

    resource_page = page.url
    page.goto("/account/exchange")
    page.get_by_role("link", name="L’impact de mes partages", exact=True).click()
    months = " ".join(page.locator(".chart-label").all_text_contents())
    assert "déc." in months and "juin" in months, months  # the last twelve months
    assert_no_english(page, "the impact page")

    page.goto(resource_page)
    choose_language(page, "Español", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_no_english(page, "the resource page in Spanish")
    page.goto("/search?q=entretien")
    expect(page.get_by_role("heading", level=2, name=re.compile("resultado"))).to_be_visible()
    assert_no_english(page, "the Spanish search results")
