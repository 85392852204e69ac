"""A workshop kit in Chromium: built from three resources by two givers, reordered with its
buttons, and downloaded as one zip holding the files in order and a running-order sheet
with every giver's credit."""

from __future__ import annotations

import io
import zipfile

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, screenshot
from .people import ShareDetails, register, share_with_browser, text_upload

pytestmark = pytest.mark.browser

KIT = "Job-search morning for newcomers"
ANA = "Ana Planner (Northside Careers)"
OLU = "Olu Adeyemi"


def test_build_a_kit_from_two_givers_reorder_it_and_download_it(open_page):
    olu = open_page(javascript=False)
    register(olu, name="Olu Adeyemi")
    icebreaker = ShareDetails(title="Two truths icebreaker", credit=OLU)
    share_with_browser(olu, icebreaker, [text_upload("icebreaker.txt", "Two truths, one lie.")])

    ana = open_page(javascript=False)  # every button is a plain form
    register(ana, name="Ana Planner")
    cards = ShareDetails(title="Values card sort", credit=ANA)
    goals = ShareDetails(title="SMART goals sheet", credit=ANA)
    share_with_browser(ana, goals, [text_upload("goals.txt", "Specific, measurable...")])
    cards_url = share_with_browser(ana, cards, [text_upload("cards.txt", "Sort the cards.")])

    ana.get_by_role("link", name="Start a workshop kit with it").click()
    ana.get_by_label("Title").fill(KIT)
    ana.get_by_label("Purpose").fill("A 3-hour job-search workshop for newcomers")
    ana.get_by_label("Share it with colleagues").check()
    ana.get_by_role("button", name="Make it").click()
    expect(ana.get_by_role("heading", level=1)).to_have_text(KIT)
    kit_url = ana.url
    for title in (goals.title, icebreaker.title):
        ana.goto("/search?q=" + title.split()[0])
        ana.get_by_role("link", name=title).first.click()
        ana.get_by_label("Add to a collection or kit").select_option(label=f"{KIT} (kit)")
        ana.get_by_role("button", name="Add it").click()
        expect(ana.get_by_role("status")).to_contain_text(f"Added to “{KIT}”")

    ana.goto(kit_url)
    ana.get_by_role("button", name=f"Move up “{icebreaker.title}”").click()
    ana.get_by_role("button", name=f"Move up “{icebreaker.title}”").click()
    order = [cards.title, goals.title]
    expect(ana.locator(".kit-item-title a")).to_have_text([icebreaker.title, *order])

    with ana.expect_download() as download_info:
        ana.get_by_role("button", name=f"Download the kit “{KIT}” (3 resources)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read()))
    names = archive.namelist()
    assert names[0] == "00 - Running order.pdf"
    assert [n.split(" — ")[0] for n in names[1:]] == [
        f"01 - {icebreaker.title}",
        f"02 - {cards.title}",
        f"03 - {goals.title}",
    ]
    pdf = pdfium.PdfDocument(archive.read(names[0]))
    sheet = " ".join(" ".join(p.get_textpage().get_text_range() for p in pdf).split())
    for title, giver in ((icebreaker.title, OLU), (cards.title, ANA), (goals.title, ANA)):
        assert f"“{title}” by {giver}, shared via Toolkit Exchange" in sheet
    assert f"“{KIT}”, a workshop kit by Ana Planner" in sheet

    checked = open_page(signed_in=ana.context.storage_state())  # axe needs script
    checked.goto(kit_url)
    screenshot(checked, "workshop-kit")
    assert_accessible(checked, "workshop-kit")
    assert cards_url  # the kit was started from the card sort's own page
