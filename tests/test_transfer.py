"""``exchange import`` and ``exchange export``: toolkits in, everything out, and back again.

The toolkit folder is built at test time from real corpus documents (copied under
``tmp_path`` only), with a CSV written the way a counsellor would fill a spreadsheet.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from exchange.extensions import db
from exchange.models import Download, Member, Resource, StoredFile
from exchange.storage import get_storage
from tests.conftest import base_config
from tests.fixtures.corpus import corpus_file
from tests.fixtures.exchange import take
from tests.fixtures.members import PASSWORD, Visitor

CORPUS_FILES = {
    "budget-worksheet.docx": "groundtruth/textract-raw_text.docx",
    "four-page-guide.pdf": "pdf/sample-files-pdflatex-4-pages.pdf",
    "skills-matrix.xlsx": "groundtruth/textract-raw_text.xlsx",
}
HEADER = ["Files", "Title", "Synopsis", "How I use it", "Tags", "Kind", "Audience", "Licence"]


def unmarked(page: str) -> str:
    """A results page's text with the words searched for unmarked (titles mark them too)."""
    return re.sub(r"</?mark>", "", page)


def toolkit_row(files: str, title: str, kind: str = "Worksheet", **extra: str) -> list[str]:
    return [
        files,
        title,
        extra.get("synopsis", f"{title}: a tool I use with clients."),
        extra.get("how_used", "In the second session, then as homework."),
        extra.get("tags", "job search, Skills"),
        kind,
        extra.get("audience", "Job seekers"),
        extra.get("licence", "CC BY 4.0"),
    ]


GOOD_ROWS = [
    toolkit_row("budget-worksheet.docx", "Budget worksheet"),
    toolkit_row("four-page-guide.pdf", "Four page guide", kind="guide", licence="cc-by-nc-4.0"),
    toolkit_row("skills-matrix.xlsx; budget-worksheet.docx", "Skills pack", kind="Spreadsheet"),
]


@pytest.fixture
def toolkit(tmp_path: Path) -> Path:
    """A counsellor's folder: three real documents and a CSV describing them."""
    folder = tmp_path / "toolkit"
    folder.mkdir()
    for name, relpath in CORPUS_FILES.items():
        shutil.copyfile(corpus_file(relpath), folder / name)
    write_csv(folder / "toolkit.csv", GOOD_ROWS)
    return folder


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)


@pytest.fixture
def owner(app) -> Visitor:
    visitor = Visitor(app.test_client())
    assert visitor.register(name="Dale Briers").status_code == 302
    return visitor


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def resources_of(app, email: str) -> list[Resource]:
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == email))
        return list(
            db.session.scalars(
                select(Resource).where(Resource.owner_id == member.id).order_by(Resource.id)
            )
        )


# -- a counsellor's toolkit -----------------------------------------------------------------


def test_a_toolkit_folder_is_shared_as_if_through_the_form(app, owner, toolkit):
    result = run(app, "import", str(toolkit), "--owner", owner.email)
    assert result.exit_code == 0, result.output
    assert "3 imported, 0 already there, 0 with problems" in result.output

    with app.app_context():
        rows = db.session.scalars(select(Resource).order_by(Resource.id)).all()
        assert [r.title for r in rows] == ["Budget worksheet", "Four page guide", "Skills pack"]
        assert [r.kind for r in rows] == ["worksheet", "guide", "spreadsheet"]
        assert rows[0].tag_names == ["job search", "skills"]
        assert rows[0].credit_name == "Dale Briers"  # the owner's own credit by default
        assert [f.original_name for f in rows[2].files] == [
            "skills-matrix.xlsx",
            "budget-worksheet.docx",
        ]
        docx = rows[0].files[0]
        assert docx.format == "docx" and docx.credited_key  # credited like a web share
        word = max(re.findall(r"[A-Za-z]{9,}", docx.text), key=len)
    page = unmarked(owner.client.get(f"/search?q={word}").get_data(as_text=True))
    assert "Budget worksheet" in page  # found by a word inside the file


