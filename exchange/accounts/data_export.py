"""“Export my data”: a zip of everything the site holds about a member, built by a job.

The zip holds ``member_data.json`` (profile, resources with their files' details,
requests, answers, thanks given and received, downloads taken, notifications, the saved
toolkit, reports made), the member's own uploaded files as they uploaded them, and a
``README.txt`` saying what each part is. It is kept in the file store for
:data:`KEEP_FOR` and offered on the account page meanwhile.

At most one export runs per member: :attr:`DataExport.running_for` is UNIQUE and holds the
member's id until the export ends, so a second request, however close, inserts nothing.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from .. import jobs, notify
from ..extensions import db
from ..i18n import long_date, speaking
from ..models import (
    Answer,
    Collection,
    CollectionItem,
    DataExport,
    Download,
    FileVersion,
    Member,
    Notification,
    Report,
    Resource,
    ShareRequest,
    StoredFile,
    Thanks,
    insert_if_absent,
    utcnow,
)
from ..storage import ObjectNotFound, get_storage, new_key

log = logging.getLogger(__name__)

EXPORT_JOB = "member-data-export"
KEEP_FOR = timedelta(days=7)
# An export still waiting after this long was lost with its process: another may start.
GIVE_UP_AFTER = timedelta(hours=1)
DOCUMENT = "member_data.json"


class ExportUnderway(ValueError):
    """This member's data is already being gathered."""


def request_export(member: Member) -> DataExport:
    """Start gathering the member's data (a job, run once this transaction commits)."""
    _give_up_lost_exports(member)
    values = {"member_id": member.id, "running_for": member.id, "status": DataExport.WAITING}
    if not insert_if_absent(DataExport, ["running_for"], created_at=utcnow(), **values):
        raise ExportUnderway(_("Your data is already being gathered: it will be ready shortly."))
    export = db.session.scalar(select(DataExport).where(DataExport.running_for == member.id))
    jobs.enqueue(EXPORT_JOB, export.id)
    log.info("member %s asked for their data (export %s)", member.id, export.id)
    return export


def _give_up_lost_exports(member: Member) -> None:
    db.session.execute(
        update(DataExport)
        .where(DataExport.running_for == member.id)
        .where(DataExport.created_at < utcnow() - GIVE_UP_AFTER)
        .values(running_for=None, status=DataExport.FAILED, finished_at=utcnow())
    )


def exports_of(member: Member) -> list[DataExport]:
    """The member's exports still worth showing: waiting, or ready and not yet expired."""
    waiting = DataExport.running_for.is_not(None)
    fresh = (DataExport.status == DataExport.READY) & (DataExport.expires_at > utcnow())
    query = (
        select(DataExport)
        .where(DataExport.member_id == member.id, or_(waiting, fresh))
        .order_by(DataExport.created_at.desc())
    )
    return list(db.session.scalars(query))


def export_to_download(member: Member, export_id: int) -> DataExport | None:
    """The member's own ready, unexpired export with this id, or None."""
    return next((e for e in exports_of(member) if e.id == export_id and e.storage_key), None)


def export_file_name(export: DataExport) -> str:
    site = re.sub(r"[^A-Za-z0-9]+", "-", current_app.config["SITE_NAME"]).strip("-").lower()
    return f"{site}-my-data-{export.created_at:%Y-%m-%d}.zip"


