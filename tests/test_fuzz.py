"""Property-based fuzzing: whatever a visitor types or uploads, no 5xx and no hang."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.vocab import AUDIENCES, KINDS, LICENCES

from .fixtures.members import SHARE_DEFAULTS, Visitor, docx_bytes

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
EXTENSIONS = [
    "docx",
    "xlsx",
    "pptx",
    "odt",
    "ods",
    "pdf",
    "rtf",
    "txt",
    "csv",
    "md",
    "png",
    "doc",
    "xls",
    "jpg",
    "exe",
    "html",
    "",
]
SAMPLE_DOCX = docx_bytes("Career values card sort", "Pick the ten that matter most.")


@pytest.fixture
def fuzzer(app) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.register()
    return visitor


@FUZZ
@given(query=ANY_TEXT, sort=ANY_TEXT, page=ANY_TEXT, kind=ANY_TEXT)
def test_search_never_fails(fuzzer, query, sort, page, kind):
    response = fuzzer.client.get(
        "/search", query_string={"q": query, "sort": sort, "page": page, "kind": kind}
    )
    assert response.status_code == 200


@FUZZ
@given(
    title=ANY_TEXT,
    synopsis=ANY_TEXT,
    tags=ANY_TEXT,
    kind=st.sampled_from([*KINDS, "", "nonsense"]),
    audience=st.sampled_from([*AUDIENCES, "", "<script>"]),
    licence=st.sampled_from([*LICENCES, "", "public-domain"]),
    access=st.sampled_from(["everyone", "sharers", "", "admins"]),
)
def test_the_share_form_never_fails(fuzzer, title, synopsis, tags, kind, audience, licence, access):
    fields = dict(
        title=title,
        synopsis=synopsis,
        tags=tags,
        kind=kind,
        audience=audience,
        licence=licence,
        access=access,
    )
    response = fuzzer.share(files=[("notes.txt", b"plain notes")], **fields)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert "error-summary" in response.get_data(as_text=True)


@FUZZ
@given(content=st.binary(max_size=4000), extension=st.sampled_from(EXTENSIONS))
def test_any_bytes_under_any_name_are_shared_or_refused(fuzzer, content, extension):
    name = f"upload.{extension}" if extension else "upload"
    response = fuzzer.share(files=[(name, content)])
    assert response.status_code in (302, 422), response.status_code


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(SAMPLE_DOCX) - 1), st.integers(0, 255)), max_size=12
    )
)
def test_damaged_office_files_never_break_a_share(fuzzer, flips):
    """Real documents with bytes changed: the parsers run in a limited child and may fail."""
    data = bytearray(SAMPLE_DOCX)
    for position, value in flips:
        data[position] = value
    response = fuzzer.share(files=[("sheet.docx", bytes(data))])
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 302:
        page = fuzzer.client.get(response.headers["Location"]).get_data(as_text=True)
        assert "sheet.docx" in page


def test_the_fuzzed_share_defaults_are_themselves_valid(fuzzer):
    """The fixture's baseline share succeeds, so refusals above come from the fuzzed parts."""
    data = {**SHARE_DEFAULTS, "files": [(io.BytesIO(b"plain notes"), "notes.txt")]}
    assert fuzzer.client.post("/resources/new", data=data).status_code == 302
