"""Moving toolkits in and out: ``exchange import`` and ``exchange export``.

Import takes either a counsellor's existing toolkit (a folder of files plus a CSV that
describes them, :mod:`.toolkit_csv`) or a folder written by ``exchange export``
(:mod:`.restore`). Every resource goes through
:func:`exchange.resources.operations.share_resource`, so its files are identified, read,
credited, previewed and indexed exactly as if shared through the web form; what both
imports share, and the rule for what is "already there", is in :mod:`.common`.

Export (:mod:`.export`) writes every row and every stored object to a folder, resumably.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ...extensions import db
from ...models import Member
from .common import ImportReport
from .export import ExportReport, export_all
from .restore import import_export, is_export
from .toolkit_csv import find_csv, import_toolkit

__all__ = ["ExportReport", "ImportReport", "export_all", "run_import"]


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