def test_importing_the_same_toolkit_twice_adds_nothing(app, owner, toolkit):
    assert run(app, "import", str(toolkit), "--owner", owner.email).exit_code == 0
    again = run(app, "import", str(toolkit), "--owner", owner.email)
    assert again.exit_code == 0, again.output
    assert "0 imported, 3 already there" in again.output
    assert len(resources_of(app, owner.email)) == 3


def test_a_changed_file_or_title_is_a_new_resource(app, owner, toolkit):
    assert run(app, "import", str(toolkit), "--owner", owner.email).exit_code == 0
    rows = [toolkit_row("budget-worksheet.docx", "Budget worksheet, second edition")]
    write_csv(toolkit / "toolkit.csv", [*GOOD_ROWS, *rows])
    result = run(app, "import", str(toolkit), "--owner", owner.email)
    assert "1 imported, 3 already there" in result.output
    assert len(resources_of(app, owner.email)) == 4


def test_bad_rows_are_reported_by_number_and_nothing_of_them_is_imported(app, owner, toolkit):
    (toolkit / "program.docx").write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 8)
    write_csv(
        toolkit / "toolkit.csv",
        [
            GOOD_ROWS[0],
            toolkit_row("four-page-guide.pdf", "Odd kind", kind="Poster"),
            toolkit_row("budget-worksheet.docx; nowhere.pdf", "Missing file"),
            toolkit_row("../toolkit.csv", "Outside the folder"),
            toolkit_row("skills-matrix.xlsx", ""),
            toolkit_row("program.docx", "Not really a document"),
        ],
    )
    result = run(app, "import", str(toolkit), "--owner", owner.email)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("row 3: kind “Poster” is not one of") for line in lines)
    assert "row 4: file “nowhere.pdf” not found" in result.output
    assert "row 5: file “../toolkit.csv” is outside the import folder" in result.output
    assert "row 6: title missing" in result.output
    assert any(line.startswith("row 7: ") for line in lines)
    assert "1 imported, 0 already there, 5 with problems" in result.output
    assert [r.title for r in resources_of(app, owner.email)] == ["Budget worksheet"]
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 1


def test_check_only_reports_and_imports_nothing(app, owner, toolkit):
    result = run(app, "import", str(toolkit), "--owner", owner.email, "--check")
    assert result.exit_code == 0, result.output
    assert "nothing imported: 3 rows would be imported, 0 already there, 0 refused" in (
        result.output
    )
    assert resources_of(app, owner.email) == []


def test_check_only_counts_the_rows_it_would_import_and_those_it_refuses(app, owner, toolkit):
    (toolkit / "program.docx").write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 8)
    assert run(app, "import", str(toolkit), "--owner", owner.email).exit_code == 0
    rows = [
        toolkit_row("budget-worksheet.docx", "Budget worksheet, second edition"),
        toolkit_row("four-page-guide.pdf", "Odd kind", kind="Poster"),
        toolkit_row("program.docx", "Not really a document"),
    ]
    write_csv(toolkit / "toolkit.csv", [*GOOD_ROWS, *rows])
    result = run(app, "import", str(toolkit), "--owner", owner.email, "--check")
    assert result.exit_code == 1
    assert "row 6: kind “Poster” is not one of" in result.output
    assert "row 7: " in result.output
    assert "nothing imported: 1 row would be imported, 3 already there, 2 refused" in (
        result.output
    )
    assert len(resources_of(app, owner.email)) == 3


CREDIT_HEADER = [*HEADER, "Credit"]


