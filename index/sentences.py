"""Splits passages into sentences and keeps their vectors: what answers quote and score."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import Embedder, EmbeddingCache, content_key, vector_store_path
from index.types import ModelInfo
from ingest.chunk import CUT_PROSE_WORDS, RUNS_ON, SENTENCE_END, embedding_text, runs_into
from ingest.types import Passage

_BULLET = "[•▪◦●■‣∙*–-]"
_ENUMERATOR = r"\(?(?:\d{1,2}|[a-zA-Z]|[ivx]{1,4})[.)]"  # "6." / "(b)" / "iv)"
BULLET = re.compile(rf"^\s*(?:{_BULLET}\s*)?")  # a list marker is not part of the sentence
SENTENCE_MEMORY = 50_000  # sentence vectors kept in memory (~1.5 kB each)
PREPARE_BATCH = 32
# Sentences are short: 64 or 128 per batch embedded them ~20% faster than 32 (measured on
# 600). 128 of the longest (256 tokens) need ~400 MB of attention scores, and took a build's
# peak to 1.24 GB, so 64.
SENTENCE_BATCH = 64
# How a store's sentence vectors were computed (see `pool_sentences`).
IN_CONTEXT, ALONE = "pooled in context", "embedded alone"
ENUMERATOR_ONLY = re.compile(rf"^\s*{_ENUMERATOR}$")
# A list item: a bullet or an enumerator before its text.
LIST_ITEM = re.compile(rf"^\s*(?:{_BULLET}|{_ENUMERATOR})\s")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return [start, end) of each sentence of a passage: paragraphs split at sentence ends.

    A paragraph is a line, except that a line ending mid-sentence (no closing punctuation) whose
    next line goes on with it (`runs_into`: in lower case, or a figure after "to", "of"...)
    runs on into it: a sentence cut by a page or column break is one sentence, its span
    covering the break.
    """
    spans = []
    for start, end in _paragraphs(text):
        block = text[start:end]
        position = start
        for match in [*SENTENCE_END.finditer(block), None]:
            stop = start + (match.start() if match else len(block))
            piece = text[position:stop]
            if match and ENUMERATOR_ONLY.match(piece):
                continue  # "1." or "(a)" starts the sentence after it, not one of its own
            if piece.strip():
                left = position + len(piece) - len(BULLET.sub("", piece, count=1))
                if left < position + len(piece.rstrip()):
                    spans.append((left, position + len(piece.rstrip())))
            if match:
                position = start + match.end()
    return spans


def sentence_store_path(data_dir: Path, info: ModelInfo) -> Path:
    """Return the SQLite file of sentence vectors that builds fill and answers read."""
    return vector_store_path(data_dir, info, kind="sentences")


