"""XML parts holding document properties: parsed only through
defusedxml, built and written with ElementTree, and edited as text where every other byte
must stay as it was.
"""

from __future__ import annotations

import re

# ElementTree only builds and writes XML here; every parse goes through defusedxml.
from xml.etree import ElementTree as ET  # nosec B405

import defusedxml.ElementTree as SafeET

from ..line import Credit, creator_text, description_text, one_line
from .package import UnsafePackage

NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcmitype": "http://purl.org/dc/dcmitype/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "ooo": "http://openoffice.org/2004/office",
    "grddl": "http://www.w3.org/2003/g/data-view#",
}
for _prefix, _uri in NS.items():
    # Keeps the conventional prefixes when a part is written back (ElementTree would
    # otherwise invent ns0, ns1...); these are the standard names, so registering them
    # process-wide changes nothing for other code.
    ET.register_namespace(_prefix, _uri)


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def q(prefixed: str) -> str:
    """'dc:creator' -> '{http://purl.org/dc/elements/1.1/}creator'."""
    prefix, local = prefixed.split(":")
    return f"{{{NS[prefix]}}}{local}"


def xml_text(text: str) -> str:
    """Characters XML 1.0 cannot hold would make the whole part unreadable: drop them."""
    return _XML_INVALID.sub("", text)


def parse(data: bytes) -> ET.Element:
    """Parse untrusted XML without expanding entities or fetching anything."""
    return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)


def serialise(root: ET.Element) -> bytes:
    body = ET.tostring(root, encoding="unicode")
    return (XML_DECLARATION + body).encode("utf-8")


def _set_child_text(parent: ET.Element, tag: str, text: str) -> None:
    child = parent.find(q(tag))
    if child is None:
        child = ET.SubElement(parent, q(tag))
    for grandchild in list(child):
        child.remove(grandchild)
    child.text = xml_text(text)


def _is_blank(parent: ET.Element, tag: str) -> bool:
    child = parent.find(q(tag))
    return child is None or not "".join(child.itertext()).strip()


def apply_credit(props: ET.Element, credit: Credit, creator_tags: tuple[str, ...]) -> None:
    """Set creator, description and title on a properties element.

    The title is always the resource's: a file's own title is often left over from a
    template ("Slide 1", "Document1") and is what viewers show as the document's name.
    """
    for tag in creator_tags:
        _set_child_text(props, tag, creator_text(credit))
    _set_child_text(props, "dc:description", description_text(credit))
    _set_child_text(props, "dc:title", one_line(credit.title))


def append_child(data: bytes, root_name: str, element: str) -> bytes:
    """Insert ``element`` as the root's last child by editing the text, so every other
    byte of the part (declarations, prefixes, comments, DOCTYPE) stays exactly as it was."""
    text = data.decode("utf-8")
    closing = re.search(rf"</(?:[\w.-]+:)?{root_name}\s*>\s*$", text)
    if closing:
        return (text[: closing.start()] + element + text[closing.start() :]).encode("utf-8")
    empty = re.search(rf"<((?:[\w.-]+:)?{root_name})(\s[^<>]*)?/>\s*$", text)
    if empty is None:
        raise UnsafePackage(f"cannot find the end of <{root_name}>")
    tag, attributes = empty.group(1), empty.group(2) or ""
    expanded = f"<{tag}{attributes}>{element}</{tag}>"
    return (text[: empty.start()] + expanded + text[empty.end() :]).encode("utf-8")
