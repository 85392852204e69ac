"""Does the text of an upload look like it holds a client's personal data?

Worksheets are client tools, and a filled-in copy shared by mistake would expose a client.
The upload flow shows these findings to the sharer before publishing, so the heuristics
lean hard towards *few false alarms* on blank worksheets and templates: placeholders
("name@example.com", "(555) 555-5555", "Phone: ______"), dates, year ranges, scores,
ISBNs and money are not reported. Samples are masked so a warning never repeats the data.

Detected:
- email: any address except placeholder/role ones (example domains, you@, name@,
  firstname.lastname@, info@, careers@...).
- phone: 9-15 digits written as an international (+44 / 0044) number, a national number
  with trunk prefix 0 and at least 10 digits, a North American (NXX) NXX-XXXX number, or a
  bare run of digits right after a "phone/tel/mobile/cell" label.
- national-id: US Social Security number (ddd-dd-dddd, valid ranges), UK National
  Insurance number, Canadian SIN (Luhn check), French NIR / numéro de sécurité sociale
  (mod-97 key).
- street-address: house number + capitalised street name + English street type
  ("42 Elm Street"), French "12 rue de la Paix", German "Hauptstraße 12".

All patterns have bounded repetition (no nested unbounded quantifiers), so scanning is
linear in the text, which is capped at ``limit`` characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MASK = "•"
DEFAULT_LIMIT = 200_000


@dataclass(frozen=True)
class Finding:
    """One kind of personal data found: a masked example and how many times it occurs."""

    kind: str  # "email", "phone", "national-id", "street-address"
    sample: str
    count: int


def find_personal_data(text: str, *, limit: int = DEFAULT_LIMIT) -> list[Finding]:
    """What in the first ``limit`` characters looks like a client's personal data."""
    scanned = unicodedata.normalize("NFKC", text[:limit])
    findings = []
    for kind, detect, mask in _DETECTORS:
        matches = list(detect(scanned))
        if matches:
            findings.append(Finding(kind, mask(matches[0]), len(matches)))
    return findings


# --------------------------------------------------------------------------- email

_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
    r"((?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])",
    re.ASCII,
)
_PLACEHOLDER_LOCALS = frozenset(
    "name yourname your.name your_name firstname lastname firstname.lastname first.last "
    "firstnamelastname first_last first.lastname f.lastname you your your.email youremail "
    "email e-mail user username someone somebody me myname my.name john.doe jane.doe "
    "johndoe janedoe jdoe john.smith jane.smith joe.bloggs abc test sample student client "
    "applicant candidate".split()
)
# Organisations' shared mailboxes are not a client's personal data.
_ROLE_LOCALS = frozenset(
    "info contact contactus hello admin office enquiries enquiry inquiries inquiry support "
    "careers career jobs job hr recruitment recruiting talent noreply no-reply donotreply "
    "webmaster postmaster team help helpdesk reception mail sales service services "
    "feedback privacy".split()
)
_PLACEHOLDER_DOMAINS = frozenset(
    "example test invalid localhost domain yourdomain mydomain company yourcompany "
    "email mail website yoursite sample placeholder".split()
)
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})


def _emails(text: str) -> Iterator[str]:
    for match in _EMAIL.finditer(text):
        local, domain = match.group(1).lower(), match.group(2).lower()
        if not _placeholder_email(local, domain):
            yield match.group(0)


def _placeholder_email(local: str, domain: str) -> bool:
    labels = domain.split(".")
    if labels[0] in _PLACEHOLDER_DOMAINS or labels[-1] in _RESERVED_TLDS:
        return True
    if local in _PLACEHOLDER_LOCALS or local in _ROLE_LOCALS:
        return True
    return set(local) <= {"x", "."} or set(labels[0]) == {"x"}


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[0]}{MASK * 3}@{domain}"


# --------------------------------------------------------------------------- phone

