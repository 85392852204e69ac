"""The name a downloaded file is saved under, and the Content-Disposition header
that sends it.

"Values card sort — worksheet — shared by Dale Briers.docx": the resource, which of its
files, and the giver, wherever the file is saved; one safe file name on every system
(no separators, controls, bidi tricks, reserved Windows names or over-long names).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_CHARS = 150
MAX_NAME_BYTES = 240  # most file systems stop at 255 UTF-8 bytes
MAX_PERSON_CHARS = 60
MAX_FILE_PART_CHARS = 60
_KEEP_FORMAT_CHARS = {"\u200c", "\u200d"}  # ZWNJ/ZWJ: needed by Persian, Indic scripts, emoji
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)
}
_NAME_REPLACEMENTS = str.maketrans(
    {"/": "-", "\\": "-", ":": " -", "*": "-", "?": "", "<": "(", ">": ")", "|": "-", '"': "'"}
)


def person_name(author: str) -> str:
    """The person's name from a credit such as "Dale Briers (Collaborative Career
    Conversations)": file names stay short, the full credit is inside the file."""
    return author.split(" (", 1)[0].strip()


def _clean_name_part(text: str) -> str:
    """One safe piece of a file name: no controls, bidi tricks, separators or odd spaces."""
    text = unicodedata.normalize("NFC", text).translate(_NAME_REPLACEMENTS)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Cn") or (
            category == "Cf" and char not in _KEEP_FORMAT_CHARS
        ):
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split()).lstrip(" .-").rstrip(" .")


def _extension(file_name: str) -> str:
    """The extension of the last path component, as written, if it looks like one."""
    base = re.split(r"[/\\]", file_name)[-1]
    if "." not in base.strip("."):
        return ""
    ext = base.rsplit(".", 1)[1]
    return ext if re.fullmatch(r"[A-Za-z0-9]{1,10}", ext) else ""


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip(" .-\u200d\u200c") + "…"


def _fits(name: str) -> bool:
    return len(name) <= MAX_NAME_CHARS and len(name.encode("utf-8")) <= MAX_NAME_BYTES


def _stem(title: str, file_part: str, person: str, dot_ext: str) -> str:
    """Title, "— <file>" and "— shared by <person>", trimming the title first, then the
    file's and the person's names only when they alone would not leave room (very long or
    many-byte names)."""
    for person_limit, part_limit in ((MAX_PERSON_CHARS, MAX_FILE_PART_CHARS), (30, 40), (15, 20)):
        middle = f" — {trim(file_part, part_limit)}" if file_part else ""
        suffix = f" — shared by {trim(person, person_limit)}" if person else ""
        room = MAX_NAME_CHARS - len(middle) - len(suffix) - len(dot_ext)
        for title_limit in range(room, 0, -1):
            stem = trim(title, title_limit) + middle + suffix
            if _fits(stem + dot_ext):
                return stem
    return trim(title, 15)  # unreachable with a 10-character extension, kept as a floor


def _file_part(original_name: str, clean_title: str) -> str:
    """The file's own name without its extension; "" when it only repeats the title."""
    base = re.split(r"[/\\]", original_name)[-1]
    ext = _extension(base)
    part = _clean_name_part(base[: -len(ext) - 1] if ext else base)
    return "" if part.casefold() == clean_title.casefold() else part


def download_name(title: str, author: str, original_name: str) -> str:
    """ "Values card sort — worksheet — shared by Dale Briers.docx": a single safe file name
    that says which resource and which of its files this is, and credits the giver wherever
    the file is saved. The file's own name keeps two files of one resource (two .docx, say)
    from saving over each other. Anonymous gifts: no "shared by"."""
    ext = _extension(original_name).lower()
    dot_ext = f".{ext}" if ext else ""
    clean_title = _clean_name_part(title) or "Resource"
    file_part = _file_part(original_name, clean_title)
    stem = _stem(clean_title, file_part, _clean_name_part(person_name(author)), dot_ext)
    # One more pass through the header's own rules, so the name sent is the name built
    # (an author like "0..0" would otherwise read as a stem plus an extension).
    return _safe_single_name(_not_reserved(stem) + dot_ext)


def version_name(original_name: str, number: int) -> str:
    """ "sheet (version 1).docx": an earlier version of a file, saved under a name of its
    own, never over the current version the member may already have."""
    ext = _extension(original_name)
    stem = original_name[: -len(ext) - 1] if ext else original_name
    return f"{stem} (version {number})" + (f".{ext}" if ext else "")


def _not_reserved(stem: str) -> str:
    """Windows refuses to save a file called CON, NUL, COM1... whatever its extension."""
    return f"{stem} (resource)" if stem.upper() in _WINDOWS_RESERVED else stem


_ASCII_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": "'", "”": "'", "„": "'", "…": "..."}
)


def _safe_single_name(filename: str) -> str:
    """Whatever the caller passes, reduce it to one file name with its extension."""
    ext = _extension(filename)
    stem = re.split(r"[/\\]", filename)[-1]
    stem = stem[: -len(ext) - 1] if ext else stem
    stem = _not_reserved(_clean_name_part(stem) or "download")
    name = trim(stem, MAX_NAME_CHARS - len(ext) - 1) + (f".{ext}" if ext else "")
    while not _fits(name):
        stem = trim(stem, len(stem) - 1)
        name = stem + (f".{ext}" if ext else "")
    return name


def _ascii_fallback(name: str) -> str:
    """The name as plain ASCII for clients that ignore ``filename*``, never empty."""
    text = unicodedata.normalize("NFKD", name.translate(_ASCII_PUNCTUATION))
    text = "".join(c for c in text if 0x20 <= ord(c) < 0x7F and c not in '"\\;%')
    stem, dot, ext = " ".join(text.split()).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1].strip(" .-")
    if not any(c.isalnum() for c in stem):
        stem = "download"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str) -> str:
    """An RFC 6266 attachment header: a plain-ASCII ``filename`` for old clients and the
    exact UTF-8 name in ``filename*``; both always describe one safe file name."""
    name = _safe_single_name(filename)
    fallback = _ascii_fallback(name)
    encoded = quote(name, safe="!#$&+^`|~-._")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
