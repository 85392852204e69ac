"""What every page-credit writer shares: the line to print (:class:`PageCredit`),
the refusal that says why a file cannot carry it (:class:`NotOnPage`), and editing XML as
text so every byte the writer does not own stays as it was.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ....vocab import N_


@dataclass(frozen=True)
class PageCredit:
    """What is printed, and what a PDF's XMP packet says beside it."""

    line: str  # the TASL line, e.g. '"Values card sort" by Dale Briers, shared via ...'
    creator: str
    web_statement: str = ""  # the licence's (or resource's) address


@dataclass(frozen=True)
class PageCreditResult:
    on_page: bool
    reason: str = ""  # why not, in plain words: "not credited on the page, because <reason>"


class NotOnPage(Exception):
    """This file cannot carry the line safely; str(exc) says why, for people: in English,
    marked with ``N_``, stored as ``files.page_credit_note`` and translated when shown."""


Writer = Callable[[Path, PageCredit, Path], None]


XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_escape(text: str) -> str:
    return html.escape(XML_INVALID.sub("", text), quote=True)


def prefix_for(xml: str, uri: str) -> str:
    """The prefix a part binds to ``uri`` ("w", "p"...); refuse parts that never bind it."""
    match = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(uri) + "[\"']", xml)
    if match is None:
        raise NotOnPage(N_("the file is laid out in a way we cannot add to safely"))
    return match.group(1)


def insert(text: str, at: int, piece: str) -> str:
    return text[:at] + piece + text[at:]


def element_spans(xml: str, tag: str) -> list[tuple[int, int, bool]]:
    """(start, end, self_closing) of each ``<tag ...>`` element, outermost, in order."""
    spans = []
    for opening in re.finditer(rf"<{re.escape(tag)}(?=[\s/>])[^>]*>", xml):
        if spans and opening.start() < spans[-1][1]:
            continue  # nested inside the previous one
        if opening.group(0).endswith("/>"):
            spans.append((opening.start(), opening.end(), True))
            continue
        closing = xml.find(f"</{tag}>", opening.end())
        if closing < 0:
            raise NotOnPage(N_("the file's XML is incomplete"))
        spans.append((opening.start(), closing + len(tag) + 3, False))
    return spans


def append_inside(element: str, tag: str, piece: str) -> str:
    """Put ``piece`` as the last child of ``element`` (a whole ``<tag>`` element's text)."""
    if element.endswith("/>"):
        return element[:-2].rstrip() + ">" + piece + f"</{tag}>"
    return element[: -len(tag) - 3] + piece + f"</{tag}>"