# A digit, then up to 22 digits/single spaces/brackets/dots/dashes, ending on a digit.
# Two spaces in a row end a candidate: table columns are not one number.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.-])(?:\+|\( ?)?\d(?:[\d().-]| (?! )){7,22}\d(?!\w)", re.ASCII
)
_PHONE_LABEL = re.compile(
    r"(?:phone|tel|telephone|mobile|cell|fax|portable|tél)(?:\s?(?:no|nos|number|numbers|#))?"
    r"\W{0,6}$",
    re.IGNORECASE,
)
_NANP = re.compile(r"(?:1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]\d{4}", re.ASCII)
_DATE_INSIDE = re.compile(
    r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}\b|\b(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2}\b",
    re.ASCII,
)
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹]\s?$|(?:USD|EUR|GBP|CAD|AUD)\s?$")
_ISBN_BEFORE = re.compile(r"ISBN(?:-1[03])?:?\s?$", re.I)


def _phones(text: str) -> Iterator[str]:
    for match in _PHONE_CANDIDATE.finditer(text):
        before = text[max(0, match.start() - 25) : match.start()]
        if _is_phone(match.group(0), before):
            yield match.group(0)


def _is_phone(candidate: str, before: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    groups = re.findall(r"\d+", candidate)
    if not 9 <= len(digits) <= 15 or _not_a_phone(candidate, digits, groups, before):
        return False
    if candidate.startswith("+") or (digits.startswith("00") and len(groups) > 1):
        return len(digits) >= 10
    if len(groups) == 1:  # a bare run of digits is a phone number only when labelled
        return bool(_PHONE_LABEL.search(before))
    compact = re.sub(r"\s*([().-])\s*", r"\1", candidate)
    if digits.startswith("0") and len(digits) >= 10:
        return 2 <= len(groups[0]) <= 5  # a trunk prefix plus area code: "020", "07700"
    return bool(_NANP.fullmatch(compact)) and not _fictional_nanp(digits)


def _not_a_phone(candidate: str, digits: str, groups: list[str], before: str) -> bool:
    """Shapes that have phone-like digit counts but are scales, years, dates, ISBNs, money."""
    if not _brackets_balanced(candidate):  # "058102 (2004": a citation, not a number
        return True
    inner_singles = [g for g in groups[1:] if len(g) == 1]
    international = candidate.startswith("+")
    if len(groups) > 7 or len(inner_singles) > (1 if international else 0):
        return True
    if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
        return True
    if _DATE_INSIDE.search(candidate) or _CURRENCY_BEFORE.search(before):
        return True
    if _ISBN_BEFORE.search(before) or (len(digits) == 13 and digits[:3] in ("978", "979")):
        return True
    return _placeholder_digits(digits)


def _brackets_balanced(candidate: str) -> bool:
    depth = 0
    for char in candidate:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth not in (0, 1):
            return False
    return depth == 0


def _placeholder_digits(digits: str) -> bool:
    if len(set(digits)) <= 2 or digits.count("0") >= len(digits) - 2:
        return True
    return digits in "01234567890123456789" or digits in "98765432109876543210"


def _fictional_nanp(digits: str) -> bool:
    """555-0100 to 555-0199 are reserved for films, books and forms."""
    local = digits[-7:]
    return local.startswith("55501")


def _mask_keep_last(text: str, keep: int) -> str:
    """Bullets over every letter and digit but the last ``keep``, separators kept."""
    positions = [i for i, c in enumerate(text) if c.isalnum()]
    hidden = set(positions[:-keep] if keep else positions)
    return "".join(MASK if i in hidden else c for i, c in enumerate(text))


# --------------------------------------------------------------------------- national IDs

_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])", re.ASCII)
_SSN_EXAMPLES = frozenset({"123456789", "078051120", "219099999"})
# Separators must be used consistently ("JG 10 37 56 A" or "JG103756A"), which keeps
# columns of numbers in a spreadsheet from lining up into an ID by chance.
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])( ?)(\d{2})\2(\d{2})\2(\d{2})\2([A-D])"
    r"(?![A-Za-z0-9])"
)
_NINO_INVALID_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_SIN = re.compile(r"(?<![\w-])([1-79]\d{2})([ -])(\d{3})\2(\d{3})(?![\w-])", re.ASCII)
_NIR = re.compile(
    r"(?<!\w)([12])( ?)(\d{2})\2(\d{2})\2(\d{2}|2[AB])\2(\d{3})\2(\d{3})\2(\d{2})(?!\w)",
    re.ASCII,
)


