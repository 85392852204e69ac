"""The running-order sheet that travels in a kit's zip: a PDF listing each item in order
with its minutes, its note and its full credit line, what was not included and why, and
the kit's own credit. A printed plan a counsellor takes into the room carries every giver's
name with it.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .line import SITE_NAME
from .page.pdf import FONT_FILES

FALLBACK_FONT = "Helvetica"


def escape(text: str) -> str:
    """Words as reportlab's paragraph markup reads them: ``&``, ``<`` and ``>`` as text."""
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class SheetItem:
    number: int
    title: str
    credit_line: str
    note: str = ""
    minutes: int | None = None
    not_included: str = ""  # why it is not in the zip ("" = included)


@dataclass(frozen=True)
class RunningOrder:
    title: str
    purpose: str
    kit_credit: str
    items: list[SheetItem]
    address: str = ""  # the kit's page


def running_order_pdf(sheet: RunningOrder) -> bytes:
    """The sheet as PDF bytes (reportlab; a TrueType font when the server has one, so
    names in any script print)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=sheet.title, author=sheet.kit_credit, creator=SITE_NAME
    )
    document.build(_story(sheet, _styles()))
    return buffer.getvalue()


def _story(sheet: RunningOrder, styles: dict) -> list:
    from reportlab.platypus import Paragraph, Spacer

    story = [Paragraph(escape(sheet.title), styles["title"])]
    if sheet.purpose:
        story.append(Paragraph(escape(sheet.purpose), styles["body"]))
    story.append(Paragraph(escape(sheet.kit_credit), styles["credit"]))
    story.append(Spacer(1, 8))
    for item in sheet.items:
        story += _item(item, styles)
    if sheet.address:
        story.append(Paragraph(escape(f"The kit’s page: {sheet.address}"), styles["small"]))
    return story


def _item(item: SheetItem, styles: dict) -> list:
    from reportlab.platypus import Paragraph

    minutes = f" — {item.minutes} min" if item.minutes else ""
    parts = [Paragraph(escape(f"{item.number:02d}. {item.title}{minutes}"), styles["heading"])]
    if item.note:
        parts.append(Paragraph(escape(item.note), styles["body"]))
    parts.append(Paragraph(escape(item.credit_line), styles["credit"]))
    if item.not_included:
        parts.append(Paragraph(escape(f"Not included: {item.not_included}"), styles["small"]))
    return parts


def _styles() -> dict:
    from reportlab.lib.styles import ParagraphStyle

    font = _sheet_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=14, spaceAfter=3)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=22, spaceAfter=8),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=16, spaceBefore=8),
        "body": base,
        "credit": ParagraphStyle("credit", parent=base, fontSize=9.5, textColor="#333333"),
        "small": ParagraphStyle("small", parent=base, fontSize=9, textColor="#555555"),
    }


@cache
def _sheet_font() -> str:
    """The first TrueType font installed (they cover far more than Helvetica's Latin-1)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, path in FONT_FILES:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(f"{name}Sheet", path))
            return f"{name}Sheet"
    return FALLBACK_FONT
