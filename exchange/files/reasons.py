"""Why a file's contents could not be read, in words a sharer can read.

Each reason is written to follow "contents not searchable: ". Readers raise
:class:`ExtractionError` with one of them; the limited child process
(:mod:`.sandbox`) carries it back to the parent as that reason, and adds its own when a
child runs out of time or memory or crashes.
"""

from __future__ import annotations

PASSWORD_PROTECTED = "it is password-protected"  # nosec B105: a reason, not a secret
SCANNED = "it is a scanned image with no text layer"
DAMAGED = "it is damaged or incomplete"
TOO_SLOW = "reading it took too long"
TOO_LARGE = "it is too large to read"
EMPTY = "it is empty"
NO_TEXT = "it has no text in it"
IMAGE = "it is an image"
UNSAFE = "it uses a feature we block for safety"
UNREADABLE_KIND = "it is a kind of file we cannot read"
FAILED = "it could not be read"
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
