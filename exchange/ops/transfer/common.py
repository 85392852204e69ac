"""What both imports (a toolkit's CSV, an export) and the export share: the import report,
sharing local files exactly as the web form shares uploads, and knowing what is already
there.

**Idempotency.** A resource is "already there" when the same owner has a resource with
the same title (ignoring case and spacing) made of files with the same contents (the
multiset of their SHA-256 digests). Re-running an import, or importing an export into
the site it came from, therefore adds nothing, while a corrected file or a new title is
imported as a new resource. No column has to be invented and kept by hand.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from tqdm import tqdm

from ...extensions import db
from ...models import Member, Resource
from ...resources import operations

CHUNK = 1024 * 1024


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


def share_from_paths(
    owner: Member,
    details: operations.ResourceDetails,
    paths: list[Path],
    names: list[str] | None = None,
    before_commit: Callable[[Resource], None] | None = None,
) -> Resource:
    """Share local files as the web form shares uploads (``before_commit``: see
    :func:`~exchange.resources.operations.share_resource`), read before the command goes
    on (``read_now``): its report says which became drafts, and nothing waits on a queue."""
    with ExitStack() as files:
        uploads = [
            operations.Upload(files.enter_context(open(path, "rb")), name or path.name)
            for path, name in zip(paths, names or [None] * len(paths), strict=True)
        ]
        return operations.share_resource(
            owner, details, uploads, before_commit=before_commit, read_now=True
        )


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


def progress(items: list, desc: str) -> Iterable:
    return tqdm(items, desc=desc, unit="resource", disable=None)
