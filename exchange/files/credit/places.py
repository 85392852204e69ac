"""Where each format's credit goes, in words for the resource page: on the page
(footer, print footer, slide...), in the file's properties, or why not on the page.

A view of the formats registry (:data:`exchange.files.formats.ALLOWED`), which declares it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..formats import ALLOWED


@dataclass(frozen=True)
class CreditPlace:
    """Where a format's credit is, in words for the resource page."""

    on_page: str  # "" when the format cannot carry a visible line
    in_properties: bool


# The formats registry says where each format's line goes; the template reads this view of it.
CREDIT_PLACES: dict[str, CreditPlace] = {
    fmt: CreditPlace(file_type.page_credit, file_type.credit_in_properties)
    for fmt, file_type in ALLOWED.items()
}
NOT_ON_PAGE: dict[str, str] = {
    fmt: file_type.no_page_credit for fmt, file_type in ALLOWED.items() if file_type.no_page_credit
}


def where_credit_goes(fmt: str) -> CreditPlace:
    return CREDIT_PLACES.get(fmt.lower(), CreditPlace("", False))
