"""extract_document on real files: PDFs generated with reportlab and read by pypdf, HTML pages."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest import extract
from ingest.errors import ExtractError
from ingest.types import DocumentFormat, ExtractedDocument
from tests import pdf_factory

PDF, HTML = DocumentFormat.pdf, DocumentFormat.html


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def report_bytes() -> bytes:
    return pdf_factory.report_pdf()


@pytest.fixture(scope="module")
def report(report_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> ExtractedDocument:
    path = _write(tmp_path_factory.mktemp("report"), "imaging-guide.pdf", report_bytes)
    return extract.extract_document(path, doc_id="imaging-guide", fmt=PDF)


@pytest.fixture(scope="module")
def guidance(tmp_path_factory: pytest.TempPathFactory) -> ExtractedDocument:
    path = _write(tmp_path_factory.mktemp("html"), "guidance.html", pdf_factory.guidance_html())
    return extract.extract_document(path, doc_id="guidance", fmt=HTML)


# -- PDF pages, numbers and labels ------------------------------------------------------------


def test_pages_numbered_physically_from_one(report: ExtractedDocument) -> None:
    assert [page.number for page in report.pages] == [1, 2, 3, 4, 5, 6]


def test_page_labels_from_pdf_where_they_differ_from_the_number(
    report: ExtractedDocument,
) -> None:
    # Front matter i, ii; the body is printed 1, 2, 3, 4 from the third physical page.
    assert [page.label for page in report.pages] == ["i", "ii", "1", "2", "3", "4"]


def test_printed_footer_numbers_label_pages_when_pdf_has_no_labels(tmp_path: Path) -> None:
    # The body's footers print "Page 1".."Page 3" on physical pages 3-5.
    path = _write(tmp_path, "plain.pdf", pdf_factory.report_pdf(page_labels=False))
    document = extract.extract_document(path, doc_id="plain", fmt=PDF)
    assert [page.label for page in document.pages] == [None, None, "1", "2", "3", None]


def test_sha256_is_of_the_file_bytes(report: ExtractedDocument, report_bytes: bytes) -> None:
    assert report.sha256 == hashlib.sha256(report_bytes).hexdigest()
    assert report.doc_id == "imaging-guide"
    assert report.seconds > 0


# -- PDF cleaning -----------------------------------------------------------------------------


def test_running_header_removed_from_every_page(report: ExtractedDocument) -> None:
    for page in report.pages:
        assert pdf_factory.HEADER not in page.text
        assert "Imaging network guide |" not in page.text


def test_footer_page_numbers_removed(report: ExtractedDocument) -> None:
    body = report.pages[2].text
    assert not body.rstrip().endswith(("Page 1", "1"))


def test_contents_page_marked_not_content(report: ExtractedDocument) -> None:
    assert report.contents_pages == [2]
    contents = report.pages[1]
    assert contents.kind == "contents"
    assert contents.headings == []
    # The entries stay, one per line, so the page still reads as a contents page.
    assert "1 Introduction ...." in contents.text


def test_hyphenated_word_rejoined(report: ExtractedDocument) -> None:
    text = report.pages[2].text
    assert "national recommendation that every network" in text
    assert "recom-" not in text


def test_compound_at_line_end_keeps_its_hyphen(report: ExtractedDocument) -> None:
    assert "publish a long-term workforce plan" in report.pages[2].text


def test_wrapped_lines_rejoined_into_paragraphs(report: ExtractedDocument) -> None:
    paragraphs = report.pages[2].text.split("\n\n")
    assert paragraphs[1] == (
        "This guide sets out how imaging networks should plan reporting capacity across their "
        "member trusts. It follows the national recommendation that every network agrees a "
        "single reporting standard."
    )
    assert "- Agree a shared reporting standard." in paragraphs
    assert "- Publish turnaround times monthly." in paragraphs


@pytest.mark.parametrize(
    ("page", "heading", "level"),
    [
        pytest.param(3, "1 Introduction", 1, id="chapter"),
        pytest.param(4, "2 Governance", 1, id="second-chapter"),
        pytest.param(5, "2.1 Board membership", 2, id="section"),
    ],
)
def test_numbered_headings_found(
    report: ExtractedDocument, page: int, heading: str, level: int
) -> None:
    found = report.pages[page - 1].headings
    assert [(h.text, h.level) for h in found] == [(heading, level)]
    text = report.pages[page - 1].text
    assert text[found[0].start :].startswith(heading + "\n\n")


def test_image_only_page_is_empty_with_warning(report: ExtractedDocument) -> None:
    assert report.empty_pages == [6]
    assert report.pages[5].text == ""
    assert "1 page(s) have no text layer (scanned?): not searchable — pages 6" in report.warnings


def test_page_text_has_no_stray_whitespace(report: ExtractedDocument) -> None:
    for page in report.pages:
        assert "\n\n\n" not in page.text
        assert page.text == page.text.strip()
        assert all(line == line.strip() and "  " not in line for line in page.text.split("\n"))


# -- PDF files that cannot be read ------------------------------------------------------------


def test_footnote_markers_set_as_superscripts_are_dropped(tmp_path: Path) -> None:
    """A raised small number is the marker of a footnote, not a word: quoted as is, "...the
    Care Institute35." reads "35" as part of the sentence (a "how many" question takes it for
    a count, "for 202238" for a year). Small figures on the line, and numbers of body size,
    stay."""
    data = pdf_factory.footnoted_pdf(
        [
            [
                ("Developed by the Care Institute", "body"),
                ("35", "sup"),
                (". It lists skills for 2022", "body"),
                ("38", "sup"),
                (" and beyond.", "body"),
            ],
            [("Reports rose to 49,992", "body"), ("5", "sup"), (" in 2019.", "body")],
            [("Cited by three reviews", "body"), ("17, 31", "sup"), (" so far.", "body")],
            [("The table shows 12 sites and", "body"), (" 4 ", "small"), ("hubs.", "body")],
        ]
    )
    path = _write(tmp_path, "footnoted.pdf", data)
    text = extract.extract_document(path, doc_id="footnoted", fmt=PDF).pages[0].text
    assert "Care Institute. It lists skills for 2022 and beyond." in text, text
    assert "rose to 49,992 in 2019." in text, text
    assert "three reviews so far." in text, text
    assert "12 sites and 4 hubs." in text, text
    assert not any(marker in text for marker in ("35", "38", "17", "31", "9925")), text


def test_an_italic_subheading_is_a_paragraph_of_its_own(tmp_path: Path) -> None:
    """A subheading set in italic at body size, as long as the lines around it, is its own
    paragraph, not the start of the next one's first sentence; a title set in italic inside a
    roman paragraph runs on with it."""
    roman, italic = "Helvetica", "Helvetica-Oblique"
    data = pdf_factory.styled_pdf(
        [
            ("Five key themes emerged from the discussion with imaging network leads:", roman),
            ("Further integration of technology in the delivery of imaging services", italic),
            ("The pandemic has created an innovative environment in which networks", roman),
            ("sought digital solutions to strengthen how their services are delivered.", roman),
            ("Networks should also read the independent review of diagnostic services", roman),
            ("Diagnostics Recovery and Renewal Report of the Independent Review", italic),
            ("published in October 2020, which sets out how community diagnostic", roman),
            ("centres should be staffed and equipped over the following five years.", roman),
        ]
    )
    path = _write(tmp_path, "styled.pdf", data)
    text = extract.extract_document(path, doc_id="styled", fmt=PDF).pages[0].text
    assert (
        "imaging network leads:\n\n"
        "Further integration of technology in the delivery of imaging services\n\n"
        "The pandemic has created"
    ) in text, text
    assert (
        "diagnostic services Diagnostics Recovery and Renewal Report of the Independent Review "
        "published in October 2020"
    ) in text, text


def test_encrypted_pdf_with_empty_password_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.pdf", pdf_factory.encrypted_pdf(user_password=""))
    document = extract.extract_document(path, doc_id="locked", fmt=PDF)
    assert "Reporting standards apply to every network." in document.pages[0].text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        pytest.param(
            "secret.pdf",
            pdf_factory.encrypted_pdf(user_password="secret"),
            "password-protected",
            id="password-protected",
        ),
        pytest.param("cut.pdf", pdf_factory.truncated_pdf(0.6), "truncated", id="truncated"),
        pytest.param("cut.pdf", pdf_factory.truncated_pdf(0.995), "truncated", id="truncated-tail"),
        pytest.param("bad.pdf", pdf_factory.corrupt_pdf(), "corrupt", id="corrupt"),
        pytest.param(
            "error.pdf",
            pdf_factory.html_error_page(),
            "this is an HTML page, not a PDF: the download probably returned an error page; "
            "check the URL",
            id="html-error-page",
        ),
        pytest.param("zip.pdf", b"PK\x03\x04" + b"\x00" * 64, "not a PDF", id="other-format"),
        pytest.param("empty.pdf", b"", "is empty", id="empty-file"),
        pytest.param("blank.pdf", b"  \n", "is empty", id="whitespace-file"),
    ],
)
def test_unreadable_pdf_fails_naming_document_and_problem(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(ExtractError) as caught:
        extract.extract_document(path, doc_id="broken-doc", fmt=PDF)
    message = str(caught.value)
    assert message.startswith("broken-doc: ")
    assert caught.value.doc_id == "broken-doc"
    assert expected in message
    assert name in message


def test_missing_file_fails_with_next_step(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match=r"missing-doc: .*does not exist: fetch"):
        extract.extract_document(tmp_path / "nope.pdf", doc_id="missing-doc", fmt=PDF)


def test_slow_parse_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "large.pdf", pdf_factory.large_pdf())
    with pytest.raises(
        ExtractError, match=r"large-doc: reading .*large.pdf took longer than 0.1 s"
    ):
        extract.extract_document(path, doc_id="large-doc", fmt=PDF, timeout_s=0.1)
    # The parser process was killed, not left running.
    assert multiprocessing.active_children() == []


def _plain_types(value: object) -> set[type]:
    """Every type found in a nested structure of lists and dicts."""
    if isinstance(value, dict):
        return {dict}.union(*(_plain_types(v) for v in [*value.keys(), *value.values()]))
    if isinstance(value, list):
        return {list}.union(*(_plain_types(v) for v in value))
    return {type(value)}


@pytest.mark.parametrize("reader", [extract._read_pdf, extract._read_html])
def test_parser_result_crosses_back_as_plain_data(
    reader: Callable[[bytes], dict], report_bytes: bytes
) -> None:
    data = report_bytes if reader is extract._read_pdf else pdf_factory.guidance_html()
    payload = reader(data)
    assert _plain_types(payload) <= {dict, list, str, int, float, bool, type(None)}
    assert json.loads(json.dumps(payload)) == payload


# -- HTML -------------------------------------------------------------------------------------


def test_html_page_is_one_page_without_label(guidance: ExtractedDocument) -> None:
    assert len(guidance.pages) == 1
    page = guidance.pages[0]
    assert (page.number, page.label, page.kind) == (1, None, "content")


@pytest.mark.parametrize(
    "furniture",
    [
        pytest.param("cookies", id="cookie-banner"),
        pytest.param("tracking code", id="script"),
        pytest.param("font-family", id="style"),
        pytest.param("Breadcrumb", id="nav-label"),
        pytest.param("Diagnostics", id="nav"),
        pytest.param("NHS England home", id="header"),
        pytest.param("Related links", id="aside"),
        pytest.param("Privacy policy", id="footer"),
        pytest.param("Was this page useful", id="form"),
    ],
)
def test_html_site_furniture_dropped(guidance: ExtractedDocument, furniture: str) -> None:
    assert furniture not in guidance.pages[0].text


def test_html_headings_kept_with_levels_and_offsets(guidance: ExtractedDocument) -> None:
    page = guidance.pages[0]
    assert [(h.text, h.level) for h in page.headings] == [
        ("Imaging network reporting guidance", 1),
        ("Reporting standards", 2),
        ("Turnaround targets", 3),
    ]
    for heading in page.headings:
        assert page.text[heading.start :].startswith(heading.text + "\n\n")


def test_html_paragraphs_lists_and_tables(guidance: ExtractedDocument) -> None:
    paragraphs = guidance.pages[0].text.split("\n\n")
    assert (
        "This guidance helps imaging networks plan reporting capacity across trusts." in paragraphs
    )
    assert "Networks should agree one reporting standard." in paragraphs
    assert "• Publish turnaround times monthly." in paragraphs
    assert "2. Exclude cancelled examinations." in paragraphs
    assert "Urgency | Target\nInpatient | 24 hours\nOutpatient | 7 days" in paragraphs


def test_html_without_main_uses_body_minus_header_and_footer(tmp_path: Path) -> None:
    html = (
        b"<html><body><header>Site name</header><h2>Scope</h2><p>Applies to all networks.</p>"
        b"<footer>Contact us</footer></body></html>"
    )
    document = extract.extract_document(_write(tmp_path, "p.html", html), doc_id="p", fmt=HTML)
    assert document.pages[0].text == "Scope\n\nApplies to all networks."


def test_html_ordered_list_numbers_items_that_read_the_same(tmp_path: Path) -> None:
    html = b"<main><ol start='3'><li>Review</li><li>Review</li></ol></main>"
    document = extract.extract_document(_write(tmp_path, "p.html", html), doc_id="p", fmt=HTML)
    assert document.pages[0].text == "3. Review\n\n4. Review"


def test_html_with_empty_main_falls_back_to_body(tmp_path: Path) -> None:
    html = b"<html><body><main></main><div><p>Applies to all networks.</p></div></body></html>"
    document = extract.extract_document(_write(tmp_path, "p.html", html), doc_id="p", fmt=HTML)
    assert document.pages[0].text == "Applies to all networks."


def test_html_without_text_fails(tmp_path: Path) -> None:
    html = b"<html><body><div id='app'></div><script>render()</script></body></html>"
    path = _write(tmp_path, "app.html", html)
    with pytest.raises(ExtractError, match=r"app-doc: .*app.html has no readable text"):
        extract.extract_document(path, doc_id="app-doc", fmt=HTML)


def test_pdf_saved_as_html_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "doc.html", pdf_factory.simple_pdf())
    with pytest.raises(ExtractError, match=r"is a PDF, not an HTML page"):
        extract.extract_document(path, doc_id="doc", fmt=HTML)
