"""The credit line and its wording: who and what a download credits (:class:`Credit`),
the ready-to-copy TASL line (Title, Author, Source, Licence), the fuller description
written into a file's properties, and the name put in its author property.

One wording everywhere: the resource page, the file's properties, the line printed on its
pages and ``credit.txt`` all read it from here. Anonymous gifts name nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE_NAME = "Toolkit Exchange"
ANONYMOUS_CREATOR = f"Anonymous via {SITE_NAME}"
ADAPTED_FROM = "adapted from a work by"


@dataclass(frozen=True)
class Credit:
    """Who and what to credit (Title, Author, Source, Licence)."""

    title: str
    author: str  # "" when the giver chose to stay anonymous
    licence_label: str
    licence_url: str = ""
    source_url: str = ""
    # The author a file's own properties name, when that is not the giver (see
    # :func:`original_author`): kept, never overwritten, as "adapted from a work by ...".
    adapted_from: str = ""

    @property
    def anonymous(self) -> bool:
        return not self.author.strip()


def one_line(text: str) -> str:
    return " ".join(text.split())


def credit_line(credit: Credit) -> str:
    """The ready-to-copy attribution, worded the same on the page and inside the file.

    A file adapted from someone else's work names them the way Creative Commons' TASL
    practice credits a derivative ("X by Y, adapted from a work by Z"): the original
    title is rarely known, the original author's name is.
    """
    title = f'"{one_line(credit.title)}"'
    who = "" if credit.anonymous else f" by {one_line(credit.author)}"
    if credit.adapted_from.strip():
        who += f", {ADAPTED_FROM} {one_line(credit.adapted_from)}"
    shared = "shared anonymously" if credit.anonymous else "shared"
    line = f"{title}{who}, {shared} via {SITE_NAME}"
    licence = one_line(credit.licence_label)
    return f"{line}, {licence}" if licence else line


def description_text(credit: Credit) -> str:
    """The credit line plus where to find the resource and its licence, one item a line."""
    lines = [credit_line(credit)]
    if credit.source_url.strip():
        lines.append(f"Source: {credit.source_url.strip()}")
    if credit.licence_url.strip():
        lines.append(f"Licence: {credit.licence_url.strip()}")
    return "\n".join(lines)


def creator_text(credit: Credit) -> str:
    """What goes in the author/creator property: the giver, or no name at all."""
    return ANONYMOUS_CREATOR if credit.anonymous else one_line(credit.author)


def kit_credit_line(title: str, author: str, based_on: tuple[str, str] | None = None) -> str:
    """A workshop kit's own credit: its author, and the kit it was made from, if any
    ("based on “Job-search morning” by Dale Briers"). Each resource inside keeps its own
    line: the kit's credit is added to them, never put in their place."""
    line = f"“{one_line(title)}”, a workshop kit by {one_line(author)} via {SITE_NAME}"
    if based_on is not None:
        original, original_author = based_on
        line += f", based on “{one_line(original)}” by {one_line(original_author)}"
    return line
