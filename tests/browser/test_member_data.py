"""A member takes their data with them, then leaves: export, download, delete, in Chromium."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from exchange import jobs

from .people import PASSWORD, register

pytestmark = pytest.mark.browser


def test_a_member_exports_their_data_then_deletes_their_account(page: Page, tmp_path):
    email = register(page, "Leaving Lee")
    page.goto("/account")
    page.get_by_role("link", name="Export my data, or delete my account").click()
    page.get_by_role("button", name="Export my data").click()
    expect(page.get_by_role("status")).to_contain_text("We’re gathering your data")
    assert jobs.wait(60)
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        data = json.loads(archive.read("member_data.json"))
    assert data["profile"]["email"] == email and data["profile"]["name"] == "Leaving Lee"

    page.get_by_label("Remove them from the exchange").check()
    page.get_by_label("Remove them", exact=True).check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter your password to confirm.")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is deleted")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
