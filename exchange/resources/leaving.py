"""Deleting an account, in one transaction: the member's resources removed or kept as
anonymous gifts, their words removed or kept without their name, their row emptied.

Nothing is half-deleted: every row changes in the caller's transaction (this flushes; the
view commits once). Objects in the file store follow the rows: re-credited copies are
stored before the commit (and are orphans for ``exchange doctor`` if it never comes), and
the objects the deletion makes useless are deleted by a job that runs only after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _

from .. import accounts, community, jobs
from ..extensions import db
from ..models import IndexChange, Member, Resource
from . import operations

log = logging.getLogger(__name__)

DISCARD_JOB = "discard-objects"


class WrongPassword(ValueError):
    """The password given to confirm the deletion is not the member's."""


@dataclass(frozen=True)
class Choices:
    keep_resources: bool  # as anonymous gifts; otherwise removed
    keep_words: bool  # requests, answers and thanks without the name; otherwise removed


def delete_account(member: Member, password: str, choices: Choices) -> None:
    """Delete ``member``'s account as they chose, or raise :class:`WrongPassword`."""
    if not accounts.check_password(member, password):
        raise WrongPassword(_("That isn’t your password."))
    member_id = member.id
    community.scrub_names(member, _names_of(member))  # first: re-credited copies see it
    stale = _resources_leave(member, choices.keep_resources)
    community.forget_member(member, keep_words=choices.keep_words)
    stale += accounts.close_account(member)
    if stale:
        jobs.enqueue(DISCARD_JOB, *stale)
    log.info("member %s deleted their account (resources kept: %s)", member_id, choices)


def _names_of(member: Member) -> set[str]:
    names = {member.name, member.credit_name, member.default_credit}
    return names | {r.credit_name for r in member.resources}


def _resources_leave(member: Member, keep: bool) -> list[str]:
    """Remove the member's resources, or keep them credited to no one; stale stored keys."""
    stale: list[str] = []
    with operations._workdir() as workdir, operations._all_or_nothing() as stored:
        for resource in list(member.resources):
            IndexChange.record(resource.id)
            if keep and resource.status not in (Resource.DRAFT, Resource.PROCESSING):
                stale += _anonymise(resource, workdir, stored)
            else:
                stale += [key for row in resource.files for key in row.storage_keys()]
                community.forget_resource_in_collections(resource.id)
                db.session.delete(resource)
        db.session.flush()
    return stale


def _anonymise(resource: Resource, workdir, stored: list[str]) -> list[str]:
    """No name on the gift, nor in its credited copies (made again, anonymously)."""
    resource.credit_name = ""
    return operations.recredit_files(list(resource.files), workdir, stored)


@jobs.job(DISCARD_JOB)
def discard(*keys: str) -> None:
    """Delete stored objects the committed deletion no longer refers to (a job)."""
    operations.discard_objects(list(keys))
