"""Moving toolkits in and out: ``exchange import`` and ``exchange export``.

Import takes either a counsellor's existing toolkit (a folder of files plus a CSV that
describes them) or a folder written by ``exchange export``. Every resource goes through
:func:`exchange.resources.operations.share_resource`, so its files are identified, read, credited,
previewed and indexed exactly as if shared through the web form.

**Idempotency.** A resource is "already there" when the same owner has a resource with
the same title (ignoring case and spacing) made of files with the same contents (the
multiset of their SHA-256 digests). Re-running an import, or importing an export into
the site it came from, therefore adds nothing, while a corrected file or a new title is
imported as a new resource. No column has to be invented and kept by hand.

**Validation.** Every CSV row is checked before anything is stored; a row with a problem
is reported (``row N: what is wrong``, N as a spreadsheet numbers it, the header being
row 1) and nothing of it is imported, while good rows still are.

Export writes ``DEST/rows/<table>.jsonl`` (every table, one JSON object per row),
``DEST/files/<key>`` (every stored object the rows refer to), ``DEST/files.sha256``
(``sha256sum -c`` format, also how a resumed export knows what it already has) and
``DEST/manifest.json``. It is resumable: objects already present with the right digest
are not fetched again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, func, select
from tqdm import tqdm

from .. import counts, search
from ..extensions import db
from ..files import UnsupportedFile, UploadRefused, detect
from ..models import Download, IndexChange, Member, Resource, Taker
from ..resources import operations
from ..storage import ObjectNotFound, get_storage
from ..vocab import (
    ACCESS,
    AUDIENCES,
    CREDIT_IN_PROPERTIES,
    CREDIT_ON_PAGE,
    CREDIT_PLACEMENTS,
    KINDS,
    LICENCES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    VISIBILITY,
    parse_tags,
)

log = logging.getLogger(__name__)

EXPORT_FORMAT = "toolkit-exchange-export"
EXPORT_VERSION = 1
CHUNK = 1024 * 1024
FIELD_LIMITS = {"title": 200, "synopsis": 2000, "how_used": 4000, "credit": 200}
REQUIRED = ("files", "title", "synopsis", "how_used", "kind", "audience", "licence")
HEADER_ALIASES = {
    "file": "files",
    "how i use it": "how_used",
    "how used": "how_used",
    "credit me as": "credit",
    "license": "licence",
    "who can download": "access",
    "who can find it": "visibility",
    "where my credit goes": "credit_placement",
    "where your credit goes": "credit_placement",
    "credit on the page": "credit_placement",
    "credit.txt": "credit_txt",
    "credit txt": "credit_txt",
}
FILE_SEPARATORS = re.compile(r"[;|\n]")
ANONYMOUS = "anonymous"  # the credit cell's word for sharing without a name


# -- reports --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, row by row; ``problems`` name the row and what is wrong."""

    imported: list[tuple[int, int]] = field(default_factory=list)  # (row, resource id)
    existing: list[tuple[int, int]] = field(default_factory=list)  # (row, resource id)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row, message)
    notes: list[tuple[int, str]] = field(default_factory=list)  # imported, but look at it
    members_created: int = 0
    check_only: bool = False
    would_import: list[int] = field(default_factory=list)  # rows, when only checking

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"row {row}: {message}" for row, message in sorted(self.problems)]
        out += [f"row {row}: {message}" for row, message in sorted(self.notes)]
        out.append(self._summary())
        if self.members_created:
            out.append(f"{self.members_created} member accounts created.")
        return out

    def _summary(self) -> str:
        if self.check_only:
            would = len(self.would_import)
            return (
                f"Checked only, nothing imported: {would} {_rows(would)} would be imported, "
                f"{len(self.existing)} already there, {len(self.problems)} refused "
                "(reasons above)."
            )
        return (
            f"{len(self.imported)} imported, {len(self.existing)} already there, "
            f"{len(self.problems)} with problems (nothing imported from those)."
        )


def _rows(count: int) -> str:
    return "row" if count == 1 else "rows"


