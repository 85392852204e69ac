"""``exchange export``: every row and every stored file, in a folder ``exchange import``
can read back.

Export writes ``DEST/rows/<table>.jsonl`` (every table, one JSON object per row),
``DEST/files/<key>`` (every stored object the rows refer to), ``DEST/files.sha256``
(``sha256sum -c`` format, also how a resumed export knows what it already has) and
``DEST/manifest.json``. It is resumable: objects already present with the right digest
are not fetched again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...storage import ObjectNotFound, get_storage
from .common import CHUNK, file_sha256, progress

EXPORT_FORMAT = "toolkit-exchange-export"
EXPORT_VERSION = 1


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
    expected = _expected_objects(dest / "rows")
    ledger_path = dest / "files.sha256"
    ledger = _read_ledger(ledger_path)
    fetched = kept = 0
    missing = []
    with open(ledger_path, "a", encoding="utf-8") as ledger_out:
        for key, known in progress(sorted(expected.items()), "Exporting files"):
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


def _expected_objects(rows: Path) -> dict[str, str | None]:
    """Every stored key the exported rows refer to (files and their earlier versions), with
    its digest when the row knows it."""
    expected: dict[str, str | None] = {}
    for table in ("files", "file_versions"):
        for row in read_jsonl(rows / f"{table}.jsonl"):
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


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
