"""A scanned worksheet and a phone photo shared through the form are read after the share
(issue 20): the giver sees "Reading your files…" with each file's progress, the page turns
into the resource by itself when the job is done, and a word on each is found by search.

On a site of its own, as `make run` serves it: jobs on the web process's background
thread (not run eagerly as in the shared test site) and Tesseract on. The same journey on
the production stack, with a separate worker process, is tests/test_stack.py's (over HTTP).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from exchange import jobs
from tests.fixtures.scans import image_only_pdf, page_picture, phone_photo

from .conftest import assert_accessible, screenshot, serve, start_app
from .people import ShareDetails, Upload, register, share_with_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def reading_site(tmp_path: Path):
    app = start_app(tmp_path / "reading", JOBS_EAGER=False, OCR=True)
    with serve(app) as server:
        yield server


def test_a_scan_and_a_photo_are_read_after_the_share_and_found(open_page, reading_site):
    release = threading.Event()
    jobs.job("test-hold-browser")(lambda: release.wait(60))
    with reading_site.app.app_context():
        jobs.enqueue("test-hold-browser")  # the read job waits behind it, until released
    giver = open_page(server=reading_site)
    register(giver)
    scan = image_only_pdf(page_picture("Wombat budgeting worksheet", size=(1400, 320)))
    uploads = [
        Upload("scan.pdf", "application/pdf", scan),
        Upload("photo.jpg", "image/jpeg", phone_photo("Kangaroo interview checklist")),
    ]
    share_with_browser(giver, ShareDetails(title="Scanned money sheet"), uploads)
    expect(giver.get_by_role("heading", name="Reading your files…")).to_be_visible()
    expect(giver.get_by_text("0 of 2 files read.")).to_be_visible()
    expect(giver.get_by_role("link", name="Refresh")).to_be_visible()
    assert_accessible(giver, "reading-your-files")
    release.set()
    # The page's script asks the status address and opens the resource once it is read.
    expect(giver.get_by_role("heading", name="Reading your files…")).to_have_count(
        0, timeout=90_000
    )
    expect(giver.get_by_text("Text read from a scan").first).to_be_visible()
    screenshot(giver, "scan-read")
    for word in ("wombat", "kangaroo"):
        giver.goto(f"/search?q={word}")
        expect(giver.get_by_role("link", name="Scanned money sheet")).to_be_visible()
