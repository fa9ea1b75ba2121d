"""Tries passage vectors taken from the sentence vectors: one embedding pass instead of two.

A build embeds every passage (for search) and every sentence alone (for answers): two passes
over about the same tokens. This replaces the dense index of a COPY of a built data dir with
each passage's mean sentence vector (or the mean weighted by sentence length), so that
`iga eval` can score search and answers as if the passage pass had not been run:

    cp -r DATA_DIR /tmp/one-pass && python -m benchmarks.one_pass /tmp/one-pass --weights chars
    iga eval --modes hybrid --no-baseline --questions assistant/question_sets/dev.yaml \\
        --data-dir /tmp/one-pass

It writes into the data dir it is given: never point it at one that serves.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    import faiss

    from index.embed import EmbeddingCache, content_key
    from index.retrieve import SearchIndex
    from index.sentences import sentence_spans, sentence_store_path
    from ingest.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="a copy of a built data dir (overwritten)")
    parser.add_argument("--weights", choices=("mean", "chars"), default="chars")
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir)
    index = SearchIndex.load(settings)
    folder = index.folder
    store = EmbeddingCache(
        sentence_store_path(settings.data_dir, index.meta.model),
        index.meta.model.dimension,
        read_only=True,
    )
    dense = faiss.read_index(str(folder / "dense.faiss"))
    before = dense.reconstruct_n(0, dense.ntotal)
    after = np.zeros_like(before)
    for row in range(index.size):
        passage = index.passage(row)
        texts = [passage.text[a:b] for a, b in sentence_spans(passage.text)]
        found = store.get_many([content_key(t) for t in texts])
        kept = [t for t in texts if content_key(t) in found]
        vectors = np.stack([found[content_key(t)] for t in kept])
        weights = [len(t) for t in kept] if args.weights == "chars" else None
        after[row] = np.average(vectors, axis=0, weights=weights)
    after /= np.linalg.norm(after, axis=1, keepdims=True)
    cosine = (after * before).sum(axis=1)
    print(
        f"{index.size} passages; cosine to the passage pass: median {np.median(cosine):.3f}, "
        f"p5 {np.percentile(cosine, 5):.3f}, min {cosine.min():.3f}"
    )
    replaced = faiss.IndexFlatIP(after.shape[1])
    replaced.add(after)
    faiss.write_index(replaced, str(folder / "dense.faiss"))
    print(f"wrote {folder / 'dense.faiss'}: now run `iga eval --data-dir {args.data_dir}`")


if __name__ == "__main__":
    main()
