"""The privacy check: filled-in client details are flagged, blank worksheets are not."""

from __future__ import annotations

import time
import zipfile

import defusedxml.ElementTree as SafeET
import pytest

from exchange.files.privacy import MASK, Finding, find_personal_data
from tests.fixtures.corpus import corpus_file

ODF_TEXT_P = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"


def kinds(text: str) -> dict[str, Finding]:
    return {finding.kind: finding for finding in find_personal_data(text)}


def odt_paragraphs(relpath: str) -> str:
    with zipfile.ZipFile(corpus_file(relpath)) as archive:
        root = SafeET.fromstring(archive.read("content.xml"))
    return "\n".join("".join(p.itertext()) for p in root.iter(ODF_TEXT_P))


# --------------------------------------------------------------------------- corpus


def test_phone_numbers_in_the_corpus_test_document_are_flagged() -> None:
    text = odt_paragraphs("odf/tika-testPhoneNumberExtractor.odt")
    found = kinds(text)
    assert set(found) == {"phone"}
    phone = found["phone"]
    assert phone.count >= 2  # "(949) 666 - 6666" and the labelled "9498888888"
    assert phone.sample.count(MASK) >= 6
    assert "9498888888" not in phone.sample and "949" not in phone.sample


# --------------------------------------------------------------------------- blank worksheets

BLANK_WORKSHEETS = [
    """Client intake form
Name: ______________________   Date: __/__/____
Phone: ______________   Email: ____________________@__________
Address: _______________________________________________
National Insurance / SSN: ___-__-____""",
    """Job Search Tracker
Employer | Position | Date applied | Contact | Phone | Follow-up
 | | | | |
Tip: write to careers@example.com or name@yourcompany.com for a sample letter.
Your email (e.g. firstname.lastname@gmail.com) goes at the top of your CV.""",
    """Values card sort - rate each value from 1 to 10
1 2 3 4 5 6 7 8 9 10
Score: 12 15 18 20 22 25 30 35 40 45
Total (max 100): ____""",
    """Career timeline 2019-2021, 2021-2023 and 2015 2016 2017 2018 2019
Meeting 01.03.2021 09.30 - 12.00, review 15/04/2024
Salary band: $1 234 567 890 or € 0 123 456 789? Use 45,000-55,000.
Further reading: ISBN 978-3-16-148410-0, ISBN 0-306-40615-2""",
    """Sample contact details for the role play (fictional):
Phone: (555) 555-5555 or 555-0123, 123-456-7890, 000 000 0000
SSN: 123-45-6789   NI number: QQ 12 34 56 C or AB 12 34 56 C   SIN: 046 454 286""",
    """Module 3 The Way Forward
Step 2 Your Drive
3 Key Steps Drive success. 10 Minutes Drive from the office. Page 2 of 4
Version 1.2.3.4.5.6.7.8.9  Ref 2024/00017""",
    """Annual wage percentiles (BLS table)
11-1011 Chief Executives 29980 36580 46890 28540 38620 59120 17620 19280 22320""",
    """Fiche d’auto-évaluation
Nom : ________  Prénom : ________  Téléphone : __ __ __ __ __
Adresse : ____ rue ______________  Courriel : ______@______""",
]


@pytest.mark.parametrize("text", BLANK_WORKSHEETS)
def test_blank_worksheets_and_templates_are_not_flagged(text: str) -> None:
    assert find_personal_data(text) == []
    # The same worksheet once a client's details are written in is flagged, so the check
    # above cannot pass merely because nothing was detected at all.
    filled_in = text + "\nClient: jane.q.smith@gmail.com, Tel: 020 7946 0958"
    assert set(kinds(filled_in)) == {"email", "phone"}


# --------------------------------------------------------------------------- filled-in details