@dataclass
class ExportReport:
    tables: dict[str, int]
    fetched: int
    kept: int
    missing: list[str]

    def lines(self) -> list[str]:
        rows = sum(self.tables.values())
        out = [
            f"{rows} rows from {len(self.tables)} tables; {self.fetched} files fetched, "
            f"{self.kept} already present and verified."
        ]
        out += [f"missing from storage: {key}" for key in self.missing]
        return out


# -- the CSV of a counsellor's toolkit ------------------------------------------------------


@dataclass
class ToolkitRow:
    """One CSV row, checked: everything needed to share it."""

    row: int
    paths: list[Path]
    details: operations.ResourceDetails


def import_toolkit(
    folder: Path, csv_path: Path, owner: Member, check_only: bool = False
) -> ImportReport:
    """Share every good row of the CSV as ``owner``; report the bad ones and skip them."""
    report = ImportReport(check_only=check_only)
    rows = []
    for number, raw in read_csv(csv_path):
        checked = check_row(number, raw, folder, owner)
        if isinstance(checked, str):
            report.problems.append((number, checked))
        else:
            rows.append(checked)
    handle = _check_share_row if check_only else _share_row
    for item in _progress(rows, "Checking" if check_only else "Importing"):
        handle(item, owner, report)
    return report


def read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows keyed by canonical column names, numbered as a spreadsheet shows them."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        reader = csv.reader(fh, dialect)
        header = [_canonical(name) for name in next(reader, [])]
        for number, values in enumerate(reader, start=2):
            if any(value.strip() for value in values):
                yield number, dict(zip(header, (v.strip() for v in values), strict=False))


def _canonical(name: str) -> str:
    cleaned = " ".join(name.strip().lower().replace("_", " ").split())
    return HEADER_ALIASES.get(cleaned, cleaned.replace(" ", "_"))


def check_row(number: int, raw: dict[str, str], folder: Path, owner: Member) -> ToolkitRow | str:
    """The row ready to share, or a sentence saying what is wrong with it."""
    missing = [name for name in REQUIRED if not raw.get(name)]
    if missing:
        return f"{', '.join(missing)} missing"
    for name, limit in FIELD_LIMITS.items():
        if len(raw.get(name, "")) > limit:
            return f"{name} is longer than {limit} characters"
    try:
        choices = {
            "kind": _choice(raw["kind"], KINDS, "kind"),
            "audience": _choice(raw["audience"], AUDIENCES, "audience"),
            "licence": _choice(raw["licence"], LICENCES, "licence"),
            "access": _choice(raw.get("access") or "everyone", ACCESS, "access"),
            "visibility": _choice(raw.get("visibility") or "public", VISIBILITY, "visibility"),
            "credit_placement": _placement(raw.get("credit_placement", "")),
            "credit_txt": _yes_no(raw.get("credit_txt", ""), "credit.txt"),
        }
        tags = _tags(raw.get("tags", ""))
        paths = _files(raw["files"], folder)
    except ValueError as exc:
        return str(exc)
    details = operations.ResourceDetails(
        title=raw["title"],
        synopsis=raw["synopsis"],
        how_used=raw["how_used"],
        tags=tags,
        credit_name=credit_from_cell(raw.get("credit", ""), owner),
        **choices,
    )
    return ToolkitRow(number, paths, details)


def credit_from_cell(cell: str, owner: Member) -> str:
    """The credit a CSV row asks for, as the share form would give it.

    The form starts filled in with the member's own credit, so a missing column or an
    empty cell (nothing typed over it) means that credit too; only the word "anonymous"
    (in any case) shares without a name, as clearing the form's field does.
    """
    cell = cell.strip()
    if cell.casefold() == ANONYMOUS:
        return ""
    return cell or owner.default_credit


def _placement(value: str) -> str:
    """Where the credit goes: a code or label, or yes/no for "credit on the page"."""
    answer = {"yes": CREDIT_ON_PAGE, "no": CREDIT_IN_PROPERTIES, "": CREDIT_ON_PAGE}
    return answer.get(value.strip().lower()) or _choice(
        value, CREDIT_PLACEMENTS, "credit placement"
    )


