"""Finding your way (issue 16): where a newcomer stands, one name for Requests, sign-up that
remembers where you were going, a phone header of one row with a menu that needs no script,
flashes as wide as the content, and "Mark fulfilled" only once someone answered.

Two journeys, desktop and phone, each checking several of these on the way.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible, screenshot
from .people import PASSWORD

pytestmark = pytest.mark.browser

DESKTOP_TALL = {"width": 1280, "height": 900}
PHONE_TALL = {"width": 390, "height": 844}
HEADER_MAX_ON_PHONE = 64  # px


def box(page: Page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def sign_up_on_the_way(page: Page, name: str, email: str, register_link) -> None:
    """From the login page a "Share a resource" click led to, register and open the link."""
    register_link.click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_role("link", name="Open the emailed link").click()


def test_a_newcomer_signs_up_on_the_way_to_share_sees_where_they_stand_and_asks(open_page):
    page = open_page(viewport=DESKTOP_TALL)
    page.goto("/")
    page.get_by_role("link", name="Share a resource").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    nav = page.get_by_role("navigation", name="Main")
    register = nav.get_by_role("link", name="Register")  # the header's, on the login page
    sign_up_on_the_way(page, "Nia Newcomer", "nia.newcomer@example.org", register)

    # Confirming the address lands on the share form, not the home page.
    expect(page).to_have_url(re.compile(r"/resources/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Share a resource")
    expect(page.locator(".flashes")).to_contain_text("Welcome, Nia Newcomer")

    # The flash spans the content and keeps clear of the header.
    flash, main = box(page, ".flash"), box(page, "main")
    header = box(page, ".site-header")
    assert abs(flash["width"] - (main["width"] - 2 * 20)) <= 1, (flash, main)
    assert flash["y"] >= header["y"] + header["height"] + 16, (flash, header)

    # The standing, the share call and My exchange, inline on a desktop: no menu toggle.
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    standing = page.get_by_role("link", name="3 of 3 starter downloads left")
    expect(standing).to_be_visible()
    expect(page.get_by_text("Share one tool to open everything")).to_be_visible()
    share = box(page, ".site-header .button.primary")
    assert abs((box(page, "[data-standing]")["y"] + 10) - share["y"]) < share["height"]
    screenshot(page, "header-newcomer-desktop")
    nav.get_by_role("link", name="My exchange").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My exchange")
    expect(nav.get_by_role("link", name="My exchange")).to_have_attribute("aria-current", "page")
    assert_accessible(page, "my-exchange-desktop")

    # Requests: one name, and the verb on its button is not "Share".
    nav.get_by_role("link", name="Requests").click()
    expect(page).to_have_title(re.compile("^Requests"))
    heading = "Requests: ask colleagues for a resource"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page, "requests-desktop")
    page.get_by_role("main").get_by_role("link", name="Ask for a resource").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for a resource")
    assert_accessible(page, "ask-for-a-resource-desktop")
    page.get_by_label("Title", exact=True).fill("A card sort on values for school leavers")
    page.get_by_label("What you’re looking for", exact=True).fill(
        "My school leavers struggle to say what matters to them at work; a card sort "
        "they can do in pairs would help our Thursday group."
    )
    page.get_by_role("button", name="Post my request").click()
    expect(page.locator(".flashes")).to_contain_text("Your request is on Requests")
    expect(page.get_by_role("link", name="Requests").last).to_be_visible()
    # Nobody has answered, so there is nothing to mark fulfilled.
    expect(page.get_by_role("heading", name="Answers (0)")).to_be_visible()
    expect(page.get_by_role("button", name="Mark fulfilled")).to_have_count(0)
    assert_accessible(page, "request-desktop")
    screenshot(page, "request-unanswered-desktop")


def test_on_a_phone_the_header_is_one_row_and_its_menu_works_without_script(open_page):
    page = open_page(viewport=PHONE_TALL, javascript=False)
    page.goto("/resources/new")  # signed out: the login page, on the way to the share form
    register = page.get_by_role("link", name="Create an account")  # the login page's own
    sign_up_on_the_way(page, "Pat Phone", "pat.phone@example.org", register)
    expect(page.get_by_role("heading", level=1)).to_have_text("Share a resource")

    for path in ("/", "/resources", "/search?q=values", "/requests", "/account/exchange"):
        page.goto(path)
        height = box(page, ".site-header")["height"]
        assert height <= HEADER_MAX_ON_PHONE, f"{path}: the header is {height}px tall"
    screenshot(page, "header-phone")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    toggle = page.locator("summary", has_text="Menu")
    toggle.focus()
    page.keyboard.press("Enter")  # opened from the keyboard, with no script on the page
    expect(nav).to_be_visible()
    expect(page.get_by_role("link", name="3 of 3 starter downloads left")).to_be_visible()
    expect(page.get_by_text("Share one tool to open everything")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    screenshot(page, "header-phone-menu-open")
    nav.get_by_role("link", name="Requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Requests: ask colleagues for a resource"
    )
    expect(nav).to_be_hidden()  # a new page starts with the menu folded

    # axe runs as a script, so it checks the same pages in a browser that runs them.
    checked = open_page(viewport=PHONE_TALL, signed_in=page.context.storage_state())
    checked.goto("/requests")
    assert_accessible(checked, "requests-phone")
    checked.locator("summary", has_text="Menu").click()
    expect(checked.get_by_role("navigation", name="Main")).to_be_visible()
    assert_accessible(checked, "header-phone-menu-open")
