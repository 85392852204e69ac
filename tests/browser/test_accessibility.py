"""Every main page, at desktop and phone sizes: axe-core finds nothing serious, nothing
scrolls sideways, and a screenshot is saved under tests/artifacts/screenshots/ to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, assert_accessible, screenshot
from .people import (
    ShareDetails,
    docx_upload,
    download_control,
    pdf_upload,
    png_upload,
    register,
    share_with_browser,
    text_upload,
)

# The phone the interface is designed for (iPhone 12 to 15); the error pages and journeys
# also check the narrower 360 px.
PHONE = {"width": 390, "height": 844}
HEADER_MAX_ON_PHONE = 64  # px: one row, brand and menu toggle

pytestmark = pytest.mark.browser


@dataclass
class Showcase:
    """A small site with something on every page: two gifts, a giver and a taker."""

    giver: dict
    taker: dict
    open_resource: str
    kept_resource: str
    member_page: str

    def signed_in(self, who: str | None) -> dict | None:
        return {"giver": self.giver, "taker": self.taker}.get(who or "")


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture(scope="module")
def showcase(browser, live_server) -> Showcase:
    giver_context = browser.new_context(base_url=live_server.url)
    giver = giver_context.new_page()
    register(giver, name="Dale Briers")
    open_url = share_with_browser(
        giver,
        ShareDetails(
            title="Values card sort",
            synopsis="Thirty values on cards; clients pick the ten that matter most to them.",
            tags="self-assessment, career exploration, values",
            kind="Self-assessment",
            audience="Career changers",
        ),
        [
            pdf_upload("values-cards.pdf", "Values card sort", "Pick the ten values that matter."),
            png_upload("values-grid.png"),
            text_upload(
                "facilitator-notes.txt",
                "Start with the values clients reject.\n\nThen"
                " ask which three they would never give up.",
            ),
        ],
    )
    kept_url = share_with_browser(
        giver,
        ShareDetails(title="Interview practice cards", access="For members who share"),
        [docx_upload("interview-cards.docx", "Tell me about a time you solved a problem.")],
    )
    member_page = giver.locator(".byline a").first.get_attribute("href")
    taker_context = browser.new_context(base_url=live_server.url)
    taker = taker_context.new_page()
    register(taker)
    taker.goto(open_url)
    with taker.expect_download():
        download_control(taker, "values-cards.pdf").click()
    showcase = Showcase(
        giver=giver_context.storage_state(),
        taker=taker_context.storage_state(),
        open_resource=path_of(open_url),
        kept_resource=path_of(kept_url),
        member_page=member_page,
    )
    giver_context.close()
    taker_context.close()
    return showcase


def share_form_with_errors(page: Page, site: Showcase) -> None:
    page.goto("/resources/new")
    page.get_by_role("button", name="Share it").click()
    expect(page.get_by_role("alert")).to_be_focused()


@dataclass(frozen=True)
class View:
    name: str
    who: str | None
    visit: Callable[[Page, Showcase], object]


VIEWS = [
    View("home", "taker", lambda page, site: page.goto("/")),
    View("home-signed-out", None, lambda page, site: page.goto("/")),
    View("browse", None, lambda page, site: page.goto("/resources")),
    View("search", "taker", lambda page, site: page.goto("/search?q=values")),
    View("search-nothing", "taker", lambda page, site: page.goto("/search?q=zzyzx+quarks")),
    View("resource", "taker", lambda page, site: page.goto(site.open_resource)),
    View("resource-locked", "taker", lambda page, site: page.goto(site.kept_resource)),
    View("resource-own", "giver", lambda page, site: page.goto(site.open_resource)),
    View("share-errors", "giver", share_form_with_errors),
    View("edit", "giver", lambda page, site: page.goto(site.open_resource + "/edit")),
    View("register", None, lambda page, site: page.goto("/register")),
    View("login", None, lambda page, site: page.goto("/login")),
    View("account", "giver", lambda page, site: page.goto("/account")),
    View("password", "giver", lambda page, site: page.goto("/account/password")),
    View("member", None, lambda page, site: page.goto(site.member_page)),
    View("log-out", "giver", lambda page, site: page.goto("/logout")),
    View("my-exchange", "taker", lambda page, site: page.goto("/account/exchange")),
    View("requests", "taker", lambda page, site: page.goto("/requests")),
]


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_page_passes_axe_and_fits_desktop_and_phone(open_page, showcase, view: View):
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport=viewport, signed_in=showcase.signed_in(view.who))
        view.visit(page, showcase)
        page.wait_for_load_state("load")
        screenshot(page, f"{view.name}-{size}")
        assert_accessible(page, f"{view.name}-{size}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{view.name} scrolls sideways by {overflow}px at {size} size"
        if size == "phone":
            header = page.locator(".site-header").bounding_box()["height"]
            assert header <= HEADER_MAX_ON_PHONE, f"{view.name}: header {header}px on a phone"


def test_resource_page_previews_pdfs_and_images_and_shows_an_excerpt_for_the_rest(
    open_page, showcase
):
    page = open_page(signed_in=showcase.taker)
    page.goto(showcase.open_resource)
    pdf_preview = page.get_by_role("img", name="First page of values-cards.pdf")
    image_preview = page.get_by_role("img", name="values-grid.png")
    for preview in (pdf_preview, image_preview):
        expect(preview).to_be_visible()
        assert preview.evaluate("img => img.complete && img.naturalWidth > 100")
    notes = page.locator(".file-row", has_text="facilitator-notes.txt")
    expect(notes.locator("img")).to_have_count(0)
    expect(notes.get_by_text("Start with the values clients reject. Then ask")).to_be_visible()
