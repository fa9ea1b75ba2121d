"""Documents added by hand: what a file says about itself, the local manifest, who may add,
and the example questions the app shows."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from assistant.corpus_view import example_questions
from assistant.upload import add_documents, upload_access
from ingest.describe import describe_file, slug_for
from ingest.errors import IgaError, ManifestError
from ingest.manifest import load_corpus
from ingest.settings import Settings
from ingest.types import DocumentFormat


def pdf_with_info(title: str, author: str, text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_is_described_from_its_document_information(tmp_path: Path):
    path = tmp_path / "upload.pdf"
    path.write_bytes(pdf_with_info("Network equipment register", "North Imaging Network", "x"))

    found = describe_file(path, name="register.pdf")

    assert found.format is DocumentFormat.pdf
    assert (found.title, found.publisher) == ("Network equipment register", "North Imaging Network")
    assert found.published == dt.date.today()  # reportlab stamps the creation date


def test_pdf_without_a_title_is_named_by_its_first_line(tmp_path: Path):
    path = tmp_path / "upload.pdf"
    path.write_bytes(pdf_with_info("", "anonymous", "Mobile scanner rota for the winter"))

    found = describe_file(path, name="rota.pdf")

    assert found.title == "Mobile scanner rota for the winter"
    assert found.publisher == ""  # a PDF writer's placeholder author is no publisher


def test_html_page_is_described_from_its_title_and_meta_tags(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<!DOCTYPE html><html><head><title>Reporting standards</title>"
        '<meta name="DC.publisher" content="NHS England">'
        '<meta property="article:published_time" content="2023-08-09T10:00:00Z">'
        "</head><body><p>Text.</p></body></html>",
        encoding="utf-8",
    )

    found = describe_file(path, name="page.html")

    assert (found.format, found.title, found.publisher) == (
        DocumentFormat.html,
        "Reporting standards",
        "NHS England",
    )
    assert found.published == dt.date(2023, 8, 9)


def test_a_file_that_is_neither_pdf_nor_html_is_refused_by_name(tmp_path: Path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"\x00\x01 plain bytes")
    with pytest.raises(IgaError, match=r"^notes.pdf: neither a PDF nor an HTML page"):
        describe_file(path, name="notes.pdf")


def test_ids_are_unique_slugs_of_title_and_year():
    taken = {"equipment-register-2024"}
    assert slug_for("Equipment register", 2024, taken) == "equipment-register-2024-2"
    assert slug_for("Équipement: Übersicht!", 2021, set()) == "quipement-bersicht-2021"


@pytest.mark.parametrize(
    ("host", "auth", "expected"),
    [
        pytest.param("127.0.0.1", None, "local", id="localhost"),
        pytest.param("0.0.0.0", [("manager", "s3cret")], "signed-in", id="beyond-with-auth"),
        pytest.param("0.0.0.0", None, "off", id="beyond-without-auth"),
    ],
)
def test_beyond_localhost_only_signed_in_users_may_add(host, auth, expected):
    assert upload_access(host, auth) == expected


def test_bad_rows_fail_per_file_and_nothing_is_written(fresh_settings: Settings, tmp_path):
    path = tmp_path / "register.pdf"
    path.write_bytes(pdf_with_info("Equipment register", "", "x"))

    outcomes, assistant = add_documents(
        fresh_settings, [str(path)], [["register.pdf", "Equipment register", "", "2024-01-01"]]
    )
    assert assistant is None
    assert [o.message for o in outcomes] == ["register.pdf: give the publisher (e.g. NHS England)"]
    outcomes, _ = add_documents(
        fresh_settings, [str(path)], [["register.pdf", "Register", "North", "1 May 2024"]]
    )
    assert "'1 May 2024' is not a date like 2021-04-01" in outcomes[0].message
    assert not fresh_settings.local_manifest.exists()


def test_local_manifest_ids_may_not_shadow_official_ones(fresh_settings: Settings):
    fresh_settings.data_dir.mkdir(parents=True)
    fresh_settings.local_manifest.write_text(
        "documents:\n  - id: network-guide-2021\n    title: Mine\n    publisher: Me\n"
        "    published: 2024-01-01\n    format: pdf\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError, match=r"ids also in .*: network-guide-2021"):
        load_corpus(fresh_settings)


def test_examples_are_only_for_indexed_documents(built_settings: Settings):
    from index.store import served_version

    _, meta = served_version(built_settings.index_root)
    documents = dict(meta.documents)
    guide = documents["network-guide-2021"]
    documents["network-guide-2021"] = guide.model_copy(
        update={"entry": guide.entry.model_copy(update={"examples": ["Who chairs the board?"]})}
    )

    shown = example_questions(documents)
    assert shown == ["Who chairs the board?"]  # question sets name other documents
    assert example_questions({}) == []
