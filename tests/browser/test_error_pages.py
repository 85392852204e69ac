"""When something goes wrong, people get a page in the site's own design that says what
happened and what to do next: 403 (naming the step that unlocks access), 404, 413, 429, 500
and 503, each caused for real, each checked with axe-core at desktop and phone sizes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, text

from exchange.extensions import db
from exchange.models import StoredFile

from .conftest import PHONE, assert_accessible, screenshot, serve, start_app
from .people import (
    ShareDetails,
    Upload,
    docx_upload,
    drop_files,
    fill_share_form,
    pdf_upload,
    register,
    share_with_browser,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def strict_site(tmp_path: Path):
    """A site of its own with rate limits on and a 1 MB upload limit, free to be broken."""
    app = start_app(tmp_path / "strict", RATELIMIT_ENABLED=True, MAX_UPLOAD_MB=1)
    with serve(app) as server:
        server.extra["root"] = tmp_path / "strict"
        yield server


def check_error_page(page: Page, name: str, title: str) -> None:
    """The page is ours (header, navigation, footer), says what happened, passes axe at both
    sizes, fits a phone, and is saved as a screenshot."""
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    screenshot(page, f"{name}-desktop")
    assert_accessible(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    assert_accessible(page, f"{name}-phone")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the {name} page scrolls sideways on a phone"


def test_403_says_why_and_offers_the_step_that_unlocks_the_file(open_page):
    giver = open_page()
    register(giver)
    share_with_browser(
        giver,
        ShareDetails(title="Mock interview scorecard", access="For members who share"),
        [docx_upload("scorecard.docx", "Rate each answer from one to five.")],
    )
    file_url = giver.get_by_role("link", name="Download scorecard.docx").get_attribute("href")

    newcomer = open_page()
    register(newcomer)
    response = newcomer.goto(file_url)
    assert response.status == 403
    expect(newcomer.get_by_text("kept this resource for members who share")).to_be_visible()
    check_error_page(newcomer, "error-403", "You can’t open this yet")
    newcomer.get_by_role("link", name="Share a resource").last.click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Share a resource")


def test_404_for_a_page_that_is_not_there(page):
    response = page.goto("/resources/987654")
    assert response.status == 404
    check_error_page(page, "error-404", "We can’t find that page")


def big_text(name: str, megabytes: float) -> Upload:
    line = b"Budget worksheet: rent, food, travel, phone, savings.\n"
    return Upload(name, "text/plain", line * int(megabytes * 1024 * 1024 / len(line)))


def test_413_when_the_files_are_over_the_limit_without_javascript(open_page, strict_site):
    page = open_page(javascript=False, server=strict_site)
    register(page)
    page.goto("/resources/new")
    expect(page.get_by_text("up to 1 MB in total")).to_be_visible()
    page.get_by_label("Files", exact=True).set_input_files(big_text("budget.txt", 1.5).as_payload())
    fill_share_form(page, ShareDetails(title="Monthly budget"))
    with page.expect_response(re.compile("/resources/new")) as answer:
        page.get_by_role("button", name="Share it").click()
    assert answer.value.status == 413
    expect(page.get_by_role("heading", level=1)).to_have_text("That upload is too large")
    expect(page.get_by_text("Files can be up to 1 MB in total")).to_be_visible()
    # axe-core needs scripts to run: audit the very page the server sent in a second tab.
    audited = open_page(server=strict_site)
    audited.goto("/login")
    audited.set_content(answer.value.text())
    check_error_page(audited, "error-413", "That upload is too large")


def test_with_javascript_files_over_the_limit_are_flagged_before_anything_is_sent(
    open_page, strict_site
):
    page = open_page(server=strict_site)
    register(page)
    page.goto("/resources/new")
    drop_files(page, "[data-dropzone]", [big_text("budget.txt", 1.5)])
    expect(page.locator("[data-file-list]")).to_contain_text("over the 1.0 MB limit")
    fill_share_form(page, ShareDetails(title="Monthly budget"))
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    page.get_by_role("button", name="Share it").click()
    announcer = page.get_by_role("status").filter(has_text="Please remove the files marked")
    expect(announcer).to_have_count(1)
    assert posts == []
    page.get_by_role("button", name="Remove budget.txt").click()
    drop_files(page, "[data-dropzone]", [big_text("budget.txt", 0.2)])
    page.get_by_role("button", name="Share it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly budget")


def test_429_after_too_many_attempts_to_log_in(open_page, strict_site):
    page = open_page(server=strict_site)
    page.goto("/login")
    statuses = []
    while len(statuses) < 12 and 429 not in statuses:
        page.get_by_label("Email", exact=True).fill("someone@example.org")
        page.get_by_label("Password", exact=True).fill("not the password")
        with page.expect_response(re.compile("/login")) as answer:
            page.get_by_role("button", name="Log in").click()
        statuses.append(answer.value.status)
    assert statuses[0] == 422 and statuses[-1] == 429, statuses
    check_error_page(page, "error-429", "Too many attempts")


def test_500_when_the_database_has_lost_a_table(page, strict_site):
    with strict_site.app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE resources"))
    response = page.goto(strict_site.url + "/")
    assert response.status == 500
    check_error_page(page, "error-500", "Something went wrong on our side")


def test_503_when_the_file_store_cannot_read_a_file(open_page, strict_site):
    page = open_page(server=strict_site)
    register(page)
    share_with_browser(
        page,
        ShareDetails(title="Career timeline"),
        [pdf_upload("timeline.pdf", "Career timeline", "Mark the turning points.")],
    )
    preview_url = page.get_by_role("img", name="First page of timeline.pdf").get_attribute("src")
    with strict_site.app.app_context():
        key = db.session.scalar(select(StoredFile.preview_key).where(StoredFile.preview_key != ""))
    stored = strict_site.extra["root"] / "files" / key
    stored.unlink()
    stored.mkdir()  # the disk now answers "that is a folder" when the file is read
    try:
        # Another browser: this one keeps the picture it was shown (previews may be cached).
        elsewhere = open_page(server=strict_site)
        response = elsewhere.goto(preview_url)
        assert response.status == 503
        check_error_page(elsewhere, "error-503", "We can’t reach our file store right now")
    finally:
        shutil.rmtree(stored)