def pool_sentences(
    passages: Sequence[Passage],
    embedder: Embedder,
    path: Path,
    *,
    in_context: bool = True,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Store sentence vectors pooled from their passages' pass; return those passages' vectors.

    in_context=False, or a model that cannot pool spans, pools nothing: `embed_sentences` then
    embeds every sentence on its own. The store keeps vectors of one method only, and drops
    those of the other when the method changes (vectors of both would not score alike).

    Each passage with a sentence the store lacks goes through the model once
    (`Embedder.encode_in_context`): the mean of its tokens is its vector, by the content key of
    its embedding text, and the mean of each sentence's tokens that sentence's. A text found
    in two overlapping passages is stored once, from the first passage that holds it whole;
    one that truncation cut off in every passage is left for `embed_sentences`.
    """
    in_context = in_context and embedder.pools_spans
    store = EmbeddingCache(path, embedder.info.dimension)
    try:
        # Builds before this choice existed embedded every sentence alone.
        store.keep_only(IN_CONTEXT if in_context else ALONE, unmarked=ALONE)
        if not in_context:
            return {}
        texts = [embedding_text(p) for p in passages]
        spans = [sentence_spans(p.text) for p in passages]
        sentences = [[p.text[a:b] for a, b in row] for p, row in zip(passages, spans, strict=True)]
        known = store.get_many([content_key(t) for row in sentences for t in row])
        todo = [
            i for i, row in enumerate(sentences) if any(content_key(t) not in known for t in row)
        ]
        todo = sorted({texts[i]: i for i in reversed(todo)}.values())  # each text once, first
        # The spans are in the passage's text, which ends its embedding text (after a heading).
        shifts = [len(texts[i]) - len(passages[i].text) for i in todo]
        vectors, pooled = embedder.encode_in_context(
            [texts[i] for i in todo],
            [[(a + d, b + d) for a, b in spans[i]] for i, d in zip(todo, shifts, strict=True)],
            progress=progress,
        )
        fresh: dict[str, np.ndarray] = {}
        for i, row in zip(todo, pooled, strict=True):
            for text, vector in zip(sentences[i], row, strict=True):
                key = content_key(text)
                if vector is not None and key not in known and key not in fresh:
                    fresh[key] = vector
        if fresh:
            store.put_many(list(fresh), np.stack(list(fresh.values())))
    finally:
        store.close()
    return {content_key(texts[i]): vector for i, vector in zip(todo, vectors, strict=True)}


def embed_sentences(
    passages: Sequence[Passage], embedder: Embedder, path: Path, *, progress: bool = False
) -> tuple[int, int]:
    """Store the vector of every sentence of these passages; return (sentences, newly embedded).

    Each span `sentence_spans` finds that the store lacks is embedded on its own: all of them
    after `pool_sentences` declined to pool in context, or those it could not pool. All at
    once, so the model batches them by length (little padding), with one write for the lot.
    """
    texts = list(dict.fromkeys(p.text[a:b] for p in passages for a, b in sentence_spans(p.text)))
    keys = [content_key(t) for t in texts]
    store = EmbeddingCache(path, embedder.info.dimension)
    try:
        known = store.get_many(keys)
        todo = [i for i, key in enumerate(keys) if key not in known]
        if todo:
            vectors = embedder.encode_passages(
                [texts[i] for i in todo], progress=progress, batch_size=SENTENCE_BATCH
            )
            store.put_many([keys[i] for i in todo], vectors)
    finally:
        store.close()
    return len(texts), len(todo)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Return [start, end) of each paragraph: lines, joined where a sentence runs on."""
    paragraphs: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        if not line.group().strip():
            continue
        if (
            paragraphs
            and runs_into(text[slice(*paragraphs[-1])], line.group())
            and _continues(text, paragraphs)
        ):
            paragraphs[-1] = (paragraphs[-1][0], line.end())
            continue
        paragraphs.append((line.start(), line.end()))
    return paragraphs


def _continues(text: str, paragraphs: list[tuple[int, int]]) -> bool:
    """Return True when a line that goes on with a sentence (`runs_into` the last of these
    paragraphs, which therefore ends mid-sentence) runs on from it.

    When the last is a list item, the paragraph before its list must
    not be prose cut mid-sentence: a figure's items extracted inside a paragraph that a page
    break cut ("... resulting in the publication", "1. Supporting our senior leaders", ...,
    "6. Embedding social care into the programme", then the next page's "of a report on ...")
    would glue the continuation onto the last item; it starts a paragraph of its own instead.
    A heading over the list ("3.2 Priorities", no stop but few words) is no such paragraph.
    """
    at = len(paragraphs) - 1
    while at >= 0 and LIST_ITEM.match(text[slice(*paragraphs[at])]):
        at -= 1
    if at in (-1, len(paragraphs) - 1):
        return True  # no list item last, or nothing but list items
    before = text[slice(*paragraphs[at])]
    return not (RUNS_ON.search(before) and len(before.split()) >= CUT_PROSE_WORDS)


class SharedEmbedder(Embedder):
    """An embedder that answers on several threads at once and remembers its recent queries.

    The tokenizer refuses concurrent use ("Already borrowed"), so encoding is serialised; and
    search and sentence scoring encode the same query, so the second time is free.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            if text not in self._queries:
                self._queries[text] = super().encode_query(text)
                while len(self._queries) > 64:
                    self._queries.popitem(last=False)
            self._queries.move_to_end(text)
            return self._queries[text]

    def forget_queries(self) -> None:
        """Drop the remembered queries: a timed answer then pays for encoding its question, as
        a question asked for the first time does."""
        with self._lock:
            self._queries.clear()

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        with self._lock:
            return super().encode_passages(texts, progress=progress, batch_size=batch_size)


class SentenceVectors:
    """Sentence vectors by text: kept in memory, read from a SQLite file that outlives versions.

    Embedding a question's candidate sentences is most of the time an answer takes, so vectors
    are kept once computed, and `prepare` computes all of an index's in advance. Only
    `prepare(..., save=True)` (run by `iga build`) writes the file: serving reads it read-only,
    so any number of processes can serve one data dir, and a read-only one.
    """

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.embedder = embedder
        self.path = path
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the vectors already computed for any of these texts."""
        with self._lock:
            found = {t: self._memory[t] for t in texts if t in self._memory}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing and self.path.exists():
            keys = {t: content_key(t) for t in missing}
            try:
                store = EmbeddingCache(self.path, self.embedder.info.dimension, read_only=True)
                try:
                    stored = store.get_many(list(keys.values()))
                finally:
                    store.close()
            except sqlite3.Error:
                stored = {}  # being written by a build, or unreadable: compute what is needed
            found.update({t: stored[key] for t, key in keys.items() if key in stored})
            self._remember(found)
        return found

    def embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Return freshly computed vectors of these texts, and keep them in memory."""
        texts = list(dict.fromkeys(texts))
        if not texts:
            return {}
        fresh = dict(zip(texts, self.embedder.encode_passages(texts), strict=True))
        self._remember(fresh)
        return fresh

    def prepare(
        self, texts: Sequence[str], *, stop: threading.Event | None = None, save: bool = False
    ) -> int:
        """Compute the vectors of those texts not yet known, in small batches; return how many.

        save=True also writes them to the file, for every later process to read.
        """
        known = self.known(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        store = EmbeddingCache(self.path, self.embedder.info.dimension) if save and todo else None
        try:
            for start in range(0, len(todo), PREPARE_BATCH):
                if stop is not None and stop.is_set():
                    return start
                batch = self.embed(todo[start : start + PREPARE_BATCH])
                if store is not None:
                    store.put_many([content_key(t) for t in batch], np.stack(list(batch.values())))
        finally:
            if store is not None:
                store.close()
        return len(todo)

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._memory.update(vectors)
            while len(self._memory) > SENTENCE_MEMORY:
                self._memory.popitem(last=False)