@pytest.mark.parametrize(
    ("header", "cell", "credited"),
    [
        (HEADER, None, "Dale Briers"),  # no credit column
        (CREDIT_HEADER, "", "Dale Briers"),  # an empty cell, as a spreadsheet leaves it
        (CREDIT_HEADER, "  ", "Dale Briers"),
        (CREDIT_HEADER, "Dale B. (Northside Careers)", "Dale B. (Northside Careers)"),
        (CREDIT_HEADER, "Anonymous", ""),  # said in so many words
    ],
)
def test_the_credit_cell_defaults_to_the_owner_as_the_share_form_does(
    app, owner, toolkit, header, cell, credited
):
    row = toolkit_row("budget-worksheet.docx", "Budget worksheet")
    with open(toolkit / "toolkit.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerow(row if cell is None else [*row, cell])
    assert run(app, "import", str(toolkit), "--owner", owner.email).exit_code == 0
    (resource,) = resources_of(app, owner.email)
    assert resource.credit_name == credited
    page = owner.client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert ("Shared anonymously" in page) == (not credited)


def test_a_toolkit_import_needs_a_known_owner(app, toolkit):
    result = run(app, "import", str(toolkit), "--owner", "stranger@example.org")
    assert result.exit_code == 2
    assert "no member with the email stranger@example.org" in result.output
    assert run(app, "import", str(toolkit)).exit_code == 2


# -- export and re-import ---------------------------------------------------------------------


@pytest.fixture
def busy_site(app, owner, toolkit) -> Visitor:
    """A site with a toolkit, a second member who shared and downloaded, and a ledger."""
    assert run(app, "import", str(toolkit), "--owner", owner.email).exit_code == 0
    taker = Visitor(app.test_client())
    taker.register()
    taker.share_id(title="Networking map")
    first = resources_of(app, owner.email)[0]
    page = taker.client.get(f"/resources/{first.id}").get_data(as_text=True)
    link = re.search(rf'href="(/resources/{first.id}/files/\d+)"', page).group(1)
    assert taker.client.get(link).headers["Content-Disposition"].startswith("attachment")
    return taker


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_writes_rows_files_and_checksums(app, busy_site, tmp_path):
    dest = tmp_path / "export"
    result = run(app, "export", str(dest))
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["format"] == "toolkit-exchange-export"
    assert manifest["tables"]["resources"] == 4
    assert manifest["tables"]["downloads"] == 1
    assert manifest["missing"] == []
    with app.app_context():
        originals = {f.storage_key: f.sha256 for f in db.session.scalars(select(StoredFile))}
    for key, digest in originals.items():
        assert sha256_of(dest / "files" / key) == digest
    for line in (dest / "files.sha256").read_text().splitlines():
        digest, key = line.split("  ")
        assert sha256_of(dest / "files" / key) == digest
    assert (dest.stat().st_mode & 0o077) == 0  # holds password hashes: owner only


def test_export_resumes_and_refetches_only_what_is_damaged(app, busy_site, tmp_path):
    dest = tmp_path / "export"
    first = run(app, "export", str(dest)).output
    fetched = int(re.search(r"(\d+) files fetched", first).group(1))
    assert fetched >= 5  # five originals, plus credited copies and previews
    again = run(app, "export", str(dest)).output
    assert f"0 files fetched, {fetched} already present and verified" in again
    damaged = next(p for p in (dest / "files").rglob("*") if p.is_file())
    damaged.write_bytes(b"truncated")
    third = run(app, "export", str(dest)).output
    assert f"1 files fetched, {fetched - 1} already present" in third


def test_an_export_reimported_into_a_new_site_keeps_members_files_and_counts(
    app, busy_site, owner, tmp_path
):
    dest = tmp_path / "export"
    assert run(app, "export", str(dest)).exit_code == 0
    with app.app_context():
        before = {r.title: (r.download_count, r.status, r.created_at) for r in _all(Resource)}

    new_site = _fresh_site(tmp_path / "new-site")
    result = run(new_site, "import", str(dest))
    assert result.exit_code == 0, result.output
    assert "4 imported, 0 already there, 0 with problems" in result.output
    assert "2 member accounts created." in result.output
    with new_site.app_context():
        after = {r.title: (r.download_count, r.status, r.created_at) for r in _all(Resource)}
        assert db.session.scalar(select(func.count(Download.id))) == 1
    assert after == before

    # The members can sign in with their old passwords and find their resources.
    visitor = Visitor(new_site.test_client())
    assert visitor.login(owner.email, PASSWORD).status_code == 302
    page = unmarked(visitor.client.get("/search?q=Budget").get_data(as_text=True))
    assert "Budget worksheet" in page

    again = run(new_site, "import", str(dest))
    assert "0 imported, 4 already there" in again.output


def _all(model):
    return db.session.scalars(select(model)).all()


def _fresh_site(folder: Path):
    """Another site with its own (empty) database, file folder and index."""
    from exchange import create_app

    app = create_app(base_config(folder, f"sqlite:///{folder / 'site.sqlite3'}"))
    with app.app_context():
        db.create_all()
    return app


def test_an_import_whose_history_fails_keeps_nothing_of_that_resource_and_can_run_again(
    app, owner, tmp_path
):
    resource_id = owner.share_id(title="Values card sort")
    taker = Visitor(app.test_client())
    taker.register()
    assert take(app, taker, resource_id).status_code == 200
    dest = tmp_path / "export"
    assert run(app, "export", str(dest)).exit_code == 0
    ledger = dest / "rows" / "downloads.jsonl"
    good = ledger.read_text()
    ledger.write_text(re.sub(r'"created_at": "[^"]*"', '"created_at": "last Tuesday"', good))

    new_site = _fresh_site(tmp_path / "new-site")
    result = run(new_site, "import", str(dest))
    assert result.exit_code == 1
    assert "row 1: not imported: Invalid isoformat string: 'last Tuesday'" in result.output
    with new_site.app_context():
        assert _all(Resource) == [] and _all(StoredFile) == []
        assert list(get_storage().iter_keys()) == [], "stored bytes are deleted with it"

    ledger.write_text(good)
    again = run(new_site, "import", str(dest))
    assert "1 imported, 0 already there, 0 with problems" in again.output
    with new_site.app_context():
        [resource] = _all(Resource)
        assert (resource.title, resource.download_count) == ("Values card sort", 1)
        assert db.session.scalar(select(func.count(Download.id))) == 1


def test_a_members_only_resource_is_still_members_only_after_export_and_import(
    app, owner, tmp_path
):
    owner.share_id(title="Members-only values sort", visibility="members")
    owner.share_id(title="Open values sort")
    dest = tmp_path / "export"
    assert run(app, "export", str(dest)).exit_code == 0

    new_site = _fresh_site(tmp_path / "new-site")
    assert run(new_site, "import", str(dest)).exit_code == 0
    with new_site.app_context():
        found = {r.title: r.visibility for r in _all(Resource)}
    assert found == {"Members-only values sort": "members", "Open values sort": "public"}
    passer_by = Visitor(new_site.test_client())
    page = unmarked(passer_by.client.get("/search?q=values").get_data(as_text=True))
    assert "Open values sort" in page
    assert "Members-only values sort" not in page


def test_the_languages_of_a_resource_and_its_files_survive_export_and_import(app, owner, tmp_path):
    owner.share_id(title="Hoja de seguimiento", language="es")  # chosen: its file is English
    with app.app_context():
        db.session.execute(update(StoredFile).values(language="de"))  # not what reading tells
        db.session.commit()
    dest = tmp_path / "export"
    assert run(app, "export", str(dest)).exit_code == 0

    new_site = _fresh_site(tmp_path / "new-site")
    assert run(new_site, "import", str(dest)).exit_code == 0
    with new_site.app_context():
        [resource] = _all(Resource)
        assert (resource.language, resource.files[0].language) == ("es", "de")


def test_a_toolkit_csv_may_keep_a_resource_to_members(app, owner, toolkit):
    with open(toolkit / "toolkit.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*HEADER, "Who can find it"])
        writer.writerow([*GOOD_ROWS[0], "Signed-in members only"])
    result = run(app, "import", str(toolkit), "--owner", owner.email)
    assert result.exit_code == 0, result.output
    assert [r.visibility for r in resources_of(app, owner.email)] == ["members"]
