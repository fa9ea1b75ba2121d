"""`iga build`: fetch (when needed), ingest and index in one incremental, atomic step."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from index.embed import Embedder, EmbeddingCache, content_key, weights_sha256
from index.retrieve import bm25_tokenize
from index.store import (
    BM25_DIR,
    DENSE,
    META,
    PASSAGE_OFFSETS,
    PASSAGES,
    ROW_DOCS,
    build_lock,
    current_version_dir,
    publish,
    read_meta,
    staging_dir,
    write_meta,
)
from index.types import INDEX_FORMAT, Calibration, IndexedDocument, IndexMeta, ModelInfo
from ingest.chunk import embedding_text
from ingest.fetch import FetchOutcome, fetch_documents, load_record
from ingest.pipeline import (
    IngestOutcome,
    chunking_key,
    ingest_documents,
    load_ingest_record,
    load_passages,
)
from ingest.settings import Settings
from ingest.tokens import resolve_model
from ingest.types import Manifest, Passage


class BuildReport(BaseModel):
    """What a build did: which documents changed, what failed, and the version now served."""

    version: str | None = Field(description="The served version after the build.")
    published: bool = Field(description="False when nothing changed and no version was written.")
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)
    missing: list[str] = Field(
        default_factory=list, description="Manifest documents not in the served index."
    )
    documents: dict[str, IndexedDocument] = Field(
        default_factory=dict, description="What the served index holds of each document."
    )
    passages: int = 0
    embedded: int = Field(default=0, description="Passages sent to the model (cache misses).")
    seconds: float = 0.0


Progress = Callable[[str], None]


def build_index(
    manifest: Manifest,
    settings: Settings,
    *,
    mirror: Path | None = None,
    fetch: bool = True,
    force: bool = False,
    on_fetch: Callable[[FetchOutcome], None] | None = None,
    on_ingest: Callable[[IngestOutcome], None] | None = None,
    progress: bool = False,
) -> BuildReport:
    """Return the report of bringing the index up to date with the manifest's documents."""
    started = time.perf_counter()
    root = settings.index_root
    with build_lock(root):
        # Fetch and ingest; each step skips documents whose bytes did not change.
        failed: dict[str, str] = {}
        if fetch:
            for outcome in fetch_documents(manifest, settings, mirror=mirror, on_progress=on_fetch):
                if outcome.status in ("failed", "skipped"):
                    failed[outcome.doc_id] = outcome.message
        # Documents never fetched were reported by fetch: ingest only those with a file.
        fetched = [e.id for e in manifest.documents if load_record(settings, e.id) is not None]
        if fetched:
            for outcome in ingest_documents(
                manifest, settings, only=fetched, force=force, on_progress=on_ingest
            ):
                if outcome.status == "failed":
                    failed.setdefault(outcome.doc_id, outcome.message)
        for entry in manifest.documents:
            if entry.id not in fetched:
                failed.setdefault(
                    entry.id,
                    f"{entry.id}: not fetched yet: run `iga build` with a network, or "
                    "`iga build --mirror FOLDER`",
                )

        # A document is indexed if it has whole passages, even when this run's fetch failed:
        # the last good copy keeps serving until a good new one arrives.
        previous = _previous_meta(root)
        documents = _indexable(manifest, settings, previous)
        report = _diff(previous, documents, failed)
        report.missing = [e.id for e in manifest.documents if e.id not in documents]
        report.documents = documents
        key = chunking_key(settings)
        spec = resolve_model(settings.model)
        same_model = (
            previous is not None
            and previous.model.name == spec.name
            and previous.model.dtype == settings.embed_dtype
            and previous.model.sha256 == weights_sha256(spec)
            and previous.chunking == key
        )
        if (
            previous
            and same_model
            and not force
            and not (report.added or report.changed or report.removed)
            and previous.format == INDEX_FORMAT
        ):
            report.version = previous.version
            report.passages = previous.passages
            report.documents = previous.documents
            report.seconds = round(time.perf_counter() - started, 2)
            if previous.failures != failed:
                _refresh_failures(root, previous, failed)
            return report

        # Embed what the cache lacks, then write and publish a new version. With nothing to
        # index, the served version (if any) stays: the report's `missing` says what to add.
        passages = [p for doc_id in sorted(documents) for p in load_passages(settings, doc_id)]
        if not passages:
            report.version = previous.version if previous else None
            report.documents = previous.documents if previous else {}
            report.missing = [e.id for e in manifest.documents if e.id not in report.documents]
            report.seconds = round(time.perf_counter() - started, 2)
            return report
        version = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        staging = staging_dir(root, version)
        embedder = Embedder(spec, dtype=settings.embed_dtype, batch_size=settings.embed_batch_size)
        vectors, report.embedded = cached_vectors(passages, embedder, settings, progress=progress)
        write_version(
            staging,
            passages,
            vectors,
            settings,
            version=version,
            model=embedder.info,
            documents=documents,
            failures=failed,
            calibration=previous.calibration if previous and same_model else None,
            started=started,
        )
        publish(root, staging, version, keep=settings.keep_versions)

        report.version = version
        report.published = True
        report.passages = len(passages)
        report.seconds = round(time.perf_counter() - started, 2)
        return report


