"""An office file with no picture of its own: LibreOffice draws its first page after the
share, and the resource page shows that picture at desktop and phone sizes.

Needs LibreOffice (``.ci/run`` installs it); where it is missing the test says so and
the page's own explanation is covered by ``tests/test_preview.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from exchange import jobs

from .conftest import DESKTOP, assert_accessible, screenshot, serve, start_app
from .people import ShareDetails, docx_upload, register, share_with_browser

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def drawing_site(tmp_path: Path):
    """A site of its own with office previews on (the shared test site has them off)."""
    if shutil.which("soffice") is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui"
        )
    app = start_app(tmp_path / "drawing", OFFICE_PREVIEWS=True)
    with serve(app) as server:
        yield server


def test_a_word_file_gets_a_picture_of_its_first_page_after_the_share(open_page, drawing_site):
    giver = open_page(server=drawing_site)
    register(giver)
    resource_url = share_with_browser(
        giver,
        ShareDetails(title="Strengths interview"),
        [docx_upload("strengths.docx", "Tell me about a strength you used last week.")],
    )
    assert jobs.wait(120), "the preview job did not finish"
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(viewport=viewport, server=drawing_site)
        page.goto(resource_url)
        picture = page.get_by_role("img", name="First page of strengths.docx")
        expect(picture).to_be_visible()
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("img => img.naturalWidth") > 100
        expect(page.get_by_text("Preview being made")).to_have_count(0)
        screenshot(page, f"office-preview-{size}")
        assert_accessible(page, f"office-preview-{size}")
