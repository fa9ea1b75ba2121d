"""The real corpus manifest validates, and a bad entry fails naming the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.errors import ManifestError
from ingest.manifest import load_manifest
from ingest.types import DocumentFormat

PROJECT_MANIFEST = Path(__file__).resolve().parents[1] / "corpus_manifest.yaml"
VALID = {
    "id": "girft-radiology-2020",
    "title": "Radiology: GIRFT Programme National Specialty Report",
    "publisher": "Getting It Right First Time (GIRFT)",
    "published": "2020-11-01",
    "format": "pdf",
    "url": "https://www.example.org/girft-radiology.pdf",
}


def write_manifest(tmp_path: Path, documents: list[dict]) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"documents": documents}), encoding="utf-8")
    return path


def test_project_manifest_lists_the_eleven_national_documents():
    manifest = load_manifest(PROJECT_MANIFEST)

    assert len(manifest.documents) == 11
    html = [doc.id for doc in manifest.documents if doc.format is DocumentFormat.html]
    assert html == ["imaging-reporting-turnaround-times-2023"]
    for doc in manifest.documents:
        # Every document can be fetched directly, or says where to get it by hand and why.
        assert doc.has_download_url or (doc.landing_page and doc.note), doc.id
        assert doc.topics, doc.id


@pytest.mark.corpus
def test_shared_dev_manifest_validates(shared_corpus):
    manifest = load_manifest(shared_corpus / "manifest.yaml")

    assert len(manifest.documents) == 4
    assert all(doc.url is None and doc.sha256 for doc in manifest.documents)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"published": "2020-13-45"}, "published", id="bad-date"),
        pytest.param({"title": None}, "title", id="missing-title"),
        pytest.param({"id": "GIRFT Radiology 2020!"}, "id", id="bad-id"),
        pytest.param({"pages": 120}, "pages", id="unknown-field"),
        pytest.param({"format": "docx"}, "format", id="bad-format"),
        pytest.param({"sha256": "abc123"}, "sha256", id="bad-sha256"),
        pytest.param({"url": "ftp://example.org/file.pdf"}, "url", id="bad-url"),
    ],
)
def test_bad_entry_names_the_entry_and_the_field(tmp_path, change, field):
    bad = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    path = write_manifest(tmp_path, [{**VALID, "id": "first-document"}, bad])

    with pytest.raises(ManifestError) as error:
        load_manifest(path)

    message = str(error.value)
    assert f"entry {bad['id']!r} (#2)" in message
    assert f"field {field!r}" in message


def test_duplicate_id_names_the_id(tmp_path):
    path = write_manifest(tmp_path, [VALID, VALID])

    with pytest.raises(ManifestError, match="'girft-radiology-2020' appears more than once"):
        load_manifest(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, "manifest not found", id="missing-file"),
        pytest.param("documents: [unclosed", "not valid YAML", id="invalid-yaml"),
        pytest.param("docs: []", "expected a mapping with a 'documents:' list", id="wrong-shape"),
    ],
)
def test_unreadable_manifest_says_what_is_wrong(tmp_path, text, expected):
    path = tmp_path / "manifest.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")

    with pytest.raises(ManifestError, match=expected):
        load_manifest(path)