FILLED = [
    ("email", "Client: Jane, jane.q.smith@gmail.com", "j•••@gmail.com"),
    ("email", "contact: d.okafor@ntlworld.co.uk", "d•••@ntlworld.co.uk"),
    ("phone", "Tel: 020 7946 0958", "••• •••• 0958"),
    ("phone", "mobile +44 7700 900123", "+•• •••• ••0123"),
    ("phone", "call (212) 736-5000", "(•••) •••-5000"),
    ("phone", "cell 415.867.5309", "•••.•••.5309"),
    ("phone", "Portable : 06 12 34 56 78", "•• •• •• 56 78"),
    ("phone", "+33 1 42 68 53 00 (bureau)", "+•• • •• •• 53 00"),
    ("phone", "Phone: 4168675309", "••••••5309"),
    ("national-id", "SSN 536-22-1234", "•••-••-••34"),
    ("national-id", "NI: JG 10 37 56 A", "•• •• •• •6 A"),
    ("national-id", "SIN 130 692 544", "••• ••• •44"),
    ("national-id", "n° sécu 2 69 05 49 588 157 80", "• •• •• •• ••• ••• 80"),
    ("street-address", "lives at 42 Elm Street, Springfield", "•• Elm Street"),
    ("street-address", "221B Baker Street", "•••B Baker Street"),
    ("street-address", "12 rue de la Paix, Paris", "•• rue de la Paix"),
    ("street-address", "Hauptstraße 12, Berlin", "Hauptstraße ••"),
]


@pytest.mark.parametrize(("kind", "text", "sample"), FILLED)
def test_filled_in_details_are_flagged_with_a_masked_sample(
    kind: str, text: str, sample: str
) -> None:
    found = kinds(text)
    assert list(found) == [kind]
    assert found[kind].sample == sample
    assert found[kind].count == 1


def test_each_kind_is_reported_once_with_how_often_it_occurs() -> None:
    text = (
        "Session notes. Client email sam.lee@outlook.com, phone 07700 900123.\n"
        "Second contact sam@leefamily.net, phone 07700 900456, work (212) 736-5000.\n"
        "SSN 536-22-1234. Home: 42 Elm Street."
    )
    found = find_personal_data(text)
    assert [(f.kind, f.count) for f in found] == [
        ("email", 2),
        ("phone", 3),
        ("national-id", 1),
        ("street-address", 1),
    ]


@pytest.mark.parametrize(
    ("valid", "invalid"),
    [
        ("SIN 130 692 544", "SIN 130 692 545"),  # Luhn check fails
        ("NIR 2 69 05 49 588 157 80", "NIR 2 69 05 49 588 157 81"),  # mod-97 key is 80
        ("SSN 536-22-1234", "SSN 666-22-1234 and 900-12-3456"),  # never issued
    ],
)
def test_ids_that_fail_their_check_digits_are_not_flagged(valid: str, invalid: str) -> None:
    assert list(kinds(valid)) == ["national-id"]
    assert find_personal_data(invalid) == []


def test_a_phone_number_beside_others_in_a_run_of_spaces_is_still_found() -> None:
    found = kinds("phone numbers:     9498888888    0161 496 0000")
    assert found["phone"].count == 2


def test_samples_never_repeat_the_data() -> None:
    text = "j.doe.client@protonmail.com 020 7946 0958 536-22-1234 42 Elm Street"
    for finding in find_personal_data(text):
        assert finding.sample not in text, finding


# --------------------------------------------------------------------------- limits and speed


def test_only_the_first_limit_characters_are_scanned() -> None:
    text = "x" * 1000 + " jane.q.smith@gmail.com"
    assert find_personal_data(text, limit=1000) == []
    assert kinds(text)["email"].count == 1


ADVERSARIAL = [
    "1 " * 100_000,
    "a" * 200_000 + "@",
    "x." * 100_000 + "@b",
    "1-" * 100_000,
    "+(" * 100_000,
    "A" * 199_990 + " Street",
    "12 " + "Abc " * 50_000,
    ("Elm " * 3 + "1 ") * 20_000,
    "0" * 200_000,
    "AB 12 " * 33_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_adversarial_text_is_scanned_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    find_personal_data(text)
    assert time.perf_counter() - started < 2.0


def test_text_beyond_the_default_limit_costs_nothing() -> None:
    started = time.perf_counter()
    find_personal_data("1 2 3 4 5 " * 2_000_000)  # 20 million characters
    assert time.perf_counter() - started < 2.0
