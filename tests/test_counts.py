"""One scenario, every page: the giver's numbers are counted once, the same way everywhere.

Three colleagues take two of Dale's resources, some of them again and again, and Dale
downloads both himself. A download is one member taking one resource: repeats and other
files of it count once, the giver's own never (see ``exchange/counts.py``).
"""

from __future__ import annotations

import html
import re

import pytest

from .fixtures.exchange import member_id, page, people, share_txt, take
from .fixtures.members import Visitor


@pytest.fixture
def scenario(app) -> dict:
    giver, ana, ben, cat = people(app, "Dale Briers", "Ana Taker", "Ben Taker", "Cat Taker")
    cards = giver.share_id(
        title="Values card sort",
        files=[("cards.txt", b"Values cards: strengths."), ("notes.txt", b"Strengths notes.")],
    )
    planner = share_txt(giver, "Budget planner", "Budget planner: strengths and spending.")
    for position in (0, 0, 1):
        take(app, ana, cards, position)
    take(app, ana, planner)
    take(app, ben, cards)
    for _ in range(3):
        take(app, cat, cards)
    take(app, giver, cards)
    take(app, giver, planner)
    return {"app": app, "giver": giver, "taker": ana, "cards": cards, "planner": planner}


def test_every_page_counts_the_givers_downloads_alike(scenario):
    app, giver, taker = scenario["app"], scenario["giver"], scenario["taker"]
    cards, planner = scenario["cards"], scenario["planner"]
    dale = member_id(app, giver)
    # The public member page, as anyone sees it (the giver too): 3 + 1 colleagues' downloads.
    for viewer in (Visitor(app.test_client()), taker, giver):
        assert "<strong>4</strong> downloads by colleagues" in page(viewer, f"/members/{dale}")

    impact = html.unescape(page(giver, f"/members/{dale}/impact"))
    assert "<strong>4</strong> downloads by colleagues</li>" in impact
    assert "<strong>3</strong> colleagues took them" in impact
    assert re.search(r"Values card sort</a>\s*</th>\s*<td class=\"num\">3</td>", impact)
    assert re.search(r"Budget planner</a>\s*</th>\s*<td class=\"num\">1</td>", impact)
    # File fetches appear only where labelled so: Ana 3, Ben 1, Cat 3 (Dale's not counted).
    assert "File downloads, repeats included" in impact
    assert re.search(r"<td class=\"num\">3</td><td class=\"num\">7</td>", impact)
    this_month = re.findall(r"<tr><th scope=\"row\">([A-Z][a-z]{2} \d{4})</th>", impact)[-1]
    assert f'<tr><th scope="row">{this_month}</th><td class="num">4</td></tr>' in impact

    mine = html.unescape(page(giver, "/account/exchange"))
    assert re.search(r"Values card sort</a>\s*</th>\s*<td class=\"num\">3</td>", mine)

    for resource_id, count in ((cards, 3), (planner, 1)):
        members = "member has" if count == 1 else "members have"
        shown = page(taker, f"/resources/{resource_id}")
        assert f"<strong data-download-count>{count}</strong> {members} downloaded it" in shown

    for listing in ("/resources", "/search?q=strengths&sort=downloads", "/"):
        text = page(taker, listing)
        assert "3 members downloaded" in text and "1 member downloaded" in text, listing
    ranked = page(taker, "/search?q=strengths&sort=downloads")
    assert ranked.index("Values card sort") < ranked.index("Budget planner")
    home = page(taker, "/")
    used = home[home.index("Most used") :]
    assert used.index("Values card sort") < used.index("Budget planner")


def test_the_impact_page_says_why_the_public_number_is_lower(scenario):
    app, giver, taker = scenario["app"], scenario["giver"], scenario["taker"]
    hidden = share_txt(giver, "Anonymous sheet", credit_name="")
    take(app, taker, hidden)
    dale = member_id(app, giver)
    for viewer in (taker, giver):  # the giver's own view of their page too
        assert "<strong>4</strong> downloads by colleagues" in page(viewer, f"/members/{dale}")
    impact = html.unescape(page(giver, f"/members/{dale}/impact"))
    assert "<strong>5</strong> downloads by colleagues (4 on the public page" in impact