def _yes_no(value: str, name: str) -> bool:
    """A yes/no cell, as a spreadsheet may write it; empty is no."""
    answers = {"yes": True, "y": True, "true": True, "1": True}
    answers |= {"no": False, "n": False, "false": False, "0": False, "": False}
    if value.strip().lower() not in answers:
        raise ValueError(f"{name} “{value}” is not yes or no")
    return answers[value.strip().lower()]


def _choice(value: str, vocab: dict[str, str], name: str) -> str:
    """A vocabulary code from its code or its label, in any case."""
    wanted = value.strip().lower()
    for code, label in vocab.items():
        if wanted in (code.lower(), label.lower()):
            return code
    raise ValueError(f"{name} “{value}” is not one of: {', '.join(vocab)}")


def _tags(text: str) -> list[str]:
    tags = parse_tags(text)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"more than {MAX_TAGS} tags")
    too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
    if too_long:
        raise ValueError(f"tag “{too_long[0][:60]}” is longer than {MAX_TAG_LENGTH} characters")
    return tags


def _files(cell: str, folder: Path) -> list[Path]:
    """The files a row names, each inside the import folder and not empty."""
    root = folder.resolve()
    paths, total = [], 0
    for name in (n.strip() for n in FILE_SEPARATORS.split(cell)):
        if not name:
            continue
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"file “{name}” is outside the import folder")
        if not path.is_file():
            raise ValueError(f"file “{name}” not found in {folder}")
        if path.stat().st_size == 0:
            raise ValueError(f"file “{name}” is empty")
        paths.append(path)
        total += path.stat().st_size
    if not paths:
        raise ValueError("files missing")
    limit = current_app.config["MAX_UPLOAD_MB"]
    if total > limit * 1024 * 1024:
        raise ValueError(f"the files add up to more than {limit} MB")
    return paths


def _share_row(item: ToolkitRow, owner: Member, report: ImportReport) -> None:
    digests = [file_sha256(path) for path in item.paths]
    found = find_existing(owner, item.details.title, digests)
    if found is not None:
        report.existing.append((item.row, found))
        return
    try:
        resource = share_from_paths(owner, item.details, item.paths)
    except UploadRefused as exc:
        db.session.rollback()
        report.problems.append((item.row, str(exc)))
        return
    report.imported.append((item.row, resource.id))
    if resource.status == Resource.DRAFT:
        report.notes.append(
            (
                item.row,
                f"imported as a draft: its files may hold personal data (resource "
                f"{resource.id}); review and publish it on the site",
            )
        )


def _check_share_row(item: ToolkitRow, owner: Member, report: ImportReport) -> None:
    """What :func:`_share_row` would do, storing nothing: a file that is not what its name
    says is refused here too (the rest of the reading happens only on a real import)."""
    digests = [file_sha256(path) for path in item.paths]
    found = find_existing(owner, item.details.title, digests)
    if found is not None:
        report.existing.append((item.row, found))
        return
    try:
        for path in item.paths:
            detect(path, path.name)
    except UnsupportedFile as exc:
        report.problems.append((item.row, str(exc)))
        return
    report.would_import.append(item.row)


def share_from_paths(
    owner: Member,
    details: operations.ResourceDetails,
    paths: list[Path],
    names: list[str] | None = None,
) -> Resource:
    """Share local files exactly as the web form shares uploads."""
    with ExitStack() as files:
        uploads = [
            operations.Upload(files.enter_context(open(path, "rb")), name or path.name)
            for path, name in zip(paths, names or [None] * len(paths), strict=True)
        ]
        return operations.share_resource(owner, details, uploads)


