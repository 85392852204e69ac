"""Text extraction: every corpus file, ground truth, coverage, and hostile input in real
child processes (hangs, memory explosions, zip bombs, XML entities)."""

from __future__ import annotations

import collections
import functools
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from exchange.files.extract import MAX_TEXT_CHARS, Extraction, extract, normalise
from exchange.files.reasons import (
    DAMAGED,
    EMPTY,
    FAILED,
    IMAGE,
    PASSWORD_PROTECTED,
    REASONS,
    SCANNED,
    TOO_LARGE,
    TOO_SLOW,
    UNREADABLE_KIND,
    UNSAFE,
)
from exchange.files.sandbox import run_limited
from tests.fixtures.corpus import CORPUS_DIR, manifest, require_corpus

TIMEOUT_S = 20
# Bounded means: the timeout, plus the time to start and kill a child on a busy machine.
BOUND_S = TIMEOUT_S + 10
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# Risky corpus files (encrypted, malformed, hostile...) that must not be searchable.
UNSEARCHABLE = {
    "groundtruth/textract-ocr_text.pdf": SCANNED,
    "hostile/odfpy-nasty.odt": UNSAFE,
    "hostile/openpyxl-null_archive.xlsx": DAMAGED,
    "hostile/openpyxl-null_file.xlsx": EMPTY,
    "hostile/pypdf-crazyones-encrypted-256.pdf": PASSWORD_PROTECTED,
    "hostile/sample-files-libreoffice-writer-password.pdf": PASSWORD_PROTECTED,
    "hostile/sample-files-unreadablemetadata.pdf": DAMAGED,
    "hostile/suncoast-behavioral-interview-questions.pdf": DAMAGED,
    "hostile/tika-droste.zip": UNREADABLE_KIND,
    "hostile/tika-quine.gz": UNREADABLE_KIND,
    "hostile/tika-testMicrosoftIRMServices.pdf": PASSWORD_PROTECTED,
    "hostile/tika-testODTEncrypted.odt": PASSWORD_PROTECTED,
    "hostile/tika-testODTnotaZipFile.odt": DAMAGED,
    "hostile/tika-testPDF_jsActionOnPage.pdf": "it has no text in it",
    "hostile/tika-testPDF_malformedXFA.pdf": "it has no text in it",
    "hostile/tika-testWORD_protected_passtika.doc": PASSWORD_PROTECTED,
    "hostile/tika-testWORD_protected_passtika.docx": PASSWORD_PROTECTED,
    "hostile/tika-testWORD_truncated.docx": DAMAGED,
    "hostile/tika-testWordPerfect_42.doc": DAMAGED,
    "hostile/tika-testZIP_corrupted_oom.zip": UNREADABLE_KIND,
    "odf/tika-testODTMacro.fodt": UNREADABLE_KIND,
    "pdf/pdfminer-encrypted_doc_no_id.pdf": SCANNED,
    "pdf/sample-files-imagemagick-CCITTFaxDecode.pdf": SCANNED,
    "pdf/tika-testOCR.pdf": SCANNED,
    "pptx/python-pptx-act-props.pptm": UNREADABLE_KIND,
    "xlsx/tika-testEXCEL_macro.xlsm": UNREADABLE_KIND,
}
# Risky corpus files that still carry real text, and a phrase that proves we read it.
STILL_READABLE = {
    "hostile/pdfminer-zen_of_python_corrupted.pdf": "Beautiful is better than ugly.",
    "pdf/tika-testPDF_protected.pdf": "RETHINKING THE FINANCIAL NETWORK",
    "pdf/pypdf-r6-empty-password.pdf": "pdf encryption test",
    "hostile/pdfminer-issue-1113-evil-xobjects.pdf": "Hello world",
    "hostile/tika-testExternalRefs.docx": "Testing INCLUDETEXT",
    "hostile/tika-testODT-TIKA-6000.odt": "Manuel d’utilisation de Koha",
    "hostile/tika-testRTFInvalidUnicode.rtf": "Unpaired hi here",
    "hostile/tika-testDdeLink.xlsx": "Sheet1",
    "hostile/tika-testMARKDOWN_dataURI.md": "# Embedded resources",
    "pdf/tika-testPDF_bad_page_303226.pdf": "Drug Enforcement Administration",
    "legacy/tika-testPPT_skipBadCompressedObject.ppt": "CDTI Dynamic Predictor Display",
    "pptx/tika-testPPTX_overlappingRelations.pptx": "POI can read this",
    "odf/odfpy-spreadsheet-with-macro.ods": "PM kilometers",
    "pdf/pypdf-Seige_of_Vicksburg_Sample_OCR.pdf": "THE SIEGE OF VICKSBURG",
    "pdf/pypdf-indirect-rotation.pdf": "International Council of Containership Operators",
}
RISKY_WORDS = ("hostile", "malformed", "encrypted", "bomb", "mislabelled", "macro", "scanned")

