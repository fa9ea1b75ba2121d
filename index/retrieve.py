"""Answers searches against a loaded index version: dense (FAISS), BM25 (bm25s) or hybrid (RRF)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.embed import Embedder, weights_sha256
from index.store import (
    BM25_DIR,
    DENSE,
    PASSAGES,
    IndexStoreError,
    current_version_dir,
    read_meta,
)
from index.types import Hit, IndexMeta, Mode, SearchFilters
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
        # One thread: for one query at a time FAISS is 2-3x faster than with two.
        faiss.omp_set_num_threads(1)
        try:
            self.dense = faiss.read_index(str(folder / DENSE))
            self.bm25 = bm25s.BM25.load(str(folder / BM25_DIR), allow_pickle=False)
            lines = (folder / PASSAGES).read_text(encoding="utf-8").splitlines()
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexStoreError(
                f"the index in {folder} is damaged ({exc.__class__.__name__}: {exc}): "
                "rebuild with `iga build --force`"
            ) from None
        if self.dense.ntotal != len(lines) or self.dense.ntotal != meta.passages:
            raise IndexStoreError(
                f"the index in {folder} is inconsistent ({self.dense.ntotal} vectors, "
                f"{len(lines)} passages, metadata says {meta.passages}): "
                "rebuild with `iga build --force`"
            )
        if hasattr(self.dense, "hnsw"):
            self.dense.hnsw.efSearch = settings.hnsw_ef_search
        self._passages = lines  # parsed on demand: only hits become Passage objects
        doc_ids = sorted(meta.documents)
        self._doc_names = doc_ids
        positions = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        self._row_doc = np.fromiter(
            (positions[json.loads(line)["doc_id"]] for line in lines),
            dtype=np.int32,
            count=len(lines),
        )
        self.embedder = embedder

    @classmethod
    def load(cls, settings: Settings, *, embedder: Embedder | None = None) -> SearchIndex:
        """Return the served index version, refusing one built with a different model."""
        folder = current_version_dir(settings.index_root)
        if folder is None:
            raise IndexStoreError(
                f"no index in {settings.index_root}: build one with `iga build` "
                "(offline: `iga build --mirror FOLDER`)"
            )
        meta = read_meta(folder)
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
        return Passage.model_validate_json(self._passages[row])

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
        depth = k if mode is not Mode.hybrid else max(50, 5 * k)

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
                )
            )
        return hits

    def _dense(
        self, vector: np.ndarray, depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        import faiss

        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
            if hasattr(self.dense, "hnsw"):
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=self.settings.hnsw_ef_search
                )
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, rows = self.dense.search(
            vector.reshape(1, -1), min(depth, self.size), params=params
        )
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def _bm25(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        tokens = bm25_tokenize([query])
        vocabulary = self.bm25.vocab_dict
        known = [[t for t in tokens[0] if t in vocabulary]]
        if not known[0]:
            return []
        mask = allowed.astype(np.float32) if allowed is not None else None
        rows, scores = self.bm25.retrieve(
            known,
            k=min(depth, self.size),
            weight_mask=mask,
            show_progress=False,
            n_threads=1,
        )
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]

    def _allowed_rows(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Return a boolean mask of rows the filters allow, or None for no filtering."""
        if filters is None or filters.is_empty():
            return None
        allowed_docs = []
        for position, doc_id in enumerate(self._doc_names):
            entry = self.meta.documents[doc_id].entry
            year = entry.published.year
            if (
                (filters.doc_ids and doc_id not in filters.doc_ids)
                or (filters.publishers and entry.publisher not in filters.publishers)
                or (filters.year_from and year < filters.year_from)
                or (filters.year_to and year > filters.year_to)
            ):
                continue
            allowed_docs.append(position)
        return np.isin(self._row_doc, np.array(allowed_docs, dtype=np.int32))
