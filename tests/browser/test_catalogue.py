"""Browse like a catalogue, search, a resource's side panel and the share form, at a wide
desktop (1280×900) and a phone (390×844): one journey that checks what a counsellor sees,
runs axe-core on each page and keeps a screenshot of each for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible, screenshot
from .people import ShareDetails, fill_share_form, pdf_upload, register

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def box(locator) -> dict:
    return locator.bounding_box()


def look(page: Page, name: str) -> None:
    """axe finds nothing serious, nothing scrolls sideways, and a screenshot is kept."""
    page.wait_for_load_state("load")
    screenshot(page, name)
    assert_accessible(page, name)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


def share_with_tag_chips(page: Page) -> str:
    """The share form in two columns, tags typed as chips, one removed; returns its URL."""
    page.goto("/resources/new")
    files = page.locator(".share-files .group")
    details = page.locator(".share-details .group").first
    assert box(files)["x"] + box(files)["width"] <= box(details)["x"], "files beside details"
    page.get_by_label("Files", exact=True).set_input_files(
        pdf_upload("keffiyeh.pdf", "Keffiyeh knitting", "Vegan wool only.").as_payload()
    )
    details_text = ShareDetails(
        title="Keffiyeh knitting circle",
        synopsis="A vegan wool warm-up, then the group knits and talks about their week.",
        tags="keffiyeh, craft, mistake",
    )
    fill_share_form(page, details_text)
    tags, chips = page.get_by_label("Tags", exact=True), page.locator(".tag-chip > span")
    expect(chips).to_have_text(["keffiyeh", "craft", "mistake"])  # the last one on leaving
    page.get_by_role("button", name="Remove tag mistake").click()
    expect(tags).to_be_focused()
    tags.fill("networ")
    expect(page.get_by_role("button", name="networking", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="bereavement")).to_be_hidden()
    page.get_by_role("button", name="networking", exact=True).click()
    expect(chips).to_have_text(["keffiyeh", "craft", "networking"])
    assert page.locator("datalist").count() == 0, "no drop-down arrow on a tag field"
    look(page, "catalogue-share-form-1280")
    page.get_by_role("button", name="Share it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(details_text.title, timeout=30_000)
    expect(page.locator(".resource-main > .tags .tag")).to_have_text(
        ["craft", "keffiyeh", "networking"]
    )
    return page.url


def check_side_panel(page: Page) -> None:
    deed = page.locator(".resource-side").get_by_role("link", name=re.compile("CC BY 4.0"))
    expect(deed).to_have_attribute("href", "https://creativecommons.org/licenses/by/4.0/")
    assert box(deed)["height"] < 40, "the licence badge stays on one line"
    expect(page.locator("#credit-line")).to_contain_text("“Keffiyeh knitting circle” by")
    assert box(page.locator(".resource-side"))["width"] >= 340


def test_browse_search_resource_and_share_form_at_desktop_and_phone_sizes(open_page):
    page = open_page(viewport=WIDE)
    register(page, name="Dale Briers")
    resource_url = share_with_tag_chips(page)
    check_side_panel(page)
    look(page, "catalogue-resource-1280")

    page.goto("/resources")
    card = page.locator(".resource-card", has_text="Keffiyeh knitting circle")
    expect(card.locator(".card-thumb img")).to_have_js_property("complete", True)
    assert card.locator(".card-thumb img").evaluate("img => img.naturalWidth") > 100
    expect(card.locator(".licence-badge")).to_have_text(re.compile("CC BY 4.0"))
    expect(card.locator(".card-counts")).to_contain_text("0 members downloaded")
    expect(page.get_by_role("button", name="Sort")).to_have_count(0)
    look(page, "catalogue-browse-1280")
    page.get_by_label("Sort by").select_option(label="Most thanked")
    expect(page).to_have_url(re.compile(r"/resources\?sort=thanks$"))
    # With the keyboard, arrows only move the choice; Enter applies it.
    page.wait_for_load_state("load")  # the page's script is in
    page.get_by_label("Sort by").focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(300)
    expect(page).to_have_url(re.compile(r"/resources\?sort=thanks$"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/resources\?sort=(?!thanks)\w+$"))

    page.goto("/search?q=keffiyeh+vegan")
    result = page.locator(".results article").first
    expect(result.locator("mark")).to_have_text(["Keffiyeh", "vegan"])  # title, synopsis
    expect(page.get_by_role("heading", name="Narrow your search")).to_be_visible()
    look(page, "catalogue-search-1280")
    page.goto("/search?q=zzyzx+quarks")
    expect(page.get_by_text("Nothing matched")).to_be_visible()
    expect(page.get_by_role("heading", name="Narrow your search")).to_have_count(0)

    phone = open_page(viewport=PHONE, signed_in=page.context.storage_state())
    for name, path in (
        ("browse", "/resources"),
        ("search", "/search?q=keffiyeh+vegan"),
        ("resource", resource_url),
        ("share-form", "/resources/new"),
    ):
        phone.goto(path)
        look(phone, f"catalogue-{name}-390")
    phone.goto("/resources")
    cards = phone.locator(".catalogue-cards .resource-card")
    first, thumb = box(cards.first), box(cards.first.locator(".card-thumb"))
    assert thumb["width"] < first["width"] / 3, "a list on phones: the picture beside the text"
    phone.goto("/resources/new")
    files, details = box(phone.locator(".share-files")), box(phone.locator(".share-details"))
    assert files["y"] + files["height"] <= details["y"], "one column on phones"