# Phrases that prove a part of a format is read, each from the place naive readers miss.
SPOT_CHECKS = [
    ("docx/tika-testWORD_text_box.docx", "This text is inside of a text box"),
    ("docx/tika-testWORD_missing_text.docx", "Rich_text_in_cell"),
    ("docx/tika-testWORD_various.docx", "This is the header text."),
    ("docx/tika-testWORD_various.docx", "This is a footnote."),
    ("docx/tika-testAltChunkHTML.docx", "Simple paragraph with a"),
    ("docx/tika-testWORD_charts.docx", "February"),
    ("pptx/python-pptx-prs-notes.pptx", "Notes"),
    ("pptx/tika-testPPT_masterFooter.pptx", "Master footer is here"),
    ("pptx/tika-testPPT_diagramData.pptx", "VP – HR"),
    ("xlsx/tika-testEXCEL_textbox.xlsx", "this is some autoshape text"),
    ("xlsx/tika-testEXCEL.strict.xlsx", "2nd row\t2nd row 2nd column"),
    ("xlsx/openpyxl-date_1904.xlsx", "2011-10-31"),
    ("nonenglish/tika-russian.cp866.txt", "Однажды, в студеную зимнюю пору"),
    ("text/tika-testTXT_win-1252.txt", "think this is a “windows” encoding"),
    ("nonenglish/tika-testRTFWord2010CzechCharacters.rtf", "Svitky od Mrtvého moře"),
    ("nonenglish/tika-testRTFJapanese.rtf", "ゾルゲと尾崎"),
    ("odf/odfpy-cols.odp", "Lorem ipsum dolor sit amet"),
    ("legacy/tika-testWORD6.doc", "The quick brown fox jumps over the lazy dog"),
    ("legacy/tika-testWORD.doc", "Sample Word Document Title"),
    ("nonenglish/tika-test_TIKA-1251.doc", "Ansvar- og oppgavefordeling"),
    ("legacy/tika-testEXCEL_4.xls", "Examination Coverage"),
    ("legacy/tika-testMSChart-govdocs-428996.ppt", "Thin Film Partnership"),
    ("nonenglish/pypdf-multilang.pdf", "Привет, мир"),
    ("pdf/tika-testPDF_XFA_govdocs1_258578.pdf", "my_teacher_name1"),
    (
        "career/onet/Task Statements.xlsx",
        "Direct or coordinate an organization's financial or budget activities",
    ),
]


@functools.cache
def extracted(relpath: str) -> tuple[Extraction, float]:
    """One real child-process extraction per corpus file, shared by the tests below."""
    doc = next(d for d in manifest() if d.relpath == relpath)
    started = time.perf_counter()
    result = extract(doc.path, doc.format, timeout_s=TIMEOUT_S)
    return result, time.perf_counter() - started


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


# --------------------------------------------------------------------------- every corpus file


@pytest.mark.parametrize("doc", manifest(), ids=lambda doc: doc.relpath)
def test_every_corpus_file_is_bounded_and_gives_text_or_a_clear_reason(doc):
    result, elapsed = extracted(doc.relpath)
    assert elapsed < BOUND_S
    if result.searchable:
        assert result.reason == ""
        assert 0 < len(result.text) <= MAX_TEXT_CHARS
        assert not CONTROL_CHARS.search(result.text)
    else:
        assert result.text == ""
        assert result.reason in REASONS


def risky_documents() -> list:
    """Corpus files whose note says they are hostile, broken, locked or unusual."""
    return [
        doc
        for doc in manifest()
        if any(word in doc.note.lower() for word in RISKY_WORDS)
        or doc.relpath in UNSEARCHABLE | STILL_READABLE
    ]


