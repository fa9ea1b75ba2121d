"""Runs extract -> clean -> chunk for every fetched document and stores the results per document.

Layout under `settings.passages_dir`: one folder per document holding `pages.jsonl`,
`passages.jsonl` and `record.json`. A folder is built beside its final name and swapped in
whole, so a reader never sees one document's pages with another version's passages.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ingest.chunk import chunk_document
from ingest.errors import IgaError
from ingest.extract import extract_document
from ingest.fetch import cached_path, load_record
from ingest.settings import Settings
from ingest.stored import load_ingest_record, read_lines
from ingest.tokens import TokenCounter, resolve_model
from ingest.types import IngestRecord, Manifest, ManifestEntry, Page, Passage

# Bump when extraction, cleaning or chunking change what they produce: every document is re-cut.
PIPELINE_VERSION = 7


class IngestOutcome(BaseModel):
    """What happened to one document in an ingest run."""

    doc_id: str
    status: Literal["ingested", "unchanged", "failed"]
    message: str = ""
    record: IngestRecord | None = None
    extract_seconds: float = Field(default=0.0, description="Reading and parsing the file.")
    chunk_seconds: float = Field(default=0.0, description="Cleaning the pages and cutting them.")


def chunking_key(settings: Settings) -> dict[str, str | int]:
    """Return the settings that determine the passages; a change to any re-cuts every document."""
    return {
        "pipeline": PIPELINE_VERSION,
        "model": resolve_model(settings.model).name,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
    }


def ingest_documents(
    manifest: Manifest,
    settings: Settings,
    *,
    only: Sequence[str] | None = None,
    force: bool = False,
    on_progress: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Return one outcome per manifest document, extracting and chunking those whose bytes changed."""
    entries = [e for e in manifest.documents if not only or e.id in only]
    key = chunking_key(settings)
    counter = TokenCounter(resolve_model(settings.model))

    def run(entry: ManifestEntry) -> IngestOutcome:
        try:
            outcome = _ingest_one(entry, settings, counter, key, force=force)
        except IgaError as exc:
            outcome = IngestOutcome(doc_id=entry.id, status="failed", message=str(exc))
        if on_progress:
            on_progress(outcome)
        return outcome

    # Extraction runs in a child process per document, so two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, entries))


def _ingest_one(
    entry: ManifestEntry,
    settings: Settings,
    counter: TokenCounter,
    key: dict[str, str | int],
    *,
    force: bool,
) -> IngestOutcome:
    # Find the fetched file.
    fetched = load_record(settings, entry.id)
    source = cached_path(settings, entry)
    if fetched is None or not source.exists():
        return IngestOutcome(
            doc_id=entry.id,
            status="failed",
            message=f"{entry.id}: not fetched yet: run `iga fetch` (or `iga fetch --mirror DIR`)",
        )

    # Exit early if the passages were cut from these bytes with these settings.
    if not force and not needs_ingest(settings, entry, key):
        return IngestOutcome(
            doc_id=entry.id, status="unchanged", record=load_ingest_record(settings, entry.id)
        )

    # Extract, clean and chunk.
    started = time.perf_counter()
    doc = extract_document(
        source, doc_id=entry.id, fmt=entry.format, timeout_s=settings.extract_timeout_s
    )
    passages = chunk_document(
        doc,
        counter,
        target_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap,
    )
    record = IngestRecord(
        doc_id=entry.id,
        sha256=doc.sha256,
        pages=len(doc.pages),
        empty_pages=doc.empty_pages,
        contents_pages=doc.contents_pages,
        passages=len(passages),
        seconds=round(time.perf_counter() - started, 3),
        warnings=doc.warnings,
        chunking=key,
        ingested_at=dt.datetime.now(dt.UTC),
    )
    _write_document(settings.passages_dir / entry.id, doc.pages, passages, record)
    return IngestOutcome(
        doc_id=entry.id,
        status="ingested",
        record=record,
        extract_seconds=doc.parse_seconds,
        chunk_seconds=round(record.seconds - doc.parse_seconds, 3),
    )


def needs_ingest(settings: Settings, entry: ManifestEntry, key: dict[str, str | int]) -> bool:
    """Return whether the document's passages are missing or were cut from other bytes or
    settings than those fetched now."""
    fetched = load_record(settings, entry.id)
    previous = load_ingest_record(settings, entry.id)
    return (
        fetched is None
        or previous is None
        or previous.sha256 != fetched.sha256
        or previous.chunking != key
    )


def _write_document(
    folder: Path, pages: list[Page], passages: list[Passage], record: IngestRecord
) -> None:
    """Write a document's folder beside its final name, then swap it in."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _write_jsonl(staging / "pages.jsonl", [p.model_dump_json() for p in pages])
        _write_jsonl(staging / "passages.jsonl", [p.model_dump_json() for p in passages])
        (staging / "record.json").write_text(record.model_dump_json(indent=2), encoding="utf-8")
        retired = folder.with_name(f".{folder.name}.old")
        if retired.exists():
            shutil.rmtree(retired)
        if folder.exists():
            folder.rename(retired)
        staging.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_jsonl(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")


def load_passages(settings: Settings, doc_id: str) -> list[Passage]:
    """Return the document's passages in order."""
    return [Passage.model_validate_json(line) for line in read_lines(settings, doc_id, "passages")]


def summary_line(outcomes: list[IngestOutcome], seconds: float) -> dict[str, float | int]:
    """Return the run's totals: documents, pages, empty pages, passages, failures, seconds."""
    records = [o.record for o in outcomes if o.record]
    return {
        "documents": len(outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "pages": sum(r.pages for r in records),
        "empty_pages": sum(len(r.empty_pages) for r in records),
        "contents_pages": sum(len(r.contents_pages) for r in records),
        "passages": sum(r.passages for r in records),
        "seconds": round(seconds, 2),
    }
