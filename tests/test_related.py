""" "More like this" on a resource page: the nearest resources by key terms and tags, what
members took together (only from three members up), under search's visibility rule, and
kept per index generation.

Most resources here are written as rows with their change-log entry, as a share writes
them, without the upload path (which other tests cover and which costs half a second a
share); downloads go through the real download path.
"""

from __future__ import annotations

import itertools
import re

from sqlalchemy import select

from exchange.extensions import db
from exchange.models import IndexChange, Resource, StoredFile, Tag
from exchange.search import related

from .fixtures.exchange import member_id, people, share_txt, take
from .fixtures.members import Visitor

SALARY = (
    "Salary negotiation role-play: the client states a target salary, counters a low "
    "offer and asks about benefits, bonus and a raise review; we practise negotiation "
    "phrases until the salary conversation feels calm."
)
RAISE = "Negotiation of salary: practise asking for a raise and a bonus."
_keys = itertools.count(1)


def add(app, owner: Visitor, title: str, text: str, tags: str = "", **columns: str) -> int:
    """A resource with one text file, committed with its change-log entry (as a share is)."""
    with app.app_context():
        resource = Resource(
            owner_id=member_id(app, owner),
            title=title,
            synopsis=text,
            how_used=f"{title}.",
            kind="worksheet",
            audience="any",
            licence="cc-by-4.0",
            credit_name=owner.name,
            **columns,
        )
        resource.tags = [_tag(name) for name in tags.split(",") if name]
        resource.files = [_text_file(text)]
        db.session.add(resource)
        db.session.flush()
        IndexChange.record(resource.id)
        db.session.commit()
        return resource.id


def _tag(name: str) -> Tag:
    return db.session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)


def _text_file(text: str) -> StoredFile:
    return StoredFile(
        storage_key=f"related/{next(_keys)}",
        original_name="sheet.txt",
        content_type="text/plain",
        format="txt",
        size=len(text),
        sha256="0" * 64,
        text=text,
    )


def related_titles(visitor: Visitor, resource_id: int) -> list[str]:
    """The titles in the page's "More like this" block, in order."""
    page = visitor.client.get(f"/resources/{resource_id}").get_data(as_text=True)
    if 'id="related-heading"' not in page:
        return []
    block = page.split('id="related-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a></h3>', block)


def test_similar_text_ranks_first_then_shared_tags(app):
    (giver,) = people(app, "Dale Briers")
    source = add(app, giver, "Salary negotiation practice", SALARY, tags="interviews")
    add(app, giver, "Garden planner", "Plant tulips, water the roses, mulch.", tags="interviews")
    add(app, giver, "Raise talk", RAISE)
    add(app, giver, "Compost guide", "Turn the heap weekly; add leaves.", tags="outdoors")
    assert related_titles(giver, source) == ["Raise talk", "Garden planner"]
    assert "Also tagged “interviews”" in giver.client.get(f"/resources/{source}").text


def test_only_what_the_viewer_may_see(app, monkeypatch):
    giver, member = people(app, "Dale Briers", "Robin Ames")
    source = add(app, giver, "Salary negotiation practice", SALARY)
    add(app, giver, "Open salary sheet", SALARY)
    add(app, giver, "Members salary sheet", SALARY, visibility="members")
    for status in ("hidden", "draft", "suspended"):
        add(app, giver, f"{status.capitalize()} salary sheet", SALARY, status=status)
    passer_by = Visitor(app.test_client())
    for shortlist in (related.SHORTLIST, 2):  # then each viewer's own ranking is needed
        monkeypatch.setattr(related, "SHORTLIST", shortlist)
        add(app, giver, f"Unrelated {shortlist}", "Reef knot, bowline.")  # a new generation
        assert related_titles(passer_by, source) == ["Open salary sheet"]
        members_see = sorted(related_titles(member, source))
        assert members_see == ["Members salary sheet", "Open salary sheet"]
        assert len(related_titles(giver, source)) == 5, "the owner sees their own, as in search"


def test_taken_together_from_three_members_only(app):
    giver, other_giver, *takers = people(app, "Dale Briers", "Sam Ortiz", "A", "B", "C")
    source = share_txt(
        giver, "Salary talk", SALARY, synopsis=SALARY, how_used="Role-play.", tags="pay"
    )
    knots = "Reef knot, bowline, clove hitch."
    unlike = share_txt(
        other_giver, "Knot tying", knots, synopsis=knots, how_used="Sail.", tags="rope"
    )
    take(app, other_giver, source)  # a giver's own download of their gift never counts
    take(app, other_giver, unlike)
    for taker in takers[:2]:
        take(app, taker, source)
        take(app, taker, unlike)
    assert related_titles(giver, source) == []
    take(app, takers[2], source)
    take(app, takers[2], unlike)
    add(app, giver, "Budget sheet", "Monthly budget: rent, food, travel.")  # a new generation
    assert related_titles(giver, source) == ["Knot tying"]
    page = giver.client.get(f"/resources/{source}").text
    assert "Also taken by members who took this" in page


def test_a_new_similar_share_appears_after_the_index_catches_up(app):
    giver, member = people(app, "Dale Briers", "Robin Ames")
    source = add(app, giver, "Salary negotiation practice", SALARY)
    add(app, giver, "Raise talk", RAISE)
    assert related_titles(member, source) == ["Raise talk"]
    assert related_titles(member, source) == ["Raise talk"], "kept for the generation"
    add(app, giver, "Salary counter-offer drill", SALARY.replace("calm", "natural"))
    assert related_titles(member, source) == ["Salary counter-offer drill", "Raise talk"]