@pytest.mark.parametrize("doc", risky_documents(), ids=lambda doc: doc.relpath)
def test_risky_corpus_files_are_refused_or_really_read(doc):
    assert doc.relpath in UNSEARCHABLE or doc.relpath in STILL_READABLE, "decide what to expect"
    result, _ = extracted(doc.relpath)
    if doc.relpath in UNSEARCHABLE:
        assert (result.searchable, result.reason) == (False, UNSEARCHABLE[doc.relpath])
    else:
        assert result.searchable and STILL_READABLE[doc.relpath] in result.text


def groundtruth_pairs() -> list[tuple[str, Path]]:
    return [
        (doc.relpath, Path(f"{doc.path}.expected.txt"))
        for doc in manifest()
        if Path(f"{doc.path}.expected.txt").is_file()
    ]


@pytest.mark.parametrize("relpath, expected_path", groundtruth_pairs(), ids=str)
def test_groundtruth_word_recall_is_at_least_90_percent(relpath, expected_path):
    """Multiset recall: each expected word counts as often as it occurs."""
    result, _ = extracted(relpath)
    if "ocr" in relpath:
        assert (result.searchable, result.reason) == (False, SCANNED)
        return
    expected = collections.Counter(words(expected_path.read_text("utf-8", "replace")))
    found = collections.Counter(words(result.text))
    recall = sum(min(n, found[w]) for w, n in expected.items()) / sum(expected.values())
    assert recall >= 0.9, f"recall {recall:.3f}"


@pytest.mark.parametrize("relpath, phrase", SPOT_CHECKS, ids=lambda v: str(v)[:40])
def test_coverage_spot_checks(relpath, phrase):
    require_corpus()
    result, _ = extracted(relpath)
    assert result.searchable and phrase in result.text


def test_word_field_instructions_are_dropped_but_their_results_kept():
    require_corpus()
    text = extracted("nonenglish/tika-testControlCharacters.doc")[0].text
    assert "1.\tIntroduzione" in text
    assert "HYPERLINK" not in text and "PAGEREF" not in text and "TOC \\o" not in text


def test_external_fields_are_not_followed_and_their_targets_not_indexed():
    require_corpus()
    text = extracted("hostile/tika-testExternalRefs.docx")[0].text
    assert "[Text placeholder]" in text  # the cached field result, as Word shows it
    assert "http" not in text and "payload" not in text


def test_huge_workbook_stops_at_the_text_cap():
    require_corpus()
    result, elapsed = extracted("career/onet/Skills.xlsx")
    assert result.searchable and len(result.text) == MAX_TEXT_CHARS
    assert elapsed < BOUND_S


# --------------------------------------------------------------------------- hostile XML


def odt(path: Path, content: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    return path


ODT_BODY = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
    "<text:p>{}</text:p></office:text></office:body></office:document-content>"
)


def test_external_entity_is_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PAYROLL-SECRET-4711")
    content = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        + ODT_BODY.format("Career plan &x;")
    )
    result = extract(odt(tmp_path / "xxe.odt", content), "odt")
    assert (result.searchable, result.reason) == (False, UNSAFE)
    assert "PAYROLL" not in result.text


def test_corpus_xxe_file_external_content_never_appears():
    require_corpus()
    result, _ = extracted("hostile/odfpy-nasty.odt")
    assert not result.searchable and "externalcontent" not in result.text


def test_billion_laughs_is_refused_quickly(tmp_path):
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "&a{i - 1};&a{i - 1};&a{i - 1};&a{i - 1};">' for i in range(1, 20)
    )
    content = f'<?xml version="1.0"?><!DOCTYPE d [{entities}]>' + ODT_BODY.format("&a19;")
    started = time.perf_counter()
    result = extract(odt(tmp_path / "laughs.odt", content), "odt")
    assert (result.searchable, result.reason) == (False, UNSAFE)
    assert time.perf_counter() - started < 5


