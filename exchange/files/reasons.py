"""Why a file's contents could not be read, in words a sharer can read.

Each reason is written to follow "contents not searchable: ". Readers raise
:class:`ExtractionError` with one of them; the limited child process
(:mod:`.sandbox`) carries it back to the parent as that reason, and adds its own when a
child runs out of time or memory or crashes.

A reason is stored in English (``files.text_reason``), as the log and the API give it, and
marked with ``N_`` so the catalogues hold it: pages translate it when they show it
(``i18n.label``), so a file read years ago reads in today's reader's language too.
"""

from __future__ import annotations

from ..vocab import N_

PASSWORD_PROTECTED = N_("it is password-protected")
SCANNED = N_("it is a scanned image with no text layer")
DAMAGED = N_("it is damaged or incomplete")
TOO_SLOW = N_("reading it took too long")
TOO_LARGE = N_("it is too large to read")
EMPTY = N_("it is empty")
NO_TEXT = N_("it has no text in it")
IMAGE = N_("it is an image")
UNSAFE = N_("it uses a feature we block for safety")
UNREADABLE_KIND = N_("it is a kind of file we cannot read")
FAILED = N_("it could not be read")
REASONS = frozenset(
    {
        PASSWORD_PROTECTED,
        SCANNED,
        DAMAGED,
        TOO_SLOW,
        TOO_LARGE,
        EMPTY,
        NO_TEXT,
        IMAGE,
        UNSAFE,
        UNREADABLE_KIND,
        FAILED,
    }
)


class ExtractionError(Exception):
    """An expected reason a file yields no text; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
