"""Importing a counsellor's existing toolkit: a folder of files plus a CSV that describes
them, one resource per row.

**Validation.** Every CSV row is checked before anything is stored; a row with a problem
is reported (``row N: what is wrong``, N as a spreadsheet numbers it, the header being
row 1) and nothing of it is imported, while good rows still are. Column names are matched
loosely (case, spaces, the share form's own labels), and choices accept a code or its label.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ...extensions import db
from ...files import UnsupportedFile, UploadRefused, detect
from ...models import Member, Resource
from ...resources import operations
from ...vocab import (
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
from .common import ImportReport, file_sha256, find_existing, progress, share_from_paths

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
    for item in progress(rows, "Checking" if check_only else "Importing"):
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


def find_csv(folder: Path) -> Path:
    """The folder's one CSV file (``toolkit.csv`` when there are several)."""
    if (folder / "toolkit.csv").is_file():
        return folder / "toolkit.csv"
    found = sorted(folder.glob("*.csv"))
    if len(found) != 1:
        raise ValueError(f"{folder} needs one CSV describing the files (or give --csv)")
    return found[0]
