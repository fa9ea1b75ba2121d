"""The tutorial baseline: raw pypdf pages, 1,000-character chunks, dense-only exact search.

This is the pipeline most quick-start guides build (load a PDF page by page, split each page's
text into fixed windows, embed them, search a flat FAISS index), measured beside the product by
`iga eval` so its numbers say what the cleaning, sentence-aware chunking, BM25 and fusion add.
It shares the product's embedding model and embedding cache, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.build import cached_vectors
from index.embed import Embedder
from index.types import Hit, IndexedDocument
from ingest.errors import IgaError
from ingest.fetch import cached_path
from ingest.settings import Settings
from ingest.types import DocumentFormat, PageSpan, Passage

CHUNK_CHARS = 1000
OVERLAP_CHARS = 200


def page_texts(path: Path, fmt: DocumentFormat) -> list[str]:
    """Return each page's raw text: pypdf's `extract_text()` per PDF page, uncleaned.

    An HTML document is one page: BeautifulSoup's `get_text()` of the whole file.
    """
    if fmt is DocumentFormat.html:
        from bs4 import BeautifulSoup

        return [BeautifulSoup(path.read_bytes(), "lxml").get_text()]
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def chunk_pages(doc_id: str, pages: list[str]) -> list[Passage]:
    """Return fixed windows of CHUNK_CHARS characters, OVERLAP_CHARS shared, within each page."""
    passages: list[Passage] = []
    step = CHUNK_CHARS - OVERLAP_CHARS
    for number, text in enumerate(pages, start=1):
        start = 0
        while start < len(text):
            end = min(start + CHUNK_CHARS, len(text))
            if text[start:end].strip():
                passages.append(
                    Passage(
                        id=f"{doc_id}#b{number:04d}-{start:06d}",
                        doc_id=doc_id,
                        ordinal=len(passages),
                        first_page=number,
                        last_page=number,
                        section=None,
                        text=text[start:end],
                        spans=[PageSpan(page=number, start=start, end=end)],
                        n_tokens=0,  # the tutorial counts characters, not tokens
                    )
                )
            if end == len(text):
                break
            start += step
    return passages


class BaselineIndex:
    """The baseline's passages and their vectors in a flat inner-product FAISS index."""

    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        *,
        documents: dict[str, IndexedDocument],
        embedder: Embedder,
    ) -> None:
        import faiss

        self.passages = passages
        self.documents = documents
        self.embedder = embedder
        self.dense = faiss.IndexFlatIP(vectors.shape[1])
        self.dense.add(vectors)

    @classmethod
    def build(
        cls,
        settings: Settings,
        documents: dict[str, IndexedDocument],
        embedder: Embedder,
        *,
        on_document: Callable[[str], None] | None = None,
    ) -> BaselineIndex:
        """Return the baseline over the cached files of `documents`, embedded with `embedder`.

        Page texts are kept under `data_dir/baseline` and vectors in the product's embedding
        cache, both keyed by content, so a rerun neither re-extracts nor re-embeds.
        """
        passages: list[Passage] = []
        for doc_id, document in sorted(documents.items()):
            if on_document:
                on_document(doc_id)
            pages = _cached_page_texts(settings, document)
            passages.extend(chunk_pages(doc_id, pages))
        if not passages:
            raise IgaError("the baseline found no text in the cached documents")
        vectors, _ = cached_vectors(passages, embedder, settings, progress=False)
        return cls(passages, vectors, documents=documents, embedder=embedder)

    def search(self, query: str, *, k: int = 10) -> list[Hit]:
        """Return the top-k passages by cosine similarity to the query, best first."""
        vector = self.embedder.encode_query(query)
        scores, rows = self.dense.search(vector.reshape(1, -1), min(k, len(self.passages)))
        hits = []
        for rank, (row, score) in enumerate(zip(rows[0], scores[0], strict=True), start=1):
            passage = self.passages[int(row)]
            hits.append(
                Hit(
                    passage=passage,
                    document=self.documents[passage.doc_id],
                    score=float(score),
                    dense_score=float(score),
                    dense_rank=rank,
                    rank=rank,
                )
            )
        return hits


def _cached_page_texts(settings: Settings, document: IndexedDocument) -> list[str]:
    """Return the raw page texts of a document's cached file, extracting them once per file."""
    # Find the cached file.
    source = cached_path(settings, document.entry)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise IgaError(
            f"{document.entry.id}: the baseline needs the cached file {source}, which is missing: "
            "rerun `iga build` (or `iga fetch`)"
        ) from None

    # Exit early if these bytes were extracted before.
    digest = hashlib.sha256(data).hexdigest()
    store = settings.data_dir / "baseline" / f"{document.entry.id}-{digest[:16]}.json"
    if store.exists():
        return json.loads(store.read_text(encoding="utf-8"))

    # Extract, and keep the result for the next run.
    pages = page_texts(source, document.entry.format)
    store.parent.mkdir(parents=True, exist_ok=True)
    temporary = store.with_name(f".{store.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(pages), encoding="utf-8")
    temporary.replace(store)
    return pages
