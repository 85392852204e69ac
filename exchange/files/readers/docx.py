"""Word documents (docx, dotx): body, headers and footers, notes, comments, charts,
SmartArt, and pages pasted in as HTML (altChunk)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..formats import guess_text_encoding, read_member
from .ooxml import folder_pattern, main_part, open_package, parts_matching, related, walk_parts
from .sink import SMALL_PART_BYTES, TextSink


def docx_text(path: Path, sink: TextSink) -> None:
    """Body, headers/footers, notes, comments, charts and SmartArt, then altChunk pages."""
    with open_package(path) as archive:
        main = main_part(archive, "word/document.xml")
        prefix = folder_pattern(main)
        stories = parts_matching(
            archive, prefix + r"(header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
        )
        visuals = parts_matching(archive, prefix + r"(charts/chart|diagrams/data)\d*\.xml")
        walk_parts(archive, [main, *stories, *visuals], sink)
        for chunk in related(archive, main, "/aFChunk"):
            if chunk.lower().endswith((".htm", ".html", ".xhtml")):
                _html_text(read_member(archive, chunk, SMALL_PART_BYTES), sink)


_HTML_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"})


class _VisibleText(HTMLParser):
    """Visible text of an HTML page; the stdlib parser expands no custom entities."""

    def __init__(self, sink: TextSink) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.hidden = 0  # depth inside <script> and <style>

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in _HTML_BLOCKS:
            self.sink.add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.sink.add(data)


def _html_text(data: bytes, sink: TextSink) -> None:
    parser = _VisibleText(sink)
    parser.feed(data.decode(guess_text_encoding(data[:65536]) or "utf-8", "replace"))
    parser.close()