def find_existing(owner: Member, title: str, digests: list[str]) -> int | None:
    """The id of ``owner``'s resource with this title and these file contents, if any."""
    wanted = _title_key(title)
    candidates = db.session.scalars(
        select(Resource).where(
            Resource.owner_id == owner.id,
            func.lower(Resource.title) == title.strip().lower(),
        )
    )
    for resource in candidates:
        same_files = Counter(f.sha256 for f in resource.files) == Counter(digests)
        if _title_key(resource.title) == wanted and same_files:
            return resource.id
    return None


def _title_key(title: str) -> str:
    return " ".join(title.lower().split())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(items: list, desc: str) -> Iterable:
    return tqdm(items, desc=desc, unit="resource", disable=None)


# -- export ---------------------------------------------------------------------------------


def export_all(dest: Path) -> ExportReport:
    """Write every row and every stored object to ``dest``; resumable, see the module doc."""
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)  # emails and password hashes inside
    (dest / "rows").mkdir(exist_ok=True)
    tables = _export_rows(dest / "rows")
    fetched, kept, missing = _export_objects(dest)
    manifest = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "site": current_app.config["SITE_NAME"],
        "tables": tables,
        "objects": fetched + kept,
        "missing": missing,
    }
    _write_atomically(dest / "manifest.json", json.dumps(manifest, indent=2))
    return ExportReport(tables, fetched, kept, missing)


def _export_rows(folder: Path) -> dict[str, int]:
    """One consistent snapshot of every table (repeatable read on PostgreSQL)."""
    counts = {}
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            for table in db.metadata.sorted_tables:
                rows = conn.execute(select(table)).mappings()
                counts[table.name] = _write_jsonl(folder / f"{table.name}.jsonl", rows)
    return counts


def _write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    count = 0
    temp = path.with_name(path.name + ".part")
    with open(temp, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(dict(row), default=_json_value, ensure_ascii=False) + "\n")
            count += 1
    os.replace(temp, path)
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _export_objects(dest: Path) -> tuple[int, int, list[str]]:
    expected = _expected_objects(dest / "rows" / "files.jsonl")
    ledger_path = dest / "files.sha256"
    ledger = _read_ledger(ledger_path)
    fetched = kept = 0
    missing = []
    with open(ledger_path, "a", encoding="utf-8") as ledger_out:
        for key, known in _progress(sorted(expected.items()), "Exporting files"):
            target = dest / "files" / key
            want = known or ledger.get(key)
            if want and target.is_file() and file_sha256(target) == want:
                kept += 1
                continue
            try:
                digest = _fetch(key, target, known)
            except ObjectNotFound:
                missing.append(key)
                continue
            except DamagedObject:
                missing.append(f"{key} (stored bytes do not match their recorded SHA-256)")
                continue
            ledger_out.write(f"{digest}  {key}\n")
            ledger_out.flush()
            fetched += 1
    return fetched, kept, missing


def _expected_objects(files_jsonl: Path) -> dict[str, str | None]:
    """Every stored key the exported rows refer to, with its digest when the row knows it."""
    expected: dict[str, str | None] = {}
    for row in _read_jsonl(files_jsonl):
        expected[row["storage_key"]] = row["sha256"]
        for name in ("credited_key", "preview_key"):
            if row.get(name):
                expected[row[name]] = None
    return expected


def _read_ledger(path: Path) -> dict[str, str]:
    ledger = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            digest, _, key = line.partition("  ")
            if key:
                ledger[key] = digest
    return ledger


