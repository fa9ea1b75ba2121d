"""Extraction and cleaning on the real NHS PDFs in ../shared/corpus (skipped when absent).

Assertions stay generic (counts, patterns, repeated lines) so no text of these documents is
copied into the repository."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from ingest.clean import running_key
from ingest.extract import extract_document
from ingest.types import DocumentFormat, ExtractedDocument

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
PAGES = {
    "analystx-workforce-survey-2022": 36,
    "data-driven-healthcare-2030-full": 207,
    "data-driven-healthcare-2030-summary": 14,
    "tphc-digital-data-analytics-impact-2023-24": 10,
}
DOCS = [pytest.param(doc_id, id=doc_id) for doc_id in PAGES]

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not found at {CORPUS}"),
]


@pytest.fixture(scope="module")
def documents() -> dict[str, ExtractedDocument]:
    """All four documents, extracted once for the module (the 207-page one takes seconds)."""
    extracted = {}
    started = time.perf_counter()
    for doc_id in PAGES:
        extracted[doc_id] = extract_document(
            CORPUS / f"{doc_id}.pdf", doc_id=doc_id, fmt=DocumentFormat.pdf
        )
    seconds = time.perf_counter() - started
    pages = sum(len(document.pages) for document in extracted.values())
    print(f"\nextracted {pages} pages in {seconds:.1f} s ({pages / seconds:.1f} pages/s)")
    return extracted


@pytest.mark.parametrize("doc_id", DOCS)
def test_page_count_matches(documents: dict[str, ExtractedDocument], doc_id: str) -> None:
    document = documents[doc_id]
    assert len(document.pages) == PAGES[doc_id]
    assert [page.number for page in document.pages] == list(range(1, PAGES[doc_id] + 1))


@pytest.mark.parametrize("doc_id", DOCS)
def test_no_line_repeated_on_most_pages_survives(
    documents: dict[str, ExtractedDocument], doc_id: str
) -> None:
    pages = [page for page in documents[doc_id].pages if page.text]
    seen = Counter(
        key
        for page in pages
        for key in {running_key(line) for line in page.text.split("\n") if line}
    )
    repeated = {key: count for key, count in seen.items() if count > len(pages) / 2}
    assert repeated == {}


def test_browser_header_and_footer_removed(documents: dict[str, ExtractedDocument]) -> None:
    for page in documents["tphc-digital-data-analytics-impact-2023-24"].pages:
        assert not re.search(r"\d+/\d+/\d+, \d+:\d+ [AP]M", page.text)
        assert "utm_source" not in page.text
        assert not re.search(r"(^|\n)\d+/10($|\n)", page.text)


@pytest.mark.parametrize(
    ("doc_id", "contents"),
    [
        pytest.param("analystx-workforce-survey-2022", [2], id="dotted-leaders"),
        pytest.param("data-driven-healthcare-2030-full", [7], id="numbers-without-leaders"),
        pytest.param("data-driven-healthcare-2030-summary", [5], id="sections-and-figures"),
        pytest.param("tphc-digital-data-analytics-impact-2023-24", [], id="web-page-menu"),
    ],
)
def test_contents_pages_detected(
    documents: dict[str, ExtractedDocument], doc_id: str, contents: list[int]
) -> None:
    assert documents[doc_id].contents_pages == contents


@pytest.mark.parametrize("doc_id", DOCS)
def test_text_is_normalised(documents: dict[str, ExtractedDocument], doc_id: str) -> None:
    for page in documents[doc_id].pages:
        assert not re.search("[\ufb00-\ufb06\u00ad\u00a0\u200b\u202f]", page.text)
        assert "\n\n\n" not in page.text and page.text == page.text.strip()
        assert "  " not in page.text


@pytest.mark.parametrize("doc_id", DOCS)
def test_headings_point_at_their_paragraphs(
    documents: dict[str, ExtractedDocument], doc_id: str
) -> None:
    document = documents[doc_id]
    headings = [(page, h) for page in document.pages for h in page.headings]
    assert headings, "every one of these documents has section headings"
    for page, heading in headings:
        assert page.text[heading.start :].startswith(heading.text)
        assert heading.start == 0 or page.text[heading.start - 2 : heading.start] == "\n\n"


def test_word_processor_compounds_keep_their_hyphens(
    documents: dict[str, ExtractedDocument],
) -> None:
    # This report breaks lines only at real hyphens; none may be glued into one word.
    text = " ".join(page.text for page in documents["data-driven-healthcare-2030-full"].pages)
    assert "datadriven" not in text and "technologysupported" not in text
    assert text.count("data-driven") > 10


@pytest.mark.parametrize("doc_id", DOCS)
def test_empty_pages_reported(documents: dict[str, ExtractedDocument], doc_id: str) -> None:
    document = documents[doc_id]
    print(f"\n{doc_id}: empty pages {document.empty_pages}, contents {document.contents_pages}")
    warned = any("no text layer" in warning for warning in document.warnings)
    assert warned == bool(document.empty_pages)
    # These are born-digital reports: every page has a text layer.
    assert document.empty_pages == []