@jobs.job(EXPORT_JOB)
def build_export(export_id: int) -> None:
    """Write the zip, store it and record it; idempotent (a finished export is left alone)."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != DataExport.WAITING:
        return
    member = db.session.get(Member, export.member_id)
    try:
        key, size = _store_zip(member)
    except Exception:
        db.session.rollback()
        _finish(export_id, status=DataExport.FAILED)
        db.session.commit()
        raise
    if not _finish(export_id, status=DataExport.READY, storage_key=key, size=size):
        get_storage().delete(key)  # finished meanwhile by another run
        return
    email_key = _queue_ready_email(member, export_id)
    db.session.commit()
    notify.send_queued(current_app._get_current_object(), [email_key])
    log.info("data export %s for member %s ready (%d bytes)", export_id, member.id, size)


def _finish(export_id: int, **values: Any) -> bool:
    now = utcnow()
    if values["status"] == DataExport.READY:
        values["expires_at"] = now + KEEP_FOR
    statement = (
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == DataExport.WAITING)
        .values(running_for=None, finished_at=now, **values)
    )
    return db.session.execute(statement).rowcount == 1


def _queue_ready_email(member: Member, export_id: int) -> str:
    export = db.session.get(DataExport, export_id)
    key = f"account:data-export:{export_id}"
    site = current_app.config["SITE_NAME"]
    with speaking(member.language):
        until = long_date(export.expires_at)
        body = "\n".join(
            [
                _("Hello %(name)s,", name=member.name),
                "",
                _(
                    "The copy of your data you asked for is ready. Download it from your "
                    "account page until %(date)s:",
                    date=until,
                ),
                "",
                notify.site_url("auth.my_data"),
                "",
                f"— {site}",
            ]
        )
        subject = _("%(site)s: your data is ready to download", site=site)
    notify.queue_account_email(key, member.email, subject, body, real=True)
    return key


def _store_zip(member: Member) -> tuple[str, int]:
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="exchange-export-") as folder:
        path = Path(folder) / "export.zip"
        write_zip(member, path)
        key = new_key("exports")
        with open(path, "rb") as source:
            storage.put(key, source, content_type="application/zip")
        return key, path.stat().st_size


def write_zip(member: Member, path: Path) -> None:
    """The whole export: the JSON document, the member's uploaded files, the README."""
    document = member_data(member)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DOCUMENT, json.dumps(document, indent=2, ensure_ascii=False))
        archive.writestr("README.txt", README.format(site=current_app.config["SITE_NAME"]))
        for resource in document["resources"]:
            for item in resource["files"]:
                _add_original(archive, item)


def _add_original(archive: zipfile.ZipFile, item: dict[str, Any]) -> None:
    row = db.session.get(StoredFile, item.pop("_file_id"))
    try:
        with (
            get_storage().open(row.storage_key) as source,
            archive.open(item["in_zip"], "w") as out,
        ):
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
    except ObjectNotFound:
        item["in_zip"] = None
        item["missing"] = _("The stored file could not be found; the administrators were told.")
        log.error("data export: file %s missing from storage", row.id)


# -- the JSON document ---------------------------------------------------------------------


def member_data(member: Member) -> dict[str, Any]:
    """Everything the site holds about ``member``, as plain JSON values."""
    return {
        "exported_at": _when(datetime.now(UTC)),
        "profile": _profile(member),
        "resources": [_resource(r) for r in _owned(member)],
        "requests": [_request(r) for r in _all(ShareRequest, ShareRequest.asker_id, member)],
        "asks_received": [
            _request(r) for r in _all(ShareRequest, ShareRequest.recipient_id, member)
        ],
        "answers_given": [_answer(a) for a in _all(Answer, Answer.giver_id, member)],
        "thanks_given": [_thanks(t) for t in _all(Thanks, Thanks.member_id, member)],
        "thanks_received": [_thanks(t) for t in _thanks_received(member)],
        "downloads_taken": [_download(d) for d in _all(Download, Download.member_id, member)],
        "notifications": [
            _notification(n) for n in _all(Notification, Notification.member_id, member)
        ],
        "collections": [_collection(c) for c in _all(Collection, Collection.owner_id, member)],
        "reports_made": [_report(r) for r in _all(Report, Report.reporter_id, member)],
    }


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _all(model: type, column, member: Member) -> list:
    query = select(model).where(column == member.id).order_by(model.created_at)
    return list(db.session.scalars(query))


def _owned(member: Member) -> list[Resource]:
    query = select(Resource).where(Resource.owner_id == member.id).order_by(Resource.created_at)
    return list(db.session.scalars(query))


def _thanks_received(member: Member) -> list[Thanks]:
    query = (
        select(Thanks)
        .join(Resource, Resource.id == Thanks.resource_id)
        .where(Resource.owner_id == member.id, Thanks.member_id != member.id)
        .order_by(Thanks.created_at)
    )
    return list(db.session.scalars(query))


def _profile(member: Member) -> dict[str, Any]:
    fields = ("name", "email", "credit_name", "organisation", "role", "region", "bio")
    profile: dict[str, Any] = {name: getattr(member, name) for name in fields}
    profile.update(
        administrator=member.is_admin,
        suspended=member.suspended,
        email_notifications=member.email_notifications,
        joined=_when(member.created_at),
        email_confirmed=_when(member.confirmed_at),
    )
    return profile


def _resource(resource: Resource) -> dict[str, Any]:
    fields = ("id", "title", "synopsis", "how_used", "kind", "audience", "licence", "access")
    data: dict[str, Any] = {name: getattr(resource, name) for name in fields}
    data.update(
        visibility=resource.visibility,
        status=resource.status,
        credit_name=resource.credit_name,
        credit_placement=resource.credit_placement,
        text_layer_for_scans=resource.text_layer,
        tags=resource.tag_names,
        downloads=resource.download_count,
        shared=_when(resource.created_at),
        updated=_when(resource.updated_at),
        files=[_file(resource, row) for row in resource.files],
    )
    return data


