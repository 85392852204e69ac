"""Credit in an Office Open XML file's core properties (docx, xlsx, pptx
and their templates), and an anonymous gift's extended properties without the giver's
company or manager.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

# ElementTree only builds and writes XML here; every parse goes through defusedxml.
from xml.etree import ElementTree as ET  # nosec B405

from ...formats import rewrite_zip
from ..line import Credit
from .package import UnsafePackage, check_zip_limits, read_small_entry
from .parts import append_child, apply_credit, parse, q, serialise

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE_REL_TYPES = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officedocument/2006/relationships/metadata/core-properties",
)
CORE_CONTENT_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"


def _attr(value: str) -> str:
    """A quoted XML attribute value."""
    return '"' + html.escape(value, quote=True) + '"'


# The extended (app.xml) properties that name a person or their workplace: an anonymous
# gift's copy leaves them out. Custom properties (custom.xml) are left as they are: their
# names and uses are the author's own, and document-management systems rely on them.
APP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
APP_PERSONAL_TAGS = (f"{{{APP_NS}}}Company", f"{{{APP_NS}}}Manager")
# Removed by editing the text, so every other byte of the part stays as it was (and no
# namespace prefix is renamed): these elements hold plain text, never other elements.
APP_PERSONAL_ELEMENT = re.compile(
    r"<((?:[\w.-]+:)?(?:Company|Manager))(?:\s[^<>]*)?(?:/>|>[^<]*</\1\s*>)"
)
APP_REL_TYPES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
)


def _ooxml_creator_tags(credit: Credit) -> tuple[str, ...]:
    """Named credit sets the author only. Anonymous credit also overwrites "last modified
    by": it sits right beside the author in every Office properties pane, and leaving the
    giver's name there would undo the anonymity they asked for."""
    if credit.anonymous:
        return ("dc:creator", "cp:lastModifiedBy")
    return ("dc:creator",)


def credit_ooxml(src: Path, credit: Credit, tmp: Path) -> bool:
    with zipfile.ZipFile(src) as archive:
        check_zip_limits(archive, src.stat().st_size)
        replaced, added = _ooxml_changes(archive, credit)
        rewrite_zip(archive, tmp, replaced, added)
    return True


def _ooxml_changes(
    archive: zipfile.ZipFile, credit: Credit
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The rewritten core properties part, plus the package plumbing when it is new."""
    names = {name.lower(): name for name in archive.namelist()}
    rels_name, types_name = names.get("_rels/.rels"), names.get("[content_types].xml")
    if rels_name is None or types_name is None:
        raise UnsafePackage("not an Open Packaging Conventions package")
    replaced: dict[str, bytes] = {}
    added: dict[str, bytes] = {}
    rels = read_small_entry(archive, rels_name)
    core_name = core_target(parse(rels), names)
    if core_name is None:
        core_name = names.get("docprops/core.xml", "docProps/core.xml")
        replaced[rels_name] = append_child(
            rels, "Relationships", _core_relationship(rels, core_name)
        )
    if core_name in set(archive.namelist()):
        core = parse(read_small_entry(archive, core_name))
        target = replaced
    else:
        core, target = ET.Element(q("cp:coreProperties")), added
        _declare_core_part(archive, types_name, core_name, replaced)
    apply_credit(core, credit, _ooxml_creator_tags(credit))
    target[core_name] = serialise(core)
    if credit.anonymous:
        replaced.update(_anonymous_app_properties(archive, parse(rels), names))
    return replaced, added


def _anonymous_app_properties(
    archive: zipfile.ZipFile, rels: ET.Element, names: dict[str, str]
) -> dict[str, bytes]:
    """The extended properties part without its company and manager, if it has either."""
    app_name = _part_target(rels, names, APP_REL_TYPES)
    if app_name is None or app_name not in set(archive.namelist()):
        return {}
    data = read_small_entry(archive, app_name)
    app = parse(data)  # refuses entity tricks before the text is edited
    if not any(app.find(tag) is not None for tag in APP_PERSONAL_TAGS):
        return {}
    return {app_name: APP_PERSONAL_ELEMENT.sub("", data.decode("utf-8")).encode("utf-8")}


def core_target(rels: ET.Element, names: dict[str, str]) -> str | None:
    """Where the package's relationships say its core properties live, if they say."""
    return _part_target(rels, names, CORE_REL_TYPES)


def _part_target(rels: ET.Element, names: dict[str, str], types: tuple[str, ...]) -> str | None:
    """Where the package's relationships say a part of one of ``types`` lives, if they say."""
    for rel in rels.iter(f"{{{REL_NS}}}Relationship"):
        if rel.get("Type") in types and rel.get("TargetMode") != "External":
            target = rel.get("Target", "").lstrip("/")
            if not target or target.endswith("/"):
                raise UnsafePackage(f"core properties target {target!r}")
            return names.get(target.lower(), target)
    return None


def _core_relationship(rels: bytes, core_name: str) -> str:
    taken = {rel.get("Id") for rel in parse(rels)}
    rel_id = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
    return (
        f'<Relationship xmlns="{REL_NS}" Id={_attr(rel_id)} '
        f'Type="{CORE_REL_TYPES[0]}" Target={_attr(core_name)}/>'
    )


def _declare_core_part(
    archive: zipfile.ZipFile, types_name: str, part_name: str, replaced: dict[str, bytes]
) -> None:
    """A new part is only read by Office if [Content_Types].xml declares it."""
    types = read_small_entry(archive, types_name)
    wanted = "/" + part_name.lower()
    overrides = parse(types).iter(f"{{{CT_NS}}}Override")
    if any(o.get("PartName", "").lower() == wanted for o in overrides):
        return
    override = (
        f'<Override xmlns="{CT_NS}" PartName={_attr("/" + part_name)} '
        f'ContentType="{CORE_CONTENT_TYPE}"/>'
    )
    replaced[types_name] = append_child(types, "Types", override)
