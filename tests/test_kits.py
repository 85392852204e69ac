"""Collections and workshop kits: building one, its running order, copies that credit the
original, the kit's zip (credited files in order, a running-order sheet with every credit),
give-to-get per resource, privacy, search, following, and the toolkit's move into collections.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

import pypdfium2 as pdfium
import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, func, insert, select, text

from exchange import create_app
from exchange.extensions import db
from exchange.models import Collection, Download, Member, Resource, StoredFile
from exchange.storage import get_storage

from .conftest import base_config
from .fixtures.exchange import member_id, page, people, share_txt
from .fixtures.members import Visitor, docx_bytes
from .test_migrations import empty_database_url  # noqa: F401 - the fixture, reused

DALE = "Dale Briers (Collaborative Career Conversations)"
OLU = "Olu Adeyemi"


def make_kit(visitor: Visitor, title: str, resource_ids: list[int], **fields) -> int:
    """Make a kit with the form, then add each resource from its page; returns the kit's id."""
    data = {"title": title, "purpose": "A morning workshop", "is_kit": "y", "public": "y"}
    response = visitor.client.post("/collections/new", data={**data, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    kit_id = int(re.search(r"/kits/(\d+)", response.headers["Location"]).group(1))
    for resource_id in resource_ids:
        added = visitor.client.post(
            f"/resources/{resource_id}/collect", data={"collection": kit_id}
        )
        assert added.status_code == 302
    return kit_id


def item_ids(text_: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="kit-item card" id="item-(\d+)"', text_)]


def running_order(text_: str) -> list[str]:
    """The titles of the kit's items, in the order its page lists them."""
    section = text_.split('id="items-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a href="/resources/\d+">([^<]+)</a>', section)


def kit_page(visitor: Visitor, kit_id: int, status: int = 200) -> str:
    return html.unescape(page(visitor, f"/kits/{kit_id}", status))


def download_kit(visitor: Visitor, kit_id: int) -> zipfile.ZipFile:
    response = visitor.client.post(f"/kits/{kit_id}/download")
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def sheet_text(archive: zipfile.ZipFile) -> str:
    pdf = pdfium.PdfDocument(archive.read("00 - Running order.pdf"))
    words = " ".join(p.get_textpage().get_text_range() for p in pdf)
    return " ".join(words.split())


def ledger_rows(app, visitor: Visitor) -> list[int]:
    with app.app_context():
        query = select(Download.resource_id).where(Download.member_id == member_id(app, visitor))
        return sorted(db.session.scalars(query))


# -- building a kit --------------------------------------------------------------------------


def test_a_kit_is_built_reordered_and_noted_and_its_resources_say_so(app):
    dale, ana = people(app, "Dale Briers", "Ana Planner")
    ids = [share_txt(dale, title) for title in ("Icebreaker", "Values card sort", "SMART goals")]
    kit_id = make_kit(ana, "Job-search morning", ids)
    shown = kit_page(ana, kit_id)
    assert running_order(shown) == ["Icebreaker", "Values card sort", "SMART goals"]
    first, _, third = item_ids(shown)

    ana.client.post(f"/kits/{kit_id}/items/{third}/move", data={"direction": "up"})
    ana.client.post(f"/kits/{kit_id}/items/{first}/move", data={"direction": "down"})
    note = {"note": "15 min, in pairs", "minutes": "15"}
    assert ana.client.post(f"/kits/{kit_id}/items/{third}/note", data=note).status_code == 302
    bad = ana.client.post(f"/kits/{kit_id}/items/{first}/note", data={"minutes": "lots"})
    assert bad.status_code == 302  # refused with the problem named, nothing saved

    shown = kit_page(Visitor(app.test_client()), kit_id)  # a visitor sees a shared kit
    assert running_order(shown) == ["SMART goals", "Icebreaker", "Values card sort"]
    assert "15 min, in pairs" in shown and "15 min (starts at 0:00)" in shown
    assert "“Job-search morning”, a workshop kit by Ana Planner" in shown
    assert shown.count("shared via Toolkit Exchange") == 3  # each item's credit line
    assert "Job-search morning" in page(dale, f"/resources/{ids[0]}")  # used in these kits
    impact = html.unescape(page(dale, f"/members/{member_id(app, dale)}/impact"))
    assert "used in <strong>1</strong> kit" in impact


def test_make_my_own_version_credits_the_original_and_followers_hear_of_it(app):
    dale, ana, olu = people(app, "Dale Briers", "Ana Planner", "Olu Follower")
    ids = [share_txt(dale, "Icebreaker"), share_txt(dale, "Mock interview checklist")]
    kit_id = make_kit(ana, "Job-search morning", ids)
    olu.client.post(f"/kits/{kit_id}/follow")
    response = dale.client.post(f"/kits/{kit_id}/copy")
    copy_id = int(re.search(r"/kits/(\d+)", response.headers["Location"]).group(1))
    copy = kit_page(dale, copy_id)
    assert "Private — only you can see it" in copy
    assert "based on “Job-search morning” by Ana Planner" in copy
    assert running_order(copy) == ["Icebreaker", "Mock interview checklist"]
    page(olu, f"/kits/{copy_id}", 404)  # a private copy is nobody else's business

    dale.client.post(
        f"/kits/{copy_id}/edit",
        data={"title": "My job-search morning", "is_kit": "y", "public": "y"},
    )
    news = html.unescape(page(olu, "/whats-new"))
    assert "Dale Briers made their own version of “Job-search morning”" in news
    assert "based on “Job-search morning” by Ana Planner" in kit_page(olu, copy_id)


# -- downloading a kit ----------------------------------------------------------------------


def test_the_kit_zip_holds_the_credited_files_in_order_and_a_sheet_with_every_credit(app):
    dale, olu, ana = people(app, "Dale Briers", "Olu Adeyemi", "Ana Planner")
    tracker = dale.share_id(
        files=[("tracker.docx", docx_bytes("Track every application.")), ("notes.txt", b"Notes")],
        title="Application tracker",
        credit_name=DALE,
    )
    cards = share_txt(olu, "Values card sort", credit_name=OLU)
    share_txt(ana, "Ana's own gift")  # Ana has shared: the whole toolkit is open to her
    kit_id = make_kit(ana, "Job-search morning", [cards, tracker])
    archive = download_kit(ana, kit_id)

    names = archive.namelist()
    assert names[0] == "00 - Running order.pdf"
    assert [n[:5] for n in names[1:]] == ["01 - ", "02 - ", "02 - "]
    assert names[1].startswith("01 - Values card sort") and "Olu Adeyemi" in names[1]
    assert names[2].startswith("02 - Application tracker") and names[2].endswith(".docx")
    with app.app_context():
        docx = db.session.scalar(select(StoredFile).where(StoredFile.format == "docx"))
        with get_storage().open(docx.credited_key) as credited:
            assert archive.read(names[2]) == credited.read()

    sheet = sheet_text(archive)
    assert "“Application tracker” by Dale Briers (Collaborative Career Conversations)" in sheet
    assert "“Values card sort” by Olu Adeyemi, shared via Toolkit Exchange" in sheet
    assert "“Job-search morning”, a workshop kit by Ana Planner" in sheet
    assert sheet.index("Values card sort") < sheet.index("Application tracker")
    # A row per file taken (the tracker has two), each resource counted once.
    assert ledger_rows(app, ana) == sorted([cards, tracker, tracker])
    with app.app_context():
        counts = [db.session.get(Resource, rid).download_count for rid in (cards, tracker)]
    assert counts == [1, 1]


def test_a_newcomer_sees_what_the_kit_leaves_out_and_takes_the_rest(make_app):
    app = make_app(STARTER_DOWNLOADS=1)
    dale, sam = people(app, "Dale Briers", "Sam Newcomer")
    kept = share_txt(dale, "Interview practice cards", access="sharers")
    open_ones = [share_txt(dale, "Icebreaker"), share_txt(dale, "SMART goals")]
    kit_id = make_kit(dale, "Job-search morning", [kept, *open_ones])

    shown = kit_page(sam, kit_id)
    listed = shown.split("data-not-included", 1)[1].split("</div>", 1)[0]
    assert "“Interview practice cards” — The giver has kept this resource" in listed
    assert "“SMART goals” — This kit uses up your 1 starter downloads" in listed
    assert "Downloading this kit uses 1 of your 1 starter downloads" in shown

    archive = download_kit(sam, kit_id)
    assert [n[:18] for n in archive.namelist()] == ["00 - Running order", "02 - Icebreaker — "]
    sheet = sheet_text(archive)
    assert sheet.count("Not included:") == 2 and "Interview practice cards" in sheet
    assert ledger_rows(app, sam) == [open_ones[0]]


# -- who sees what -----------------------------------------------------------------------------


def test_private_kits_are_404_to_others_and_gone_resources_only_their_owner_sees(app):
    dale, ana, olu = people(app, "Dale Briers", "Ana Planner", "Olu Other")
    ids = [share_txt(dale, "Icebreaker"), share_txt(dale, "Values card sort")]
    kit_id = make_kit(ana, "Draft morning", ids, public="")
    for visitor in (olu, Visitor(app.test_client())):
        assert visitor.client.get(f"/kits/{kit_id}").status_code == 404
        assert visitor.client.post(f"/kits/{kit_id}/download").status_code in (302, 404)
    assert olu.client.post(f"/kits/{kit_id}/copy").status_code == 404

    ana.client.post(f"/kits/{kit_id}/edit", data={"title": "Morning", "is_kit": "y", "public": "y"})
    with app.app_context():
        db.session.get(Resource, ids[0]).status = Resource.HIDDEN
        db.session.commit()
    dale.client.post(f"/resources/{ids[1]}/delete")
    assert running_order(kit_page(Visitor(app.test_client()), kit_id)) == []
    mine = kit_page(ana, kit_id)
    assert mine.count("no longer available") == 2
    assert "“Icebreaker”" in mine and "“Values card sort”" in mine


def test_search_finds_a_kit_by_a_word_of_its_notes_above_the_resources(app):
    dale, ana = people(app, "Dale Briers", "Ana Planner")
    ids = [share_txt(dale, "Icebreaker")]
    kit_id = make_kit(ana, "Job-search morning", ids)
    item = item_ids(kit_page(ana, kit_id))[0]
    ana.client.post(f"/kits/{kit_id}/items/{item}/note", data={"note": "warm-up in trios"})
    found = page(Visitor(app.test_client()), "/search?q=trios")
    assert "Workshop kits" in found and f'href="/kits/{kit_id}"' in found
    assert "Workshop kits" not in page(Visitor(app.test_client()), "/search?q=icebreaker&page=2")
    draft = make_kit(ana, "Secret trios plan", ids, public="")
    assert f'href="/kits/{draft}"' not in page(dale, "/search?q=trios")


def test_my_toolkit_is_the_default_collection_and_cannot_be_deleted(app):
    dale, ana = people(app, "Dale Briers", "Ana Planner")
    resource_id = share_txt(dale, "Icebreaker")
    ana.client.post(f"/resources/{resource_id}/save")
    with app.app_context():
        toolkit = db.session.scalar(select(Collection).where(Collection.default_of.is_not(None)))
        toolkit_id = toolkit.id
    assert "Icebreaker" in page(ana, "/toolkit")
    assert ana.client.post(f"/kits/{toolkit_id}/delete").status_code == 409
    assert ana.client.get(f"/kits/{toolkit_id}").status_code == 200
    assert dale.client.get(f"/kits/{toolkit_id}").status_code == 404
    shared = ana.client.post(f"/kits/{toolkit_id}/edit", data={"title": "x", "public": "y"})
    assert shared.status_code == 422 and "stays private" in html.unescape(shared.text)
    assert "My toolkit" in page(ana, "/collections")
    assert "Ma boîte à outils</a></h2>" in page(ana, "/collections?hl=fr")  # stored in English
    untitled = ana.client.post("/collections/new", data={"purpose": "Kept as typed"})
    assert untitled.status_code == 422
    assert "Please give it a title." in untitled.text and "Kept as typed" in untitled.text


# -- the migration ---------------------------------------------------------------------------


@pytest.mark.slow
def test_saved_toolkits_move_into_each_members_default_collection(
    empty_database_url: str,  # noqa: F811 - the fixture
    tmp_path,
) -> None:
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade(revision="b8e3f1a6c2d9")
        member, resources = _member_with_resources(("Icebreaker", "Values card sort"))
        for resource_id, saved in zip(resources, ("2026-01-02", "2026-01-01"), strict=True):
            db.session.execute(
                text("INSERT INTO toolkit_items VALUES (:m, :r, :saved)"),
                {"m": member, "r": resource_id, "saved": f"{saved} 10:00:00+00:00"},
            )
        db.session.commit()
        upgrade()
        toolkit = db.session.scalar(select(Collection).where(Collection.default_of == member))
        assert toolkit.title == "My toolkit" and not toolkit.public
        assert [i.resource.title for i in toolkit.items] == ["Values card sort", "Icebreaker"]
        assert db.session.scalar(select(func.count(Collection.id))) == 1
        db.session.remove()
        db.engine.dispose()


def _member_with_resources(titles: tuple[str, ...]) -> tuple[int, list[int]]:
    member = _insert_as_then(Member, email="ana@example.org", name="Ana", password_hash="x")
    resources = [
        _insert_as_then(
            Resource,
            owner_id=member,
            title=title,
            synopsis="s",
            how_used="h",
            kind="worksheet",
            audience="job-seekers",
            licence="cc-by-4.0",
        )
        for title in titles
    ]
    return member, resources


def _insert_as_then(model, **values) -> int:
    """Insert a row into the table as the database has it at this older revision: only
    its columns, each missing one taking the model's default. The models have grown
    columns since, which an ORM insert would name."""
    table = Table(model.__tablename__, MetaData(), autoload_with=db.session.connection())
    row = {}
    for column in table.columns:
        default = getattr(model.__table__.c.get(column.name), "default", None)
        if column.name in values:
            row[column.name] = values[column.name]
        elif default is not None and default.is_scalar:
            row[column.name] = default.arg
        elif default is not None and default.is_callable:
            row[column.name] = default.arg(None)
    return db.session.execute(insert(table).values(row).returning(table.c.id)).scalar_one()
