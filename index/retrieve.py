"""Answers searches against a loaded index version: dense (FAISS), BM25 (bm25s) or hybrid (RRF)."""

from __future__ import annotations

import functools
import mmap
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.embed import Embedder, weights_sha256
from index.store import (
    BM25_DIR,
    DENSE,
    PASSAGE_OFFSETS,
    PASSAGES,
    ROW_DOCS,
    IndexStoreError,
    served_version,
)
from index.types import INDEX_FORMAT, Hit, IndexMeta, Mode, SearchFilters
from ingest.settings import Settings
from ingest.tokens import resolve_model
from ingest.types import Passage

RRF_K = 60  # the constant from Cormack et al. (2009); larger flattens the rank weights


def bm25_tokenize(texts: list[str]) -> list[list[str]]:
    """Return BM25 tokens: lowercased words, English stop words removed, Snowball-stemmed."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )


class SearchIndex:
    """An index version loaded once (model, FAISS, BM25, passages) to answer many searches."""

    def __init__(
        self, folder: Path, meta: IndexMeta, *, embedder: Embedder, settings: Settings
    ) -> None:
        import bm25s
        import faiss

        self.folder = folder
        self.meta = meta
        self.settings = settings
        # One thread each: for one query at a time FAISS is 2-3x faster than with two, and a
        # second torch thread mostly waits, badly so when the other core is busy (see
        # benchmarks/README.md). Concurrent searches still use both cores.
        faiss.omp_set_num_threads(1)
        torch = sys.modules.get("torch")  # loaded by the embedder, unless it needs none
        if torch is not None:
            torch.set_num_threads(1)
        try:
            self.dense = faiss.read_index(str(folder / DENSE))
            self.bm25 = bm25s.BM25.load(str(folder / BM25_DIR), allow_pickle=False)
            self._offsets = np.load(folder / PASSAGE_OFFSETS, allow_pickle=False)
            self._row_doc = np.load(folder / ROW_DOCS, allow_pickle=False)
            with open(folder / PASSAGES, "rb") as handle:
                # Mapped, not read: only hits are parsed, and the OS pages the text in and out.
                self._passages = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexStoreError(
                f"the index in {folder} is damaged ({exc.__class__.__name__}: {exc}): "
                "rebuild with `iga build --force`"
            ) from None
        rows = {self.dense.ntotal, len(self._offsets) - 1, len(self._row_doc), meta.passages}
        grouped = bool(np.all(np.diff(self._row_doc) >= 0))
        if len(rows) != 1 or self._offsets[-1] != len(self._passages) or not grouped:
            raise IndexStoreError(
                f"the index in {folder} is inconsistent ({self.dense.ntotal} vectors, "
                f"{len(self._offsets) - 1} passages, metadata says {meta.passages}): "
                "rebuild with `iga build --force`"
            )
        if hasattr(self.dense, "hnsw"):
            self.dense.hnsw.efSearch = settings.hnsw_ef_search
        self._doc_names = sorted(meta.documents)
        # Rows come grouped by document in sorted id order (the build writes them so): a
        # filter's row mask is each document's yes or no repeated over its rows.
        self._doc_rows = np.bincount(self._row_doc, minlength=len(self._doc_names))
        self._bm25_top_k = _compiled_bm25_top_k()
        self._bm25_arrays = (
            self.bm25.scores["data"],
            self.bm25.scores["indices"],
            self.bm25.scores["indptr"],
        )
        self.embedder = embedder

    @classmethod
    def load(cls, settings: Settings, *, embedder: Embedder | None = None) -> SearchIndex:
        """Return the served index version, refusing one built with a different model."""
        folder, meta = served_version(settings.index_root)
        if meta.format != INDEX_FORMAT:
            raise IndexStoreError(
                f"the index in {folder} was built by an older version of this program "
                f"(format {meta.format}, this one reads {INDEX_FORMAT}): run `iga build` to "
                "rewrite it (cached embeddings are reused)"
            )
        spec = resolve_model(settings.model)
        if spec.name != meta.model.name:
            raise IndexStoreError(
                f"the index was built with model {meta.model.name!r}, but the configured model is "
                f"{spec.name!r}: rebuild with `iga build --force`"
            )
        if embedder is None:
            embedder = Embedder(spec, dtype=meta.model.dtype, batch_size=settings.embed_batch_size)
        elif embedder.sha256 != weights_sha256(spec):
            raise IndexStoreError("the embedder given does not match the configured model")
        if embedder.sha256 != meta.model.sha256 or embedder.info.dimension != meta.model.dimension:
            raise IndexStoreError(
                f"the model's weights (sha256 {embedder.sha256}) differ from those that built the "
                f"index ({meta.model.sha256}): rebuild with `iga build --force`"
            )
        return cls(folder, meta, embedder=embedder, settings=settings)

    @property
    def size(self) -> int:
        return int(self.dense.ntotal)

    def passage(self, row: int) -> Passage:
        """Return the passage stored at a row."""
        return Passage.model_validate_json(
            self._passages[self._offsets[row] : self._offsets[row + 1]]
        )

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Mode | str = Mode.hybrid,
        filters: SearchFilters | None = None,
        keyword_query: str | None = None,
    ) -> list[Hit]:
        """Return the top-k passages for a query, best first.

        `keyword_query` replaces the query for BM25 only (e.g. with acronyms expanded).
        """
        mode = Mode(mode)
        allowed = self._allowed_rows(filters)
        if allowed is not None and not allowed.any():
            return []
        depth = k if mode is not Mode.hybrid else max(self.settings.fusion_depth, k)

        # Rank with each retriever the mode asks for.
        vector = self.embedder.encode_query(query) if mode is not Mode.bm25 else None
        dense = self._dense(vector, depth, allowed) if vector is not None else []
        sparse = (
            self._bm25(keyword_query or query, depth, allowed) if mode is not Mode.dense else []
        )

        # Fuse by reciprocal rank: robust to the two retrievers' incomparable score scales.
        fused: dict[int, float] = {}
        for ranking in (dense, sparse):
            for rank, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
        dense_at = {row: (rank, score) for rank, (row, score) in enumerate(dense, start=1)}
        sparse_at = {row: (rank, score) for rank, (row, score) in enumerate(sparse, start=1)}
        if mode is Mode.dense:
            order = [row for row, _ in dense]
        elif mode is Mode.bm25:
            order = [row for row, _ in sparse]
        else:
            order = sorted(fused, key=lambda row: (-fused[row], row))

        # Only the hits become passages. Dense similarity is filled in for hits the dense list
        # did not reach, since the answer stage judges the strength of evidence by it.
        hits = []
        for rank, row in enumerate(order[:k], start=1):
            passage = self.passage(row)
            d_rank, d_score = dense_at.get(row, (None, None))
            b_rank, b_score = sparse_at.get(row, (None, None))
            if d_score is None:
                if vector is None:
                    vector = self.embedder.encode_query(query)
                d_score = float(np.dot(self.dense.reconstruct(row), vector))
            score = {Mode.dense: d_score, Mode.bm25: b_score}.get(mode, fused[row])
            hits.append(
                Hit(
                    passage=passage,
                    document=self.meta.documents[passage.doc_id],
                    score=float(score or 0.0),
                    dense_score=d_score,
                    dense_rank=d_rank,
                    bm25_score=b_score,
                    bm25_rank=b_rank,
                    rank=rank,
                    row=row,
                )
            )
        return hits

    def allows_any(self, filters: SearchFilters | None) -> bool:
        """Return whether any indexed passage passes the filters."""
        allowed = self._allowed_rows(filters)
        return allowed is None or bool(allowed.any())

    def first_rows(self) -> dict[str, int]:
        """Return the row of each document's first passage (rows are grouped by document)."""
        starts = np.concatenate([[0], np.cumsum(self._doc_rows)[:-1]])
        return {
            doc_id: int(start)
            for doc_id, start, count in zip(self._doc_names, starts, self._doc_rows, strict=True)
            if count
        }

    def allows_row(self, row: int, filters: SearchFilters | None) -> bool:
        """Return whether the passage at a row passes the filters."""
        allowed = self._allowed_rows(filters)
        return allowed is None or bool(allowed[row])

    def hit_at(self, row: int) -> Hit:
        """Return the passage at a row as an unscored hit (e.g. a hit's neighbour)."""
        passage = self.passage(row)
        return Hit(
            passage=passage,
            document=self.meta.documents[passage.doc_id],
            score=0.0,
            rank=0,
            row=row,
        )

    def document_frequencies(self, tokens: list[str]) -> dict[str, int]:
        """Return how many passages hold each BM25 token (0 for a token the index lacks)."""
        vocabulary = self.bm25.vocab_dict
        indptr = self._bm25_arrays[2]
        return {
            t: int(indptr[vocabulary[t] + 1] - indptr[vocabulary[t]]) if t in vocabulary else 0
            for t in tokens
        }

    def _dense(
        self, vector: np.ndarray, depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        import faiss

        index, params = self.dense, None
        if allowed is not None:
            # A bitmap tests membership in O(1) and costs size/8 bytes to build, where a batch
            # selector hashes every allowed row on each query.
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            if hasattr(index, "hnsw") and allowed.sum() <= self.settings.hnsw_threshold:
                # Few rows allowed: an exact scan of them is fast, where the graph would have to
                # wade through the rows the filter rejects (and can miss allowed ones).
                index = faiss.downcast_index(index.storage)
            if hasattr(index, "hnsw"):
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=self.settings.hnsw_ef_search
                )
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, rows = index.search(vector.reshape(1, -1), min(depth, self.size), params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def _bm25(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        vocabulary = self.bm25.vocab_dict
        ids = [vocabulary[t] for t in bm25_tokenize([query])[0] if t in vocabulary]
        if not ids:
            return []
        rows, scores = self._bm25_top_k(
            *self._bm25_arrays,
            np.array(ids, dtype=np.int64),
            allowed if allowed is not None else np.ones(0, dtype=np.bool_),
            self.size,
            depth,
        )
        return [(int(r), float(s)) for r, s in zip(rows, scores, strict=True)]

    def _allowed_rows(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Return a boolean mask of rows the filters allow, or None for no filtering."""
        if filters is None or filters.is_empty():
            return None
        allowed_docs = np.zeros(len(self._doc_names), dtype=np.bool_)
        publishers = {p.casefold() for p in filters.publishers or []}
        for position, doc_id in enumerate(self._doc_names):
            entry = self.meta.documents[doc_id].entry
            year = entry.published.year
            allowed_docs[position] = not (
                (filters.doc_ids and doc_id not in filters.doc_ids)
                or (publishers and entry.publisher.casefold() not in publishers)
                or (filters.year_from and year < filters.year_from)
                or (filters.year_to and year > filters.year_to)
            )
        return np.repeat(allowed_docs, self._doc_rows)


@functools.cache
def _compiled_bm25_top_k() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Return _bm25_top_k compiled by numba; imported here, as numba takes ~0.7 s to import."""
    import numba

    return numba.njit(cache=True, nogil=True)(_bm25_top_k)


def _bm25_top_k(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    tokens: np.ndarray,
    allowed: np.ndarray,
    size: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows and BM25 scores of the best k rows that score above zero, best first.

    `data`, `indices` and `indptr` are bm25s's precomputed scores (one sparse column per token);
    `allowed` is a mask of rows, or empty for all rows. Ties go to the lower row. The same sums
    as bm25s's numba backend, but compiled once per machine (cache=True) rather than for ~10 s
    in every process.
    """
    scores = np.zeros(size, dtype=np.float32)
    for token in tokens:
        for j in range(indptr[token], indptr[token + 1]):
            scores[indices[j]] += data[j]

    # One pass keeping the best k. A row enters only by beating the worst kept, which then
    # leaves (the lowest score, and of equal scores the highest row); rows arrive in order, so
    # a tie never displaces. Entries are rare after the first few thousand rows.
    values = np.zeros(k, dtype=np.float32)
    rows = np.full(k, size, dtype=np.int64)
    worst, floor = 0, np.float32(0.0)
    for row in range(size):
        value = scores[row]
        if value <= floor or (allowed.size and not allowed[row]):
            continue
        values[worst], rows[worst] = value, row
        worst = 0
        for i in range(1, k):
            if values[i] < values[worst] or (values[i] == values[worst] and rows[i] > rows[worst]):
                worst = i
        floor = values[worst]
    kept = values > 0
    rows, values = rows[kept], values[kept]
    by_row = np.argsort(rows)
    rows, values = rows[by_row], values[by_row]
    order = np.argsort(-values, kind="mergesort")
    return rows[order], values[order]