def _national_ids(text: str) -> Iterator[str]:
    """Matches from every ID scheme, in the order they appear in the text."""
    found: list[tuple[int, str]] = []
    for pattern, valid in _ID_SCHEMES:
        found += [(m.start(), m.group(0)) for m in pattern.finditer(text) if valid(m)]
    yield from (value for _, value in sorted(found))


def _valid_ssn(match: re.Match[str]) -> bool:
    area, group, serial = match.groups()
    if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
        return False
    return area + group + serial not in _SSN_EXAMPLES


def _valid_nino(match: re.Match[str]) -> bool:
    prefix, _, *numbers, _suffix = match.groups()
    digits = "".join(numbers)
    example = prefix == "AB" and digits == "123456"
    return prefix not in _NINO_INVALID_PREFIXES and not example and len(set(digits)) > 1


def _valid_sin(match: re.Match[str]) -> bool:
    digits = match.group(1) + match.group(3) + match.group(4)
    return _luhn_ok(digits) and not _placeholder_digits(digits)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _valid_nir(match: re.Match[str]) -> bool:
    sex, _, year, month, department, commune, order, key = match.groups()
    if not (1 <= int(month) <= 12 or 20 <= int(month) <= 42 or int(month) >= 50):
        return False
    department = department.replace("2A", "19").replace("2B", "18")
    number = int(sex + year + month + department + commune + order)
    return 97 - number % 97 == int(key)


_ID_SCHEMES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], bool]], ...] = (
    (_SSN, _valid_ssn),
    (_NINO, _valid_nino),
    (_SIN, _valid_sin),
    (_NIR, _valid_nir),
)


# --------------------------------------------------------------------------- street addresses

_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Crescent|Cres|Terrace"
    "|Highway|Hwy|Parkway|Pkwy"
)
_EN_ADDRESS = re.compile(
    r"(?<![\w.,-])(\d{1,5}[A-Za-z]?),? ((?:[A-Z][A-Za-z'’-]{1,20} ){1,3})"
    rf"(?:{_STREET_TYPES})\b\.?(?! [A-Z][a-z])"
)
_FR_ADDRESS = re.compile(
    r"(?<![\w.,-])(\d{1,4})(?: ?(?:bis|ter))?,? "
    r"(?:rue|avenue|boulevard|bd|chemin|allée|impasse|quai) "
    r"(?:de la |de l['’]|du |des |de |d['’])?[A-ZÀ-Ý][\w'’-]{1,30}",
    re.IGNORECASE,
)
_DE_ADDRESS = re.compile(
    r"\b[A-ZÄÖÜ][a-zäöüß-]{2,30}(?:straße|strasse|gasse|allee) (\d{1,4}[a-z]?)\b"
)
# Title-case phrases such as "3 Key Steps Drive" or "10 Minutes Drive" are not addresses.
_NOT_STREET_NAMES = frozenset(
    "The A An Your My Our Their Key Top Easy Simple Quick Great New Best Steps Ways Tips "
    "Things Questions Minutes Minute Hours Hour Days Day Weeks Week Months Years Pages".split()
)


def _addresses(text: str) -> Iterator[str]:
    found: list[tuple[int, str]] = []
    for match in _EN_ADDRESS.finditer(text):
        if match.group(2).split()[0] not in _NOT_STREET_NAMES:
            found.append((match.start(), match.group(0)))
    for pattern in (_FR_ADDRESS, _DE_ADDRESS):
        found += [(m.start(), m.group(0)) for m in pattern.finditer(text)]
    yield from (value for _, value in sorted(found))


def _mask_address(address: str) -> str:
    """Hide the house number; the street name alone identifies nobody."""
    return re.sub(r"\d+", lambda m: MASK * len(m.group(0)), address)


_DETECTORS: tuple[tuple[str, Callable[[str], Iterator[str]], Callable[[str], str]], ...] = (
    ("email", _emails, _mask_email),
    ("phone", _phones, lambda value: _mask_keep_last(value, 4)),
    ("national-id", _national_ids, lambda value: _mask_keep_last(value, 2)),
    ("street-address", _addresses, _mask_address),
)
