"""Importing a folder written by ``exchange export``: members matched by email, then each
resource shared again from its exported files, with what sharing cannot know restored
(status, dates, who took it, the download ledger and the count).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, select

from ... import counts, transactions
from ...extensions import db
from ...files import UploadRefused
from ...models import Download, FileVersion, Member, Resource, StoredFile, Taker
from ...resources import operations
from ...storage import get_storage, new_key
from ...vocab import CREDIT_IN_PROPERTIES
from .common import ImportReport, file_sha256, find_existing, progress, share_from_paths
from .export import EXPORT_FORMAT, read_jsonl


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
    # Earlier versions of its files, by the exported file id (exports before versions: none).
    versions: dict[int, list[dict[str, Any]]]


def import_export(source: Path, check_only: bool = False) -> ImportReport:
    """Bring members and their resources (with files, counts and ledger) from an export.

    Members are matched by email, resources by the idempotency key; rows of other tables
    (requests, thanks, notifications…) stay in the export and are not merged.
    """
    report = ImportReport(check_only=check_only)
    members = _import_members(source / "rows" / "members.jsonl", report, check_only)
    for item in progress(list(_exported_resources(source / "rows")), "Importing"):
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
    for values in read_jsonl(path):
        member = db.session.scalar(select(Member).where(Member.email == values["email"]))
        if member is None:
            member = Member(
                **{c: _column_value(Member, c, values[c]) for c in columns if c in values}
            )
            member.session_epoch = 0
            if not check_only:
                db.session.add(member)
                transactions.commit()
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
    versions = _grouped(rows / "file_versions.jsonl", "file_id")
    tag_names = {t["id"]: t["name"] for t in read_jsonl(rows / "tags.jsonl")}
    tags = defaultdict(list)
    for link in read_jsonl(rows / "resource_tags.jsonl"):
        tags[link["resource_id"]].append(tag_names.get(link["tag_id"], ""))
    for number, values in enumerate(read_jsonl(rows / "resources.jsonl"), start=1):
        key = values["id"]
        own = sorted(files[key], key=lambda f: f["position"])
        names = sorted(t for t in tags[key] if t)
        earlier = {f["id"]: versions[f["id"]] for f in own if versions[f["id"]]}
        yield ExportedResource(number, values, own, names, takers[key], downloads[key], earlier)


def _by_resource(path: Path) -> dict[int, list[dict[str, Any]]]:
    return _grouped(path, "resource_id")


def _grouped(path: Path, column: str) -> dict[int, list[dict[str, Any]]]:
    grouped = defaultdict(list)
    for values in read_jsonl(path):
        grouped[values[column]].append(values)
    return grouped


def _check_exported(item: ExportedResource, owner: Member | None, source: Path) -> str:
    if owner is None:
        return f"its owner (member {item.values['owner_id']}) is not in the export"
    if not item.files:
        return "it has no files in the export"
    earlier = [v for rows in item.versions.values() for v in rows]
    for row in [*item.files, *earlier]:
        path = source / "files" / row["storage_key"]
        if not path.is_file() or file_sha256(path) != row["sha256"]:
            return f"file “{row['original_name']}” is missing from the export or damaged"
    for row in earlier:
        if row.get("credited_key") and not (source / "files" / row["credited_key"]).is_file():
            return f"an earlier version of “{row['original_name']}” is missing from the export"
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
    history = functools.partial(_restore_history, item=item, members=members, source=source)
    try:
        resource = share_from_paths(owner, details, paths, names, before_commit=history)
    except UploadRefused as exc:
        db.session.rollback()
        report.problems.append((item.row, str(exc)))
        return
    except ValueError as exc:  # e.g. a damaged date in its ledger: nothing of it was kept
        report.problems.append((item.row, f"not imported: {exc}"))
        return
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
        text_layer=bool(values.get("text_layer", True)),
        # The giver may have chosen it; exports from before languages were kept: detected.
        language=values.get("language") or "",
    )


def _restore_history(
    resource: Resource, item: ExportedResource, members: dict[int, Member], source: Path
) -> None:
    """What sharing cannot know: status, dates, files' versions, the download ledger and
    the count.

    Written in the share's own transaction (its change-log entry covers these too), so a
    resource is imported with its history or not at all, and a re-import finds it whole.
    """
    values = item.values
    status = values.get("status")
    if status and status != Resource.PROCESSING:  # its files are read by now
        resource.status = status
    for name in ("created_at", "updated_at"):
        if values.get(name):
            setattr(resource, name, datetime.fromisoformat(values[name]))
    new_file_ids = {row["id"]: f.id for row, f in zip(item.files, resource.files, strict=True)}
    for row, stored in zip(item.files, resource.files, strict=True):
        _restore_versions(stored, row, item.versions.get(row["id"], []), source)
    _restore_ledger(resource, new_file_ids, members, item)
    counts.recount([resource.id])  # from the ledger as restored, not the exported number


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
                    file_version=values.get("file_version") or 1,
                    region=values.get("region") or "",
                    created_at=datetime.fromisoformat(values["created_at"]),
                )
            )


_VERSION_FIELDS = (
    "number", "original_name", "content_type", "format", "size", "sha256", "credited_size",
    "credit_on_page", "page_credit_note", "original_author", "zipped_with_credit", "change_note",
)  # fmt: skip


def _restore_versions(
    stored: StoredFile, row: dict[str, Any], earlier: list[dict[str, Any]], source: Path
) -> None:
    """The file's version number, note and language, and its earlier versions with their
    bytes (the credited copies as exported: each was made for the credit the resource
    still has)."""
    stored.version = row.get("version") or 1
    if row.get("language") is not None:  # else as told on reading it again here
        stored.language = row["language"]
    stored.version_note = row.get("version_note") or ""
    if row.get("version_at"):
        stored.version_at = datetime.fromisoformat(row["version_at"])
    for values in earlier:
        version = FileVersion(**{name: values[name] for name in _VERSION_FIELDS})
        version.created_at = datetime.fromisoformat(values["created_at"])
        version.replaced_at = datetime.fromisoformat(values["replaced_at"])
        version.storage_key = _put_exported(source, values["storage_key"], values["content_type"])
        if values.get("credited_key"):
            version.credited_key = _put_exported(source, values["credited_key"], "")
        stored.versions.append(version)


def _put_exported(source: Path, key: str, content_type: str) -> str:
    """Store an exported object under a new key (if the import then fails, ``exchange
    doctor`` finds it an orphan)."""
    new = new_key("files")
    with open(source / "files" / key, "rb") as fh:
        get_storage().put(new, fh, content_type=content_type or "application/octet-stream")
    return new
