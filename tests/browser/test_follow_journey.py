"""Following a topic in Chromium: the next share on it shows up in "What's new" and in the
topic's Atom feed, which the topic's page points feed readers to."""

from __future__ import annotations

import feedparser
import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, screenshot
from .people import ShareDetails, register, share_with_browser, text_upload

pytestmark = pytest.mark.browser

TOPIC = "kestrel circles"


def test_follow_a_topic_then_see_the_next_share_in_whats_new_and_in_its_feed(open_page):
    giver = open_page()
    register(giver, name="Kit Giver")
    first = ShareDetails(title="Kestrel circle warm-up", tags=TOPIC)
    share_with_browser(giver, first, [text_upload("warm-up.txt", "Stand in a circle.")])

    reader = open_page(javascript=False)  # the button is a plain form
    register(reader, name="Robin Reader")
    reader.goto("/search?tag=kestrel+circles")
    reader.get_by_role("button", name=f"Follow “{TOPIC}”").click()
    expect(reader.get_by_role("status")).to_contain_text(f"You follow the topic “{TOPIC}”")
    expect(reader.get_by_role("button", name=f"Unfollow “{TOPIC}”")).to_be_visible()

    second = ShareDetails(title="Kestrel circle closing round", tags=TOPIC)
    share_with_browser(giver, second, [text_upload("closing.txt", "One word each.")])

    reader.goto("/")
    news = reader.get_by_role("region", name="What’s new")
    expect(news.get_by_role("link", name=second.title)).to_be_visible()
    expect(news).to_contain_text(f"Topic you follow: {TOPIC}")
    checked = open_page(signed_in=reader.context.storage_state())  # axe needs script
    checked.goto("/")
    screenshot(checked, "whats-new-home")
    assert_accessible(checked, "whats-new-home")

    reader.goto("/search?tag=kestrel+circles")
    feed_link = reader.locator('link[rel="alternate"][type="application/atom+xml"]')
    feed_url = feed_link.get_attribute("href")
    response = reader.request.get(feed_url)
    assert response.ok
    parsed = feedparser.parse(response.body())
    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries] == [second.title, first.title]
    assert parsed.entries[0].author == second.credit