def _file(resource: Resource, row: StoredFile) -> dict[str, Any]:
    safe_name = re.sub(r"[^\w .()-]+", "_", Path(row.original_name).name).strip(" .") or "file"
    return {
        "_file_id": row.id,
        "name": row.original_name,
        "format": row.format,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "text_searchable": row.searchable,
        "text_read_from_scan": row.read_from_scans,
        "credit_on_page": row.credit_on_page,
        "uploaded": _when(row.created_at),
        "in_zip": f"files/{resource.id}/{row.position + 1}-{safe_name}",
        "version": row.version,
        "what_changed": row.version_note,
        "earlier_versions": [_earlier(version) for version in row.versions],
    }


def _earlier(version: FileVersion) -> dict[str, Any]:
    """What the export says of a version since replaced (its bytes stay on the site, where
    the member may download them)."""
    return {
        "version": version.number,
        "name": version.original_name,
        "size": version.size,
        "sha256": version.sha256,
        "uploaded": _when(version.created_at),
        "what_changed": version.change_note,
    }


def _title(item: Resource | ShareRequest | None) -> str | None:
    """What a row refers to, by title; None when it has since been deleted."""
    return item.title if item is not None else None


def _request(item: ShareRequest) -> dict[str, Any]:
    return {
        "title": item.title,
        "note": item.body,
        "tags": item.tag_names,
        "asked_by": item.asker.name,
        "asked_of": item.recipient.name if item.recipient else "the request board",
        "status": item.status,
        "reply": item.reply,
        "asked": _when(item.created_at),
        "closed": _when(item.closed_at),
    }


def _answer(item: Answer) -> dict[str, Any]:
    return {
        "request": _title(item.request),
        "resource": _title(item.resource),
        "note": item.note,
        "accepted": item.accepted,
        "answered": _when(item.created_at),
    }


def _thanks(item: Thanks) -> dict[str, Any]:
    return {
        "resource": _title(item.resource),
        "from": item.member.name,
        "note": item.note,
        "written": _when(item.created_at),
        "updated": _when(item.updated_at),
    }


def _download(item: Download) -> dict[str, Any]:
    return {
        "resource_id": item.resource_id,
        "resource": _title(db.session.get(Resource, item.resource_id)),
        "file_id": item.file_id,
        "downloaded": _when(item.created_at),
    }


def _notification(item: Notification) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "message": item.message,
        "link": item.url,
        "sent": _when(item.created_at),
        "read": _when(item.read_at),
    }


def _collection(collection: Collection) -> dict[str, Any]:
    """ "My toolkit" and every collection or kit, with its items in their order."""
    return {
        "title": collection.title,
        "purpose": collection.purpose,
        "my_toolkit": collection.is_default,
        "workshop_kit": collection.is_kit,
        "public": collection.public,
        "tags": collection.tag_names,
        "created": _when(collection.created_at),
        "items": [_collected(i) for i in collection.items],
    }


def _collected(item: CollectionItem) -> dict[str, Any]:
    return {
        "resource_id": item.resource_id,
        "resource": _title(item.resource) if item.resource else item.resource_title,
        "note": item.note,
        "minutes": item.minutes,
        "saved": _when(item.created_at),
    }


def _report(item: Report) -> dict[str, Any]:
    about = item.resource.title if item.resource else (item.member.name if item.member else None)
    return {
        "about": about,
        "reason": item.reason,
        "note": item.note,
        "status": item.status,
        "reported": _when(item.created_at),
    }


README = """\
Your data from {site}
=====================

member_data.json
    Everything the site holds about you, in JSON (dates in UTC, ISO 8601):
    - profile: your name, email address, how you are credited, organisation, role,
      region, bio, and your settings;
    - resources: what you shared, with each file's name, format, size and SHA-256, and
      "in_zip", where the file itself is in this zip;
    - requests: requests you posted on the board or sent to a colleague;
    - asks_received: requests colleagues sent to you directly;
    - answers_given: the requests you answered with a resource;
    - thanks_given and thanks_received: thank-you notes, with who wrote them;
    - downloads_taken: every file you downloaded, and when;
    - notifications: what the site told you;
    - toolkit: the resources you saved;
    - reports_made: what you reported to the administrators.

files/
    The files you uploaded, exactly as you uploaded them (without the credit the site
    adds to downloads), one folder per resource, named by the resource's id.

Your password is not included: the site keeps only a one-way hash of it.
"""
