"""`iga build`: fetch (when needed), ingest and index in one incremental, atomic step."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from index.embed import (
    Embedder,
    EmbeddingCache,
    content_key,
    resolve_dtype,
    vector_store_path,
    weights_sha256,
)
from index.retrieve import bm25_tokenize
from index.sentences import embed_sentences, pool_sentences, sentence_store_path
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
    remove_staging,
    staging_dir,
    write_meta,
)
from index.types import INDEX_FORMAT, Calibration, IndexedDocument, IndexMeta, ModelInfo
from ingest.chunk import embedding_text
from ingest.errors import IgaError
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
    warnings: list[str] = Field(
        default_factory=list, description="Indexed documents with pages that cannot be searched."
    )
    passages: int = 0
    embedded: int = Field(default=0, description="Passages sent to the model (cache misses).")
    sentences: int = Field(default=0, description="Distinct sentences with a stored vector.")
    sentences_embedded: int = Field(default=0, description="Sentences sent to the model.")
    stages: dict[str, float] = Field(
        default_factory=dict, description="Wall seconds per stage, in STAGES order."
    )
    seconds: float = 0.0


Progress = Callable[[str], None]
STAGES = (
    "fetch",
    "extract",
    "clean and chunk",
    "embed passages",
    "embed sentences",
    "keyword index",
    "write",
)


class _Stopwatch:
    """Adds up wall seconds per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def report(self) -> dict[str, float]:
        return {stage: round(self.seconds.get(stage, 0.0), 2) for stage in STAGES}


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
    watch = _Stopwatch()
    with build_lock(root):
        # Staging folders of killed builds are garbage: nothing else writes there.
        remove_staging(root)

        # Fetch and ingest; each step skips documents whose bytes did not change.
        failed: dict[str, str] = {}
        if fetch:
            with watch("fetch"):
                outcomes = fetch_documents(manifest, settings, mirror=mirror, on_progress=on_fetch)
            for outcome in outcomes:
                if outcome.status in ("failed", "skipped"):
                    failed[outcome.doc_id] = outcome.message

        # Extraction runs two documents at a time in child processes. Loading the model in a
        # thread meanwhile was tried: on a busy 2-core machine it gained nothing measurable and
        # put the parsers' memory on top of the model's (peak 1.3 GB).
        # Documents never fetched were reported by fetch: ingest only those with a file.
        spec = resolve_model(settings.model)
        key = chunking_key(settings)
        fetched = [e.id for e in manifest.documents if load_record(settings, e.id) is not None]
        ingest_started = time.perf_counter()
        ingested = []
        if fetched:
            with _writing("the documents' passages", settings.passages_dir):
                ingested = ingest_documents(
                    manifest, settings, only=fetched, force=force, on_progress=on_ingest
                )
        _split_ingest_time(watch, ingested, time.perf_counter() - ingest_started)
        for outcome in ingested:
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
        report.warnings = _unsearchable(documents)
        same_model = (
            previous is not None
            and previous.model.name == spec.name
            and previous.model.dtype == resolve_dtype(settings.embed_dtype)
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
            report.stages = watch.report()
            if previous.failures != failed:
                with _writing("the index metadata", root):
                    _refresh_failures(root, previous, failed)
            return report

        # Embed what the caches lack: passages for search, their sentences for answers. With
        # nothing to index, the served version (if any) stays: `missing` says what to add.
        passages = [p for doc_id in sorted(documents) for p in load_passages(settings, doc_id)]
        if not passages:
            report.version = previous.version if previous else None
            report.documents = previous.documents if previous else {}
            report.missing = [e.id for e in manifest.documents if e.id not in report.documents]
            report.stages = watch.report()
            report.seconds = round(time.perf_counter() - started, 2)
            return report
        # One pass gives the passages' vectors and their sentences' (pooled in context); the
        # sentences it could not pool, or all with sentences_in_context off, are embedded alone.
        with watch("embed passages"):
            embedder = Embedder(
                spec, dtype=settings.embed_dtype, batch_size=settings.embed_batch_size
            )
            sentence_store = sentence_store_path(settings.data_dir, embedder.info)
            with _writing("sentence vectors", settings.data_dir):
                pooled = pool_sentences(
                    passages,
                    embedder,
                    sentence_store,
                    in_context=settings.sentences_in_context,
                    progress=progress,
                )
            with _writing("passage vectors", settings.data_dir):
                vectors, report.embedded = cached_vectors(
                    passages, embedder, settings, progress=progress, pooled=pooled
                )
        with watch("embed sentences"), _writing("sentence vectors", settings.data_dir):
            report.sentences, report.sentences_embedded = embed_sentences(
                passages, embedder, sentence_store, progress=progress
            )

        # Write the new version beside the served one and switch to it.
        version = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        staging = staging_dir(root, version)
        try:
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
                watch=watch,
            )
            with watch("write"), _writing("the new version", root):
                publish(root, staging, version, keep=settings.keep_versions)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        report.stages = watch.report()

        report.version = version
        report.published = True
        report.passages = len(passages)
        report.seconds = round(time.perf_counter() - started, 2)
        return report


