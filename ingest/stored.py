"""Reads what fetch and ingest stored (fetch records, cached files, ingest records, pages),
without their heavy imports (httpx, pypdf, BeautifulSoup): answering needs only these."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ingest.errors import IgaError
from ingest.settings import Settings
from ingest.types import FetchRecord, IngestRecord, ManifestEntry, Page


def cached_path(settings: Settings, entry: ManifestEntry) -> Path:
    """Return where the entry's file lives in the cache: `cache_dir / <id>.<format>`."""
    return settings.cache_dir / entry.filename


def load_record(settings: Settings, doc_id: str) -> FetchRecord | None:
    """Return the document's fetch record, or None when it is absent or unreadable."""
    path = record_path(settings, doc_id)
    try:
        return FetchRecord.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError):
        return None


def record_path(settings: Settings, doc_id: str) -> Path:
    """Return where the document's fetch record lives: `cache_dir / <id>.json`."""
    return settings.cache_dir / f"{doc_id}.json"


def load_ingest_record(settings: Settings, doc_id: str) -> IngestRecord | None:
    """Return the document's ingest record, or None when it was never (wholly) ingested."""
    path = settings.passages_dir / doc_id / "record.json"
    if not path.exists():
        return None
    try:
        return IngestRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def load_pages(settings: Settings, doc_id: str) -> list[Page]:
    """Return the document's cleaned pages in order."""
    return [Page.model_validate_json(line) for line in read_lines(settings, doc_id, "pages")]


def read_lines(settings: Settings, doc_id: str, name: str) -> list[str]:
    path = settings.passages_dir / doc_id / f"{name}.jsonl"
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IgaError(f"{doc_id}: no {name} found at {path}: run `iga ingest` first") from None
