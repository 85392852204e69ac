"""What every verb of the give-and-take shares: how it says no, and the length a note of
thanks must have (asked for when thanking and when marking a request fulfilled)."""

from __future__ import annotations

MIN_THANKS_CHARS = 10


class Refused(ValueError):
    """The action can't be done as asked; the message says why, kindly, and what to do."""
