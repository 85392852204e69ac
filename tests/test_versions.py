"""File versions: replacing a file keeps the old one, for its giver and for those who took it."""

from __future__ import annotations

import io
from hashlib import sha256

from sqlalchemy import select

from exchange import access, create_app
from exchange.extensions import db
from exchange.models import Download, FileVersion, Member, Resource, StoredFile
from exchange.ops import doctor
from exchange.storage import get_storage

from .conftest import base_config
from .fixtures.exchange import file_urls, page, share_txt, take
from .fixtures.members import SHARE_DEFAULTS, Visitor

NOTE = "fixed typos, added a second page"
# Served byte for byte (credit in the name only), so a test reads which version it got.
PLAIN = {"credit_placement": "properties"}


def replace(giver: Visitor, resource_id: int, file_id: int, text: str, note: str = NOTE):
    data = {
        **SHARE_DEFAULTS,
        **PLAIN,
        "title": "Strengths sheet",
        f"replace_{file_id}": (io.BytesIO(text.encode()), "sheet.txt"),
        f"note_{file_id}": note,
    }
    url = f"/resources/{resource_id}/edit"
    return giver.client.post(url, data=data, content_type="multipart/form-data")


def shared(app, giver: Visitor, text: str) -> tuple[int, int, str]:
    """A one-file resource: its id, its file's id and that file's download address."""
    resource_id = share_txt(giver, "Strengths sheet", text, **PLAIN)
    url = file_urls(app, resource_id)[0]
    return resource_id, int(url.rsplit("/", 1)[1]), url


def people(app) -> tuple[Visitor, Visitor, Visitor]:
    giver, taker, stranger = (Visitor(app.test_client()) for _ in range(3))
    giver.register(name="Dale Briers")
    taker.register(name="Sam Taker")
    stranger.register(name="Alex Stranger")
    return giver, taker, stranger


def search_titles(visitor: Visitor, words: str) -> str:
    return page(visitor, f"/search?q={words}")


def test_a_replaced_file_shows_its_history_and_search_reads_the_new_version(app, member):
    resource_id, file_id, _ = shared(app, member, "Name three strengths, zephyrine edition.")
    missing_note = replace(member, resource_id, file_id, "New text", note="")
    assert missing_note.status_code == 422
    assert "Please say what changed in the new version of “sheet" in missing_note.text
    assert (
        replace(
            member, resource_id, file_id, "Name five strengths, quillomatic edition."
        ).status_code
        == 302
    )
    text = page(member, f"/resources/{resource_id}")
    assert "Version history" in text and NOTE in text
    assert 'Version 2</span> <span class="badge">current</span>' in text
    assert "Version 1</span>" in text and "first shared" in text
    assert file_urls(app, resource_id) == [f"/resources/{resource_id}/files/{file_id}"]
    assert "Strengths sheet" in search_titles(member, "quillomatic")
    assert "Strengths sheet" not in search_titles(member, "zephyrine")


def test_a_member_who_took_the_old_version_gets_the_new_one_free(app):
    giver, taker, stranger = people(app)
    resource_id, file_id, url = shared(app, giver, "Version one of the sheet.")
    assert take(app, taker, resource_id).get_data() == b"Version one of the sheet."
    assert replace(giver, resource_id, file_id, "Version two of the sheet.").status_code == 302

    text = page(taker, f"/resources/{resource_id}")
    assert "Updated since you downloaded it." in text and "Get the new version" in text
    response = taker.client.get(url)  # a plain link: no starter download to confirm
    assert response.status_code == 200 and response.get_data() == b"Version two of the sheet."
    assert "Updated since you downloaded it." not in page(taker, f"/resources/{resource_id}")
    with app.app_context():
        assert db.session.get(Resource, resource_id).download_count == 1
        member = db.session.scalars(select(Member).where(Member.email == taker.email)).one()
        assert access.allowance_left(member) == 2, "one starter download spent, not two"
        taken = db.session.scalars(select(Download.file_version).order_by(Download.id))
        assert list(taken) == [1, 2]

    old = f"{url}/versions/1"
    assert taker.client.get(old).get_data() == b"Version one of the sheet."
    assert giver.client.get(old).get_data() == b"Version one of the sheet."
    refused = stranger.client.get(old)
    assert refused.status_code == 403 and "stay with its giver" in refused.text
    assert Visitor(app.test_client()).client.get(old).status_code == 302  # log in first
    assert taker.client.get(f"{url}/versions/7").status_code == 404
    assert 'href="' + old + '"' not in page(stranger, f"/resources/{resource_id}")


def test_old_versions_are_kept_until_the_resource_is_deleted(app, member):
    resource_id, file_id, _ = shared(app, member, "First.")
    replace(member, resource_id, file_id, "Second.")
    with app.app_context():
        versions = db.session.scalars(select(FileVersion)).all()
        assert [(v.number, v.sha256) for v in versions] == [(1, sha256(b"First.").hexdigest())]
        kept = {key for v in versions for key in v.storage_keys()}
        assert kept <= set(get_storage().iter_keys()), "an edit keeps every version's bytes"
        report = doctor.examine()
        assert not report.orphans and not report.missing and not report.damaged
    assert member.client.post(f"/resources/{resource_id}/delete").status_code == 302
    with app.app_context():
        assert list(get_storage().iter_keys()) == []
        assert db.session.scalars(select(FileVersion)).all() == []


def test_an_export_reimported_elsewhere_keeps_the_earlier_versions(app, member, tmp_path):
    resource_id, file_id, _ = shared(app, member, "First.")
    replace(member, resource_id, file_id, "Second.")
    dest = tmp_path / "export"
    assert app.test_cli_runner().invoke(args=["export", str(dest)]).exit_code == 0

    elsewhere = create_app(base_config(tmp_path / "new", f"sqlite:///{tmp_path / 'new.db'}"))
    with elsewhere.app_context():
        db.create_all()
    result = elsewhere.test_cli_runner().invoke(args=["import", str(dest)])
    assert "1 imported" in result.output, result.output
    with elsewhere.app_context():
        file = db.session.scalars(select(StoredFile)).one()
        assert (file.version, file.version_note) == (2, NOTE)
        [earlier] = file.versions
        with get_storage().open(earlier.storage_key) as fh:
            assert (earlier.number, fh.read()) == (1, b"First.")