def _fetch(key: str, target: Path, expected: str | None) -> str:
    """Copy one object to ``target`` (atomically), checking it against the known digest."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    with get_storage().open(key) as src, open(temp, "wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if expected and digest.hexdigest() != expected:
        temp.unlink()
        raise DamagedObject(key)
    os.replace(temp, target)
    return digest.hexdigest()


class DamagedObject(RuntimeError):
    """The store returned bytes that differ from what the database recorded for them."""


def _write_atomically(path: Path, content: str) -> None:
    temp = path.with_name(path.name + ".part")
    temp.write_text(content, encoding="utf-8")
    os.replace(temp, path)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


# -- re-importing an export -----------------------------------------------------------------


def is_export(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text(encoding="utf-8")).get("format") == EXPORT_FORMAT


@dataclass
class ExportedResource:
    """One resource of an export with everything that hangs off it."""

    row: int
    values: dict[str, Any]
    files: list[dict[str, Any]]
    tags: list[str]
    takers: list[dict[str, Any]]
    downloads: list[dict[str, Any]]


def import_export(source: Path, check_only: bool = False) -> ImportReport:
    """Bring members and their resources (with files, counts and ledger) from an export.

    Members are matched by email, resources by the idempotency key; rows of other tables
    (requests, thanks, notifications…) stay in the export and are not merged.
    """
    report = ImportReport(check_only=check_only)
    members = _import_members(source / "rows" / "members.jsonl", report, check_only)
    for item in _progress(list(_exported_resources(source / "rows")), "Importing"):
        owner = members.get(item.values["owner_id"])
        problem = _check_exported(item, owner, source)
        if problem:
            report.problems.append((item.row, problem))
        elif check_only:
            _check_restore(item, owner, report)
        else:
            _restore_resource(item, owner, members, source, report)
    return report


def _check_restore(item: ExportedResource, owner: Member, report: ImportReport) -> None:
    digests = [row["sha256"] for row in item.files]
    found = find_existing(owner, item.values["title"], digests) if owner.id else None
    if found is not None:
        report.existing.append((item.row, found))
    else:
        report.would_import.append(item.row)


def _import_members(path: Path, report: ImportReport, check_only: bool) -> dict[int, Member]:
    """Old member id -> member here: the existing account with that email, or a new one."""
    mapped = {}
    columns = [c.name for c in Member.__table__.columns if c.name != "id"]
    for values in _read_jsonl(path):
        member = db.session.scalar(select(Member).where(Member.email == values["email"]))
        if member is None:
            member = Member(
                **{c: _column_value(Member, c, values[c]) for c in columns if c in values}
            )
            member.session_epoch = 0
            if not check_only:
                db.session.add(member)
                db.session.commit()
                report.members_created += 1
        mapped[values["id"]] = member
    return mapped


def _column_value(model: type, name: str, value: Any) -> Any:
    """A value read back from JSON in the column's own type (dates were written as text)."""
    column_type = model.__table__.columns[name].type
    stored_as = getattr(column_type, "impl_instance", column_type)
    if value is not None and isinstance(stored_as, DateTime):
        return datetime.fromisoformat(value)
    return value


def _exported_resources(rows: Path) -> Iterator[ExportedResource]:
    """Resources numbered as lines of ``resources.jsonl``, with their files, tags and ledger."""
    files = _by_resource(rows / "files.jsonl")
    takers = _by_resource(rows / "takers.jsonl")
    downloads = _by_resource(rows / "downloads.jsonl")
    tag_names = {t["id"]: t["name"] for t in _read_jsonl(rows / "tags.jsonl")}
    tags = defaultdict(list)
    for link in _read_jsonl(rows / "resource_tags.jsonl"):
        tags[link["resource_id"]].append(tag_names.get(link["tag_id"], ""))
    for number, values in enumerate(_read_jsonl(rows / "resources.jsonl"), start=1):
        key = values["id"]
        own = sorted(files[key], key=lambda f: f["position"])
        names = sorted(t for t in tags[key] if t)
        yield ExportedResource(number, values, own, names, takers[key], downloads[key])


def _by_resource(path: Path) -> dict[int, list[dict[str, Any]]]:
    grouped = defaultdict(list)
    for values in _read_jsonl(path):
        grouped[values["resource_id"]].append(values)
    return grouped


def _check_exported(item: ExportedResource, owner: Member | None, source: Path) -> str:
    if owner is None:
        return f"its owner (member {item.values['owner_id']}) is not in the export"
    if not item.files:
        return "it has no files in the export"
    for row in item.files:
        path = source / "files" / row["storage_key"]
        if not path.is_file() or file_sha256(path) != row["sha256"]:
            return f"file “{row['original_name']}” is missing from the export or damaged"
    return ""