def test_odt_footer_comes_from_the_master_page_in_styles(tmp_path):
    styles = (
        '<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:styles>'
        "<text:p>Style sample, not document text</text:p></office:styles>"
        "<office:master-styles><style:master-page><style:footer>"
        "<text:p>Hillside Career Centre</text:p></style:footer></style:master-page>"
        "</office:master-styles></office:document-styles>"
    )
    path = odt(tmp_path / "letter.odt", ODT_BODY.format("Dear client"))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("styles.xml", styles)
    assert extract(path, "odt").text == "Dear client\nHillside Career Centre"


def test_plain_odt_reads_spaces_tabs_and_line_breaks(tmp_path):
    paragraph = 'Goal:<text:s text:c="3"/>nurse<text:tab/>2026<text:line-break/>Next step'
    result = extract(odt(tmp_path / "plan.odt", ODT_BODY.format(paragraph)), "odt")
    assert result.text == "Goal: nurse\t2026\nNext step"


# --------------------------------------------------------------------------- limits, for real


def test_zip_bomb_is_refused_fast_by_extract(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", bytes(64 * 1024))
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, data.rfind(b"PK\x01\x02") + 24, 2**31)  # declare 2 GB
    path.write_bytes(bytes(data))
    started = time.perf_counter()
    result = extract(path, "docx")
    assert (result.searchable, result.reason) == (False, TOO_LARGE)
    assert time.perf_counter() - started < 5


def test_real_parser_on_a_big_file_is_stopped_at_the_timeout():
    require_corpus()
    started = time.perf_counter()
    result = extract(CORPUS_DIR / "career/onet/Skills.xlsx", "xlsx", timeout_s=0.3)
    assert (result.searchable, result.reason) == (False, TOO_SLOW)
    assert time.perf_counter() - started < 3


def test_hanging_parser_and_its_children_are_killed_at_the_timeout(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    outcome = run_limited(
        "tests.fixtures.children:spin_with_a_sleeping_grandchild",
        [str(pid_file)],
        timeout_s=3,
        memory_mb=256,
    )
    assert outcome.failure == TOO_SLOW and outcome.value is None
    assert not process_alive(int(pid_file.read_text()))


def process_alive(pid: int) -> bool:
    """True if ``pid`` runs; a killed process no one has reaped yet counts as dead."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.05)
    return True


def test_memory_explosion_is_stopped_by_the_memory_limit():
    started = time.perf_counter()
    outcome = run_limited(
        "tests.fixtures.children:allocate_without_end", [], timeout_s=20, memory_mb=256
    )
    assert outcome.failure == TOO_LARGE
    assert time.perf_counter() - started < 10


def test_a_crashing_child_is_reported_not_raised():
    outcome = run_limited("os:abort", [], timeout_s=10, memory_mb=256)
    assert outcome.failure == FAILED


# --------------------------------------------------------------------------- never raises


def test_missing_file_unknown_formats_and_images_give_reasons(tmp_path):
    assert extract(tmp_path / "gone.pdf", "pdf") == Extraction("", False, FAILED)
    assert extract(tmp_path, "exe") == Extraction("", False, UNREADABLE_KIND)
    assert extract(tmp_path / "photo.png", "png") == Extraction("", False, IMAGE)


def test_text_is_capped_and_normalised(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"Skill,\tRating\x07 ,  Notes \r\n" * 200_000)
    result = extract(path, "csv")
    assert result.searchable and len(result.text) == MAX_TEXT_CHARS
    assert result.text.startswith("Skill,\tRating , Notes\nSkill,\tRating , Notes\n")
    assert not CONTROL_CHARS.search(result.text.replace("\t", "").replace("\n", ""))


def test_normalise_collapses_whitespace_and_removes_controls():
    raw = "  Values\u00a0\u00a0card   sort \x0c\r\n\n\n\n\tStep\x01 1\t\t \tdone\ud83d \ufeff"
    assert normalise(raw) == "Values card sort\n\nStep 1\tdone"


def test_child_start_up_is_small(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Strengths: listening, planning.\n")
    extract(path, "txt")  # warm the file system cache
    started = time.perf_counter()
    result = extract(path, "txt")
    assert result.text == "Strengths: listening, planning."
    assert time.perf_counter() - started < 2


def test_cli_prints_the_extraction_as_json(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Goals\n")
    reply = subprocess.run(
        [sys.executable, "-m", "exchange.files.extract", "md", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert '"text": "# Goals"' in reply.stdout and '"searchable": true' in reply.stdout
