"""Downloading a workshop kit: one zip of the credited files in the running order, with a
running-order sheet that carries every credit line.

Each resource inside obeys give-to-get exactly as its own download would
(:func:`exchange.access.kit_download_plan`): what the member may not take yet is named on
the kit's page before the download and in the sheet, never silently dropped, and each
resource that goes into the zip is counted once, through the same
:func:`~exchange.resources.operations.record_download` a single download uses.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app, url_for

from .. import access, community
from ..access import Decision
from ..files import (
    RunningOrder,
    SheetItem,
    bundle_name,
    download_name,
    kit_credit_line,
    running_order_pdf,
)
from ..models import Collection, Member, Resource, StoredFile
from ..storage import get_storage
from .operations import credit_line_for, record_download

log = logging.getLogger(__name__)

SHEET_NAME = "00 - Running order.pdf"
SPOOL_BYTES = 16 * 1024 * 1024  # a zip up to this stays in memory; bigger ones go to disk


@dataclass(frozen=True)
class Planned:
    """One available item of the kit and whether this member's zip will hold it."""

    entry: community.Entry
    decision: Decision
    credit_line: str

    @property
    def resource(self) -> Resource:
        return self.entry.resource

    @property
    def included(self) -> bool:
        return self.decision.allowed


def download_plan(collection: Collection, viewer) -> list[Planned]:
    """What the viewer sees of the kit, in order, each with its give-to-get decision."""
    entries = [e for e in community.entries_for(collection, viewer) if e.resource is not None]
    decisions = access.kit_download_plan(viewer, [e.resource for e in entries])
    return [
        Planned(entry, decision, credit_line_for(entry.resource))
        for entry, decision in zip(entries, decisions, strict=True)
    ]


def starters_spent(plan: list[Planned]) -> int:
    """How many of a newcomer's starter downloads this kit's download would use."""
    return sum(1 for p in plan if p.included and p.decision.uses_starter)


def kit_credit(collection: Collection) -> str:
    """The kit's own credit line: its author, and the kit it was made from."""
    original = collection.copied_from
    based_on = None
    if original is not None:
        based_on = (original.title, original.owner.default_credit)
    return kit_credit_line(collection.title, collection.owner.default_credit, based_on)


def download_kit(collection: Collection, member: Member, plan: list[Planned]) -> BinaryIO:
    """Build the zip (in memory, or on disk when large) and write the ledger rows of each
    resource included, in the caller's transaction. The caller commits, then sends."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (sent, then closed)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(SHEET_NAME, running_order_pdf(_sheet(collection, plan)))
        for planned in plan:
            if planned.included:
                _add_resource(archive, planned)
    for planned in plan:
        if planned.included:
            _record(member, planned.resource)
    log.info("member %s downloaded kit %s", member.id, collection.id)
    out.seek(0)
    return out


def _record(member: Member, resource: Resource) -> None:
    """One ledger row per file, as if each was fetched from the resource's page: the resource
    counts once however many rows it has, and each file's version is then known as taken
    (so "updated since you downloaded it" works for files that came in a kit)."""
    for stored in resource.files:
        record_download(member, resource, stored)


def zip_name(collection: Collection) -> str:
    return f"{collection.title} — workshop kit.zip"


def _add_resource(archive: zipfile.ZipFile, planned: Planned) -> None:
    """Each of the resource's credited files, numbered by its place in the running order."""
    for stored in planned.resource.files:
        name = f"{planned.entry.number:02d} - {_file_name(planned.resource, stored)}"
        with get_storage().open(stored.credited_key or stored.storage_key) as source:
            with archive.open(name, "w") as target:
                shutil.copyfileobj(source, target)


def _file_name(resource: Resource, stored: StoredFile) -> str:
    name = download_name(resource.title, resource.credit_name, stored.original_name)
    return bundle_name(name) if stored.zipped_with_credit and stored.credited_key else name


def _sheet(collection: Collection, plan: list[Planned]) -> RunningOrder:
    items = [
        SheetItem(
            number=p.entry.number,
            title=p.resource.title,
            credit_line=p.credit_line,
            note=p.entry.item.note,
            minutes=p.entry.item.minutes if collection.is_kit else None,
            not_included="" if p.included else p.decision.reason,
        )
        for p in plan
    ]
    return RunningOrder(
        title=collection.title,
        purpose=collection.purpose,
        kit_credit=kit_credit(collection),
        items=items,
        address=_page_address(collection),
    )


def _page_address(collection: Collection) -> str:
    site = current_app.config.get("SITE_URL", "")
    return f"{site}{url_for('kits.show', collection_id=collection.id)}" if site else ""