def _restore_resource(
    item: ExportedResource,
    owner: Member,
    members: dict[int, Member],
    source: Path,
    report: ImportReport,
) -> None:
    values = item.values
    digests = [row["sha256"] for row in item.files]
    found = find_existing(owner, values["title"], digests)
    if found is not None:
        report.existing.append((item.row, found))
        return
    details = _details_of(values, item.tags)
    paths = [source / "files" / row["storage_key"] for row in item.files]
    names = [row["original_name"] for row in item.files]
    try:
        resource = share_from_paths(owner, details, paths, names)
    except UploadRefused as exc:
        db.session.rollback()
        report.problems.append((item.row, str(exc)))
        return
    _restore_history(resource, item, members)
    report.imported.append((item.row, resource.id))


def _details_of(values: dict[str, Any], tags: list[str]) -> operations.ResourceDetails:
    return operations.ResourceDetails(
        title=values["title"],
        synopsis=values["synopsis"],
        how_used=values["how_used"],
        tags=tags,
        kind=values["kind"],
        audience=values["audience"],
        licence=values["licence"],
        access=values.get("access") or "everyone",
        credit_name=values.get("credit_name") or "",
        visibility=values.get("visibility") or Resource.PUBLIC,
        # Exports made before the choice existed hold properties-only credited copies.
        credit_placement=values.get("credit_placement") or CREDIT_IN_PROPERTIES,
        credit_txt=bool(values.get("credit_txt")),
    )


def _restore_history(
    resource: Resource, item: ExportedResource, members: dict[int, Member]
) -> None:
    """What sharing cannot know: status, dates, the download ledger and the count."""
    values = item.values
    resource.status = values.get("status") or resource.status
    for name in ("created_at", "updated_at"):
        if values.get(name):
            setattr(resource, name, datetime.fromisoformat(values[name]))
    new_file_ids = {row["id"]: f.id for row, f in zip(item.files, resource.files, strict=True)}
    _restore_ledger(resource, new_file_ids, members, item)
    counts.recount([resource.id])  # from the ledger as restored, not the exported number
    IndexChange.record(resource.id)
    db.session.commit()
    search.catch_up()


def _restore_ledger(
    resource: Resource,
    new_file_ids: dict[int, int],
    members: dict[int, Member],
    item: ExportedResource,
) -> None:
    """Who took this resource, and each download, mapped to the members and files here."""
    for values in item.takers:
        member = members.get(values["member_id"])
        if member is not None:
            when = datetime.fromisoformat(values["created_at"])
            db.session.add(Taker(resource_id=resource.id, member_id=member.id, created_at=when))
    for values in item.downloads:
        member = members.get(values["member_id"])
        if member is not None:
            db.session.add(
                Download(
                    resource_id=resource.id,
                    member_id=member.id,
                    file_id=new_file_ids.get(values.get("file_id")),
                    region=values.get("region") or "",
                    created_at=datetime.fromisoformat(values["created_at"]),
                )
            )


def run_import(
    source: Path, owner_email: str | None, csv_path: Path | None = None, check_only: bool = False
) -> ImportReport:
    """``exchange import``: an export folder, or a toolkit folder with its CSV and owner."""
    if is_export(source):
        return import_export(source, check_only)
    owner = _owner(owner_email)
    return import_toolkit(source, csv_path or find_csv(source), owner, check_only)


def _owner(email: str | None) -> Member:
    if not email:
        raise ValueError("a toolkit import needs --owner EMAIL: whose resources these are")
    member = db.session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise ValueError(f"no member with the email {email}; they need an account first")
    return member


def find_csv(folder: Path) -> Path:
    """The folder's one CSV file (``toolkit.csv`` when there are several)."""
    if (folder / "toolkit.csv").is_file():
        return folder / "toolkit.csv"
    found = sorted(folder.glob("*.csv"))
    if len(found) != 1:
        raise ValueError(f"{folder} needs one CSV describing the files (or give --csv)")
    return found[0]