def _split_ingest_time(watch: _Stopwatch, outcomes: list[IngestOutcome], wall: float) -> None:
    """Charge ingest's wall time to extract and to clean-and-chunk, in proportion to the time
    each took per document (documents run two at a time, so their own times overlap)."""
    extract = sum(o.extract_seconds for o in outcomes)
    chunk = sum(o.chunk_seconds for o in outcomes)
    share = extract / (extract + chunk) if extract + chunk > 0 else 1.0
    watch.add("extract", wall * share)
    watch.add("clean and chunk", wall * (1 - share))


def _unsearchable(documents: dict[str, IndexedDocument]) -> list[str]:
    """Return one warning per indexed document with pages that have no text layer."""
    warnings = []
    for doc_id, document in sorted(documents.items()):
        empty = len(document.empty_pages)
        if empty == document.pages and empty:
            warnings.append(
                f"{doc_id}: {empty} of {empty} pages have no text layer: not searchable; "
                "OCR is not done"
            )
        elif empty:
            warnings.append(
                f"{doc_id}: {empty} of {document.pages} pages have no text layer and cannot be "
                "found by search; OCR is not done"
            )
    return warnings


class DiskFull(IgaError):
    """A write failed for lack of space; the served index was left as it was."""


@contextlib.contextmanager
def _writing(what: str, folder: Path) -> Iterator[None]:
    """Turn a failed write into one line naming the folder, what was written and the free space."""
    try:
        yield
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        free = _free_bytes(folder)
        # numpy's tofile (inside bm25s) reports a short write without an errno, faiss raises
        # RuntimeError and SQLite "database or disk is full": judge by the free space too.
        full = (
            getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
            or any(sign in str(exc) for sign in ("No space left", "disk is full"))
            or (free is not None and free < 1 << 20)
        )
        if full:
            raise DiskFull(
                f"disk full in {folder} while writing {what} "
                f"({_size(free)} free): free some space and rerun `iga build`; "
                "the served index is unchanged"
            ) from None
        if isinstance(exc, RuntimeError):
            raise
        raise IgaError(
            f"could not write {what} in {folder} ({exc}): the served index is unchanged"
        ) from None


def _free_bytes(folder: Path) -> int | None:
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def _size(count: int | None) -> str:
    if count is None:
        return "unknown"
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


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
    passages: list[Passage],
    embedder: Embedder,
    settings: Settings,
    *,
    progress: bool,
    pooled: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, int]:
    """Return one vector per passage and how many went through the model (the rest were cached).

    `pooled`: vectors by content key that `pool_sentences` computed this run, stored as if
    embedded here.
    """
    pooled = pooled or {}
    texts = [embedding_text(p) for p in passages]
    keys = [content_key(t) for t in texts]
    cache = EmbeddingCache(
        vector_store_path(settings.data_dir, embedder.info), embedder.info.dimension
    )
    try:
        found = cache.get_many(keys)
        if pooled:
            cache.put_many(list(pooled), np.stack(list(pooled.values())))
            found.update(pooled)
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
    return matrix, len(pooled) + len(missing)


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
    watch: _Stopwatch | None = None,
) -> IndexMeta:
    """Write every file of an index version into its staging folder; return its metadata.

    The one writer of the version layout, used by builds and by benchmarks/bench_synthetic.py,
    so that a change of format reaches both. Rows must come grouped by document in sorted id
    order (SearchIndex relies on it); `started` is when the build began, for its duration.
    """
    started = time.perf_counter() if started is None else started
    watch = watch or _Stopwatch()
    with watch("keyword index"), _writing("the keyword index", staging):
        _write_bm25(staging / BM25_DIR, passages)
    with watch("write"):
        with _writing("the dense index", staging):
            dense_kind = _write_dense(staging / DENSE, vectors, settings)
        with _writing("the passages", staging):
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
        build_stages=watch.report(),
        calibration=calibration,
    )
    with watch("write"), _writing("the index metadata", staging):
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
