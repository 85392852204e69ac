"""The search page: the query language, facets, snippets, sorting, and who sees what."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Member, Resource
from exchange.web import search as web_search

from .fixtures.members import Visitor, docx_bytes


def titles(page: str) -> list[str]:
    """Result titles on a search page, in order (the words searched for unmarked)."""
    found = re.findall(r'<h3 class="card-title"><a href="/resources/\d+">(.*?)</a>', page)
    return [re.sub(r"</?mark>", "", title) for title in found]


def search(client, **args) -> str:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def giver(app) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register(name="Dale Briers")
    return visitor


def share(giver: Visitor, title: str, text: str = "", **fields) -> int:
    """Share one .docx; tags default to one no test searches for."""
    body = text or f"{title} worksheet"
    fields.setdefault("tags", "misc")
    return giver.share_id(title=title, files=[("sheet.docx", docx_bytes(body))], **fields)


def test_a_word_inside_a_file_is_found_right_after_sharing(app, giver):
    share(giver, "Weekly planner", "Clients note their zygomorphic goals each week.")
    page = search(giver.client, q="zygomorphic")
    assert titles(page) == ["Weekly planner"]
    assert "1 result" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Quokka planning sheet"),
        ("synopsis", "A quokka inventory for career changers."),
        ("how_used", "I hand out the quokka sheet in week two."),
        ("tags", "quokka, networking"),
        ("credit_name", "Quokka Career Services"),
    ],
)
def test_every_described_field_is_searchable(app, giver, field, value):
    fields = {"title": "Plain title", field: value}
    share(giver, fields.pop("title"), **fields)
    assert titles(search(giver.client, q="quokka")) == [
        value if field == "title" else "Plain title"
    ]


def test_stemming_finds_other_forms_of_a_word(app, giver):
    share(giver, "Mock interviews", "Practise answering questions with a partner.")
    share(giver, "Budget sheet", "Monthly income and spending.")
    assert titles(search(giver.client, q="interviewing")) == ["Mock interviews"]


def test_all_words_must_match_and_better_matches_rank_first(app, giver):
    share(giver, "Networking scripts", "Phone scripts for networking calls and follow up.")
    share(giver, "Call log", "Log every phone call.")
    share(giver, "Networking events", "Find networking events near you.")
    assert titles(search(giver.client, q="networking phone")) == ["Networking scripts"]
    ranked = titles(search(giver.client, q="networking"))
    assert set(ranked) == {"Networking scripts", "Networking events"}


def test_exact_phrases(app, giver):
    share(giver, "Values list", "Work life balance matters to many clients.")
    share(giver, "Balance sheet", "Life at work: finding balance.")
    assert titles(search(giver.client, q='"work life balance"')) == ["Values list"]


def test_or_exclusions_and_prefixes(app, giver):
    share(giver, "Resume template", "A tidy resume layout.")
    share(giver, "Cover letter template", "A cover letter layout.")
    share(giver, "Interview checklist", "Before the interview.")
    assert sorted(titles(search(giver.client, q="resume OR interview"))) == [
        "Interview checklist",
        "Resume template",
    ]
    assert titles(search(giver.client, q="template -resume")) == ["Cover letter template"]
    assert titles(search(giver.client, q="interv*")) == ["Interview checklist"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "OR",
        "AND",
        "-",
        "NOT",
        "(((",
        "*",
        "a*",
        "title:",
        "\x00\x07 x",
        "x" * 10_000,
        "word " * 2000,
        '"" OR -',
        "^2",
        "[a TO z]",
        "你好 世界",
        "🙂",
    ],
)
def test_bad_queries_never_fail(app, giver, query):
    share(giver, "Resume template")
    response = giver.client.get("/search", query_string={"q": query})
    assert response.status_code == 200


def test_an_empty_query_browses_everything_newest_first(app, giver):
    for title in ("First sheet", "Second sheet", "Third sheet"):
        share(giver, title)
    assert titles(search(giver.client)) == ["Third sheet", "Second sheet", "First sheet"]


def test_facets_count_and_combine(app, giver):
    share(giver, "Quiz one", kind="quiz", tags="self-esteem, strengths", audience="youth")
    share(giver, "Quiz two", kind="quiz", tags="strengths", audience="adults")
    share(giver, "Worksheet", kind="worksheet", tags="strengths", audience="youth")
    page = search(giver.client)
    assert re.search(r"Quiz\s*</a> <span class=\"count\">2</span>", page)
    assert re.search(r"strengths\s*</a> <span class=\"count\">3</span>", page)
    assert titles(search(giver.client, kind="quiz")) == ["Quiz two", "Quiz one"]
    both = search(giver.client, kind="quiz", audience="youth")
    assert titles(both) == ["Quiz one"]
    assert titles(search(giver.client, tag=["strengths", "self-esteem"])) == ["Quiz one"]
    assert titles(search(giver.client, format="docx", licence="cc-by-4.0")) == [
        "Worksheet",
        "Quiz two",
        "Quiz one",
    ]


def test_snippets_show_why_a_file_matched_and_never_raw_html(app, giver):
    share(
        giver,
        "Odd words",
        "Intro text. The <script>alert('x')</script> tag and the wombat exercise follow.",
    )
    page = search(giver.client, q="wombat")
    assert "In sheet.docx:" in page
    assert "<mark>wombat</mark>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_a_snippet_is_found_deep_in_a_long_file(app, giver):
    from exchange.search import snippets

    filler = "Clients reflect on their week. " * (snippets.FIRST_SCAN // 30)
    share(giver, "Long guide", filler + "The okapi exercise closes the guide.")
    share(giver, "Short guide", "The okapi exercise opens the guide.")
    cards = result_cards(search(giver.client, q="okapi"))
    for title in ("Long guide", "Short guide"):
        assert "In sheet.docx:" in cards[title], title
        assert "<mark>okapi</mark> exercise" in cards[title], title


def test_sorting_by_newest_and_by_downloads(app, giver):
    first = share(giver, "Older planner", "planner")
    share(giver, "Newer planner", "planner")
    taker = Visitor(app.test_client())
    taker.register()
    with app.app_context():
        file_id = db.session.get(Resource, first).files[0].id
    taker.client.post(f"/resources/{first}/files/{file_id}")  # a confirmed starter download
    assert titles(search(giver.client, q="planner", sort="newest")) == [
        "Newer planner",
        "Older planner",
    ]
    assert titles(search(giver.client, q="planner", sort="downloads")) == [
        "Older planner",
        "Newer planner",
    ]


def test_pagination_and_result_count(app, giver, monkeypatch):
    monkeypatch.setattr(web_search, "PER_PAGE", 5)  # pages of 5: the same code, fewer shares
    for n in range(7):
        share(giver, f"Sheet {n:02d}", "common")
    page_one = search(giver.client, q="common")
    assert "7 results" in page_one
    assert len(titles(page_one)) == 5
    page_two = search(giver.client, q="common", page=2)
    assert len(titles(page_two)) == 2
    assert set(titles(page_one)).isdisjoint(titles(page_two))


def test_did_you_mean_when_nothing_matches(app, giver):
    share(giver, "Interview practice", "interview questions")
    page = search(giver.client, q="intervew")
    assert "Did you mean" in page
    assert ">interview</a>?" in page


def hide(app, resource_id: int, status: str) -> None:
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        resource.status = status
        from exchange.models import IndexChange

        IndexChange.record(resource.id)
        db.session.commit()


def test_results_and_facets_respect_who_may_see_what(app, giver):
    share(giver, "Public sheet", "ocelot", kind="quiz")
    hidden = share(giver, "Hidden sheet", "ocelot marzipanic", kind="guide")
    hide(app, hidden, Resource.HIDDEN)
    stranger = Visitor(app.test_client())
    stranger.register()
    for client in (stranger.client, app.test_client()):
        page = search(client, q="ocelot")
        assert titles(page) == ["Public sheet"]
        assert "1 result" in page
        assert "Guide" not in page, "facet counts leave out what the viewer cannot see"
        assert "Hidden sheet" not in search(client, q="marzipanic")
        assert "Did you mean" not in search(client, q="marzipanik")
    assert sorted(titles(search(giver.client, q="ocelot"))) == ["Hidden sheet", "Public sheet"]
    assert ">marzipanic</a>?" in search(giver.client, q="marzipanik"), "the owner may see it"
    with app.app_context():
        admin = db.session.scalars(select(Member).where(Member.email == stranger.email)).one()
        admin.is_admin = True
        db.session.commit()
    assert sorted(titles(search(stranger.client, q="ocelot"))) == ["Hidden sheet", "Public sheet"]


def test_deleted_and_edited_resources_leave_the_index(app, giver):
    resource_id = share(giver, "Temporary sheet", "pangolin")
    assert titles(search(giver.client, q="pangolin")) == ["Temporary sheet"]
    giver.client.post(f"/resources/{resource_id}/delete")
    assert titles(search(giver.client, q="pangolin")) == []


def hrefs(page: str) -> set[str]:
    return {html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)}


def test_links_keep_the_search_and_its_other_filters(app, giver):
    share(giver, "Quiz one", kind="quiz", tags="strengths, cv & résumé")
    share(giver, "Quiz two", kind="quiz", tags="strengths")
    share(giver, "Planner", kind="worksheet", tags="strengths")
    page = search(giver.client, q="worksheet", kind="quiz", page="1")
    links = hrefs(page)
    # Choosing a topic keeps the words and the kind, and starts again at page one.
    narrower = "/search?q=worksheet&kind=quiz&tag=cv+%26+r%C3%A9sum%C3%A9"
    assert narrower in links
    assert "/search?q=worksheet" in links, "the chosen kind's link removes it"
    assert "/search?tag=strengths" in links, "a card's topic searches for that topic"
    assert titles(giver.client.get(narrower).get_data(as_text=True)) == ["Quiz one"]


def test_result_cards_credit_the_giver_or_keep_them_anonymous(app, giver):
    share(giver, "Named planner", "planner")
    share(giver, "Quiet planner", "planner", credit_name="")
    hide(app, share(giver, "Hidden planner", "planner"), Resource.HIDDEN)
    page = search(giver.client, q="planner")
    cards = re.findall(r'<article class="card resource-card">.*?</article>', page, re.S)
    by_title = {titles(card)[0]: card for card in cards}
    assert 'Shared by <a href="/members/' in by_title["Named planner"]
    assert "Dale Briers (Collaborative Career Conversations)" in by_title["Named planner"]
    assert "Shared anonymously" in by_title["Quiet planner"]
    assert "Dale Briers" not in by_title["Quiet planner"]
    assert '<span class="badge badge-warn">Hidden</span>' in by_title["Hidden planner"]
    assert '<a class="tag" href="/search?tag=misc">misc</a>' in by_title["Hidden planner"]


def result_cards(page: str) -> dict[str, str]:
    cards = re.findall(r'<article class="card resource-card">.*?</article>', page, re.S)
    return {titles(card)[0]: card for card in cards}


def test_result_cards_show_a_change_at_once(app, giver):
    """Cards are kept rendered between searches; a change to what they show is never hidden."""
    from .fixtures.members import SHARE_DEFAULTS

    resource_id = share(giver, "Counted planner", "wombat")
    card = result_cards(search(giver.client, q="wombat"))["Counted planner"]
    assert "0 members downloaded" in card
    taker = Visitor(app.test_client())
    taker.register()
    taker.share_id(title="The taker's own sheet")  # a giver, so downloads are free
    with app.app_context():
        file_id = db.session.get(Resource, resource_id).files[0].id
    assert taker.client.get(f"/resources/{resource_id}/files/{file_id}").status_code == 200
    card = result_cards(search(giver.client, q="wombat"))["Counted planner"]
    assert "1 member downloaded" in card

    data = {**SHARE_DEFAULTS, "title": "Renamed planner", "tags": "wombats, careers"}
    data.pop("no_client_data")
    assert giver.client.post(f"/resources/{resource_id}/edit", data=data).status_code == 302
    card = result_cards(search(giver.client, q="wombat"))["Renamed planner"]
    assert '<a class="tag" href="/search?tag=wombats">wombats</a>' in card
    assert "1 member downloaded" in card


def test_result_cards_are_the_cards_every_list_shows(app, giver):
    share(giver, "Listed planner", "numbat", tags="numbats, careers")
    from_search = result_cards(search(giver.client, q="numbat"))["Listed planner"]
    listing = giver.client.get("/resources").get_data(as_text=True)
    from_listing = result_cards(listing)["Listed planner"]
    # The passage differs (search shows what matched); the rest of the card is the same.
    passage = re.compile(r'<p class="(?:snippet|synopsis)">.*?</p>', re.S)
    assert passage.sub("", from_search).split() == passage.sub("", from_listing).split()


def test_warming_reads_the_index_so_a_first_search_reads_no_postings(app, giver, monkeypatch):
    """What the gunicorn master does before forking: workers then start with the postings."""
    from exchange import search as search_mod
    from exchange.search import engine

    share(giver, "Warm planner", "Clients list their quagga goals.")
    assert search_mod.warm(app, seconds=0) == 0, "no time given, nothing read"
    assert search_mod.warm(app, seconds=30) > 0
    found = []  # postings read from the index files (a word absent from a field reads none)
    read = engine.read_postings
    monkeypatch.setattr(
        engine, "read_postings", lambda *args: found.append(len(read(*args).docs)) or read(*args)
    )
    joined = []  # terms joined over the index's segments and scored (absent ones join none)
    join = engine.IndexView._join_term
    monkeypatch.setattr(
        engine.IndexView, "_join_term", lambda *a: joined.append(len(join(*a).docs)) or join(*a)
    )
    assert titles(search(giver.client, q="quagga")) == ["Warm planner"]
    assert not any(found)
    assert not any(joined), "a searcher opened after warming finds its terms joined already"


# -- browse is search without words --------------------------------------------------------


def facet_count(page: str, label: str) -> int:
    found = re.search(rf"{label}\s*</a> <span class=\"count\">(\d+)</span>", page)
    return int(found.group(1)) if found else 0


def test_browse_is_the_catalogue_without_words_and_its_counts_agree_with_its_list(app, giver):
    share(giver, "Open quiz", kind="quiz")
    share(giver, "Members quiz", kind="quiz", visibility="members")
    thanked = share(giver, "Open worksheet", kind="worksheet")
    visitor = app.test_client()

    browse = visitor.get("/resources").get_data(as_text=True)
    assert "<h1>Browse the toolkit</h1>" in browse
    assert titles(browse) == ["Open worksheet", "Open quiz"], "members only stays out"
    assert "2 resources" in browse
    assert facet_count(browse, "Quiz") == 1 and facet_count(browse, "Worksheet") == 1
    quizzes = visitor.get("/resources?kind=quiz").get_data(as_text=True)
    assert titles(quizzes) == ["Open quiz"] and "1 resource with these filters" in quizzes
    assert 'href="/resources?kind=quiz&amp;audience=job-seekers"' in quizzes, "facets browse"
    member_view = search(giver.client, kind="quiz")
    assert facet_count(member_view, "Quiz") == len(titles(member_view)) == 2

    assert "Best match" not in browse, "nothing to be relevant to without words"
    assert "Best match" in search(visitor, q="open")
    taker = Visitor(app.test_client())
    taker.register()
    with app.app_context():
        file_id = db.session.get(Resource, thanked).files[0].id
    taker.client.post(f"/resources/{thanked}/files/{file_id}")  # a confirmed starter download
    taker.client.post(f"/resources/{thanked}/thanks", data={"note": "It worked well."})
    by_thanks = visitor.get("/resources?sort=thanks&kind=quiz").get_data(as_text=True)
    assert titles(by_thanks) == ["Open quiz"]
    by_thanks = visitor.get("/resources?sort=thanks").get_data(as_text=True)
    assert titles(by_thanks)[0] == "Open worksheet"
    assert '<option value="thanks" selected>' in by_thanks
    assert "1 thanks" in result_cards(by_thanks)["Open worksheet"]
    newest = visitor.get("/resources?sort=newest").get_data(as_text=True)
    assert titles(newest) == ["Open worksheet", "Open quiz"]


def test_every_word_searched_for_is_marked_in_titles_and_snippets_cut_at_whole_words(app, giver):
    filler = "Clients describe their favourite scarves and patterns in detail. " * 4
    text = f"Start with the vegan wool question. {filler}Then knit the keffiyeh together."
    share(giver, "Keffiyeh knitting circle", text)
    card = result_cards(search(giver.client, q="keffiyeh vegan"))["Keffiyeh knitting circle"]
    assert '<a href="/resources/' in card and "><mark>Keffiyeh</mark> knitting circle</a>" in card
    snippet = re.search(r'<p class="snippet">(.*?)</p>', card, re.S).group(1)
    assert "<mark>vegan</mark>" in snippet and "<mark>keffiyeh</mark>" in snippet
    shown = html.unescape(re.sub(r"<[^>]+>", "", snippet)).replace("In sheet.docx:", "")
    source_words = set(text.split())
    for word in shown.replace("…", " ").split():
        assert word in source_words, f"{word!r} is not a whole word of the text"