def _indexable(
    manifest: Manifest, settings: Settings, previous: IndexMeta | None
) -> dict[str, IndexedDocument]:
    """Return the manifest documents that have whole, current passages, by id.

    A document whose bytes differ from the served version's records that version's sha256 and
    when it was replaced; an unchanged one keeps what the served version recorded.
    """
    documents: dict[str, IndexedDocument] = {}
    now = dt.datetime.now(dt.UTC)
    for entry in manifest.documents:
        record = load_ingest_record(settings, entry.id)
        if record is None:
            continue
        fetched = load_record(settings, entry.id)
        old = previous.documents.get(entry.id) if previous else None
        if old is not None and old.sha256 != record.sha256:
            history = {"previous_sha256": old.sha256, "updated_at": now}
        elif old is not None:
            history = {"previous_sha256": old.previous_sha256, "updated_at": old.updated_at}
        else:
            history = {}
        documents[entry.id] = IndexedDocument(
            entry=entry,
            sha256=record.sha256,
            pages=record.pages,
            passages=record.passages,
            empty_pages=record.empty_pages,
            fetched_at=fetched.fetched_at if fetched else None,
            source_url=fetched.final_url if fetched else None,
            file_url=(fetched.final_url if fetched and fetched.source == "network" else None),
            **history,
        )
    return documents


def _previous_meta(root: Path) -> IndexMeta | None:
    folder = current_version_dir(root) if (root / "CURRENT").exists() else None
    return read_meta(folder) if folder else None


def _diff(
    previous: IndexMeta | None, documents: dict[str, IndexedDocument], failed: dict[str, str]
) -> BuildReport:
    old = previous.documents if previous else {}
    return BuildReport(
        version=None,
        published=False,
        added=sorted(d for d in documents if d not in old),
        changed=sorted(d for d in documents if d in old and old[d].sha256 != documents[d].sha256),
        removed=sorted(d for d in old if d not in documents),
        unchanged=sorted(d for d in documents if d in old and old[d].sha256 == documents[d].sha256),
        failed=failed,
    )


def _refresh_failures(root: Path, previous: IndexMeta, failed: dict[str, str]) -> None:
    """Record this run's failures on the served version without rebuilding it."""
    folder = current_version_dir(root)
    if folder is not None:
        write_meta(folder, previous.model_copy(update={"failures": failed}))


def cached_vectors(
    passages: list[Passage], embedder: Embedder, settings: Settings, *, progress: bool
) -> tuple[np.ndarray, int]:
    """Return one vector per passage and how many had to be embedded (the rest were cached)."""
    texts = [embedding_text(p) for p in passages]
    keys = [content_key(t) for t in texts]
    cache_name = (
        f"{embedder.info.name}-{(embedder.info.sha256 or 'hub')[:12]}-{embedder.info.dtype}"
    )
    cache = EmbeddingCache(
        settings.data_dir / "embeddings" / f"{cache_name}.sqlite", embedder.info.dimension
    )
    try:
        found = cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = embedder.encode_passages([texts[i] for i in missing], progress=progress)
            cache.put_many([keys[i] for i in missing], fresh)
            for i, vector in zip(missing, fresh, strict=True):
                found[keys[i]] = vector
    finally:
        cache.close()
    matrix = np.zeros((len(passages), embedder.info.dimension), dtype=np.float32)
    for i, key in enumerate(keys):
        matrix[i] = found[key]
    return matrix, len(missing)


def write_version(
    staging: Path,
    passages: list[Passage],
    vectors: np.ndarray,
    settings: Settings,
    *,
    version: str,
    model: ModelInfo,
    documents: dict[str, IndexedDocument],
    failures: dict[str, str] | None = None,
    calibration: Calibration | None = None,
    started: float | None = None,
) -> IndexMeta:
    """Write every file of an index version into its staging folder; return its metadata.

    The one writer of the version layout, used by builds and by benchmarks/bench_synthetic.py,
    so that a change of format reaches both. Rows must come grouped by document in sorted id
    order (SearchIndex relies on it); `started` is when the build began, for its duration.
    """
    started = time.perf_counter() if started is None else started
    dense_kind = _write_dense(staging / DENSE, vectors, settings)
    _write_bm25(staging / BM25_DIR, passages)
    _write_passages(staging, passages, sorted(documents))
    meta = IndexMeta(
        format=INDEX_FORMAT,
        version=version,
        created_at=dt.datetime.now(dt.UTC),
        model=model,
        documents=documents,
        failures=failures or {},
        passages=len(passages),
        dense_kind=dense_kind,
        chunking=chunking_key(settings),
        build_seconds=round(time.perf_counter() - started, 2),
        calibration=calibration,
    )
    (staging / META).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def _write_dense(path: Path, vectors: np.ndarray, settings: Settings) -> str:
    """Write the FAISS index (exact below the HNSW threshold) and return its kind."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) <= settings.hnsw_threshold:
        index = faiss.IndexFlatIP(dimension)
        kind = "flat"
    else:
        index = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.hnsw_ef_construction
        kind = "hnsw"
    index.add(vectors)
    faiss.write_index(index, str(path))
    return kind


def _write_bm25(folder: Path, passages: list[Passage]) -> None:
    import bm25s

    retriever = bm25s.BM25(backend="numba")
    retriever.index(bm25_tokenize([embedding_text(p) for p in passages]), show_progress=False)
    retriever.save(str(folder), show_progress=False)


def _write_passages(folder: Path, passages: list[Passage], doc_ids: list[str]) -> None:
    """Write passages.jsonl, with each line's byte offset and each row's document position.

    The two arrays let SearchIndex load without parsing every line (seconds at 1M passages).
    """
    offsets = np.zeros(len(passages) + 1, dtype=np.int64)
    with (folder / PASSAGES).open("wb") as handle:
        for row, passage in enumerate(passages):
            line = passage.model_dump_json().encode("utf-8") + b"\n"
            handle.write(line)
            offsets[row + 1] = offsets[row] + len(line)
    positions = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    row_docs = np.fromiter(
        (positions[p.doc_id] for p in passages), dtype=np.int32, count=len(passages)
    )
    np.save(folder / PASSAGE_OFFSETS, offsets)
    np.save(folder / ROW_DOCS, row_docs)
