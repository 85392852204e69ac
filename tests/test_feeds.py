"""Atom feeds: the newest resources, a topic's, a member's and a search's.

Feed readers are nobody in particular: every feed holds only public, published resources,
each entry credited as its page credits it (the author's credit name, the credit line),
with no name at all for an anonymous gift. Checked with feedparser, as a reader reads them.
"""

from __future__ import annotations

import html
import re

import feedparser
import pytest

from .fixtures.exchange import make_admin, member_id, page, people, share_txt
from .fixtures.members import Visitor

WORD = "heronwise"


def feed(visitor: Visitor, path: str, status: int = 200):
    response = visitor.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    if status != 200:
        return None
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def titles(parsed) -> list[str]:
    return [entry.title for entry in parsed.entries]


def credit_line_on_page(visitor: Visitor, resource_id: int) -> str:
    text = page(visitor, f"/resources/{resource_id}")
    return html.unescape(re.search(r'id="credit-line">([^<]*)</p>', text).group(1))


@pytest.fixture
def world(app):
    """Dale's public, anonymous, members-only and hidden shares, and one by Carol."""
    dale, carol, admin = people(app, "Dale Briers", "Carol Giver", "Admin")
    make_admin(app, admin)
    text = f"Clients name the {WORD} steps of their plan."
    ids = {
        "credited": share_txt(dale, "Goal ladder", text=text, tags="goals, values"),
        "anonymous": share_txt(
            dale, "Quiet ladder", text=text, tags="goals", credit_name="", synopsis="Unsigned."
        ),
        "members": share_txt(dale, "Members ladder", text=text, tags="goals", visibility="members"),
        "hidden": share_txt(dale, "Hidden ladder", text=text, tags="goals"),
        "carol": share_txt(carol, "Carol's budget", tags="budgets"),
    }
    hidden = admin.client.post(f"/admin/resources/{ids['hidden']}/hide", data={"note": "Spam."})
    assert hidden.status_code == 302
    return {"ids": ids, "dale": member_id(app, dale), "viewer": dale}


def test_the_site_feed_is_valid_atom_with_credit_and_only_public_resources(app, world):
    reader = Visitor(app.test_client())
    parsed = feed(world["viewer"], "/feeds/resources.atom")  # signed in: still only public
    assert titles(parsed) == ["Carol's budget", "Quiet ladder", "Goal ladder"]
    assert parsed.feed.title == "Toolkit Exchange: New resources"

    credited = parsed.entries[2]
    resource_id = world["ids"]["credited"]
    assert credited.link == f"http://localhost/resources/{resource_id}"
    assert credited.author == "Dale Briers (Collaborative Career Conversations)"
    assert credited.updated_parsed and credited.published_parsed
    assert credited.summary.startswith("A spreadsheet for clients")
    assert credited.summary.endswith(credit_line_on_page(reader, resource_id))
    assert {tag.term for tag in credited.tags} == {"goals", "values"}

    anonymous = parsed.entries[1]
    assert anonymous.author == "Anonymous giver"
    assert anonymous.summary.endswith(credit_line_on_page(reader, world["ids"]["anonymous"]))
    assert "shared anonymously" in anonymous.summary
    everything_said = repr(dict(anonymous))
    assert "Dale" not in everything_said and f"/members/{world['dale']}" not in everything_said


def test_topic_member_and_search_feeds_hold_their_public_entries_and_pages_link_them(app, world):
    reader = Visitor(app.test_client())
    assert titles(feed(reader, "/feeds/tags/goals.atom")) == ["Quiet ladder", "Goal ladder"]
    assert titles(feed(reader, "/feeds/tags/budgets.atom")) == ["Carol's budget"]
    feed(reader, "/feeds/tags/no-such-topic.atom", status=404)

    dale = feed(reader, f"/feeds/members/{world['dale']}.atom")
    assert titles(dale) == ["Goal ladder"]  # the anonymous gift is never tied to Dale
    assert dale.feed.title == "Toolkit Exchange: New from Dale Briers"
    feed(reader, "/feeds/members/999999.atom", status=404)

    found = feed(world["viewer"], f"/feeds/search.atom?q={WORD}")
    assert titles(found) == ["Quiet ladder", "Goal ladder"]
    assert found.feed.links[0].href == f"http://localhost/feeds/search.atom?q={WORD}"
    assert titles(feed(reader, f"/feeds/search.atom?q={WORD}&tag=values")) == ["Goal ladder"]

    alternate = r'<link rel="alternate" type="application/atom\+xml"[^>]*href="{}"'
    assert re.search(alternate.format("/feeds/resources.atom"), page(reader, "/"))
    member_page = page(reader, f"/members/{world['dale']}")
    assert re.search(alternate.format(f"/feeds/members/{world['dale']}.atom"), member_page)
    assert re.search(alternate.format("/feeds/tags/goals.atom"), page(reader, "/search?tag=goals"))
    search_page = page(reader, f"/search?q={WORD}")
    assert re.search(alternate.format(re.escape(f"/feeds/search.atom?q={WORD}")), search_page)
