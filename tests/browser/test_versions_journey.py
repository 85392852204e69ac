"""Replacing a file in Chromium: the giver uploads a new version with a note of what changed
(the edit page's script sends it with the rest of the form), and the resource page shows
the file's history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, screenshot
from .people import ShareDetails, register, share_with_browser, text_upload

pytestmark = pytest.mark.browser

NOTE = "fixed typos, added a second page"


def test_a_giver_replaces_a_file_and_sees_its_history(open_page):
    giver = open_page()
    register(giver, name="Vera Giver")
    details = ShareDetails(title="Values ladder worksheet")
    url = share_with_browser(giver, details, [text_upload("ladder.txt", "Rank your valeus.")])

    giver.goto(f"{url}/edit")
    giver.get_by_text("Replace with a new version").click()
    new_version = text_upload("ladder.txt", "Rank your values, then pick three.")
    giver.get_by_label("New version of “ladder.txt”").set_input_files(new_version.as_payload())
    giver.get_by_label("What changed").fill(NOTE)
    giver.get_by_label("I confirm any new files contain no client’s personal information").check()
    giver.get_by_role("button", name="Save changes").click()

    expect(giver.get_by_role("heading", level=1)).to_have_text(details.title, timeout=60_000)
    expect(giver.locator(".flashes")).to_contain_text("Your changes are saved.")
    giver.get_by_text("Version history").click()
    history = giver.locator(".version-history")
    expect(history.get_by_role("listitem").first).to_contain_text("Version 2 current")
    expect(history.get_by_role("listitem").first).to_contain_text(NOTE)
    expect(history.get_by_role("link", name="Download version 1 of ladder.txt")).to_be_visible()
    screenshot(giver, "version-history")
    assert_accessible(giver, "version-history")
