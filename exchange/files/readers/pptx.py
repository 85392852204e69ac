"""PowerPoint presentations (pptx, potx): slides in show order with their notes, SmartArt
and charts, then the footers set on masters and layouts (not their prompt text)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..formats import read_member
from .markup import local_name
from .ooxml import (
    folder_pattern,
    main_part,
    open_package,
    parts_matching,
    relationship_id,
    relationships,
    walk_parts,
)
from .sink import SMALL_PART_BYTES, TextSink


def pptx_text(path: Path, sink: TextSink) -> None:
    """Slides in show order, each followed by its notes, SmartArt and charts; then footers
    set on the masters and layouts."""
    with open_package(path) as archive:
        presentation = main_part(archive, "ppt/presentation.xml")
        for slide in _slides_in_order(archive, presentation):
            extras = [
                target
                for _, kind, target in relationships(archive, slide)
                if kind.endswith(("/notesSlide", "/diagramData", "/chart"))
            ]
            walk_parts(archive, [slide, *extras], sink)
        for footer in _master_footers(archive):
            sink.add(f"{footer}\n")


def _slides_in_order(archive: zipfile.ZipFile, presentation: str) -> list[str]:
    """Slides as listed in the presentation, then any slide part it does not list."""
    from defusedxml.ElementTree import fromstring

    ordered: list[str] = []
    if presentation in archive.NameToInfo:
        root = fromstring(read_member(archive, presentation, SMALL_PART_BYTES))
        targets = {rid: t for rid, kind, t in relationships(archive, presentation)}
        for elem in (e for e in root.iter() if local_name(e.tag) == "sldId"):
            target = targets.get(relationship_id(elem), "")
            if target in archive.NameToInfo:
                ordered.append(target)
    pattern = folder_pattern(presentation) + r"slides/slide\d+\.xml"
    unlisted = [p for p in parts_matching(archive, pattern) if p not in ordered]
    return list(dict.fromkeys(ordered)) + unlisted


def _master_footers(archive: zipfile.ZipFile) -> list[str]:
    """Footer placeholder text from masters and layouts (not their prompt text)."""
    from defusedxml.ElementTree import fromstring

    footers: dict[str, None] = {}
    pattern = r"ppt/(slideMasters/slideMaster|slideLayouts/slideLayout)\d+\.xml"
    for part in parts_matching(archive, pattern):
        root = fromstring(read_member(archive, part, SMALL_PART_BYTES))
        for shape in (e for e in root.iter() if local_name(e.tag) == "sp"):
            if any(local_name(e.tag) == "ph" and e.get("type") == "ftr" for e in shape.iter()):
                text = "".join(e.text or "" for e in shape.iter() if local_name(e.tag) == "t")
                footers.setdefault(text.strip())
    return [text for text in footers if text]
