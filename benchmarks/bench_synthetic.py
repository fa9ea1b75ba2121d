"""Search at scale: a synthetic corpus of --size passages (1,000,000 by default) grown from the real one.

    python -m benchmarks.bench_synthetic [--size 1000000] [--sweep-size 200000] [--reuse] [--quick]

Vectors: perturbed copies of the real passage embeddings, normalised. Random vectors, and even
real ones plus isotropic noise, are pathological for HNSW: in 384 dimensions the copies of one
passage end up all but equidistant from a query (near-ties everywhere). So the perturbation is
drawn from the corpus's own spread: real passage i + --spread x (real passage j - real passage k)
+ Gaussian noise of --sigma per dimension, for random i, j, k. This keeps the real embeddings'
shape, and a query's best cosines close to the real corpus's (printed as the similarity profile).
Text: each copy
draws 70% of its words from its real passage and 30% from the whole corpus's words, so BM25
posting lists have realistic lengths. Queries: the evaluation questions, encoded by the model.

1. Exact flat search latency at several sizes (one thread, one query at a time).
2. HNSW sweep at --sweep-size: M x efConstruction x efSearch -> build rate, recall@10 against
   exact search, latency.
3. The product at --size: the index is written by index/build.py's own write_version with the
   default Settings, published by index/store.py, loaded by SearchIndex.load, and searched with
   SearchIndex.search (model encoding included), unfiltered and filtered; plus recall@10 of the
   served dense index against exact search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    arguments,
    ensure_index,
    question_texts,
    rss_mb,
    show,
    summarise,
    time_each,
    write_result,
)

DOC_PASSAGES = 1000  # passages per synthetic document
PUBLISHERS = ("Synthetic Board", "Synthetic College", "Synthetic Agency")
MODES = ("dense", "bm25", "hybrid")
K = 10


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="Synthetic passages.")
    parser.add_argument("--spread", type=float, default=0.5, help="Weight of (real j - real k).")
    parser.add_argument("--sigma", type=float, default=0.01, help="Noise per dimension.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--flat-sizes",
        default="50000,100000,200000,500000,1000000",
        help="Sizes for exact search latency (those above --size are skipped).",
    )
    parser.add_argument("--sweep-size", type=int, default=200_000, help="0 skips the sweep.")
    parser.add_argument("--sweep-m", default="16,32")
    parser.add_argument("--sweep-ef-construction", default="100,200")
    parser.add_argument("--sweep-ef-search", default="32,64,128,256")
    parser.add_argument(
        "--product-ef-search",
        default="64,128,256,512",
        help="efSearch values tried on the product's HNSW index (a search-time setting).",
    )
    parser.add_argument("--reuse", action="store_true", help="Reuse a product index of this size.")
    parser.add_argument(
        "--hnsw-threshold",
        type=int,
        help="Override the settings' exact-search limit (e.g. below --size to test HNSW small).",
    )
    parser.add_argument(
        "--work", type=Path, help="Where the index goes (default RESULTS/synthetic)."
    )
    args = parser.parse_args()
    args.work = args.work or args.results / "synthetic"
    if args.quick:
        # HNSW (threshold below the size), the sweep and the filters, on a few thousand passages.
        args.size, args.flat_sizes, args.hnsw_threshold = 3000, "3000", 1000
        args.sweep_size, args.sweep_m, args.sweep_ef_construction = 2000, "16", "40"
        args.sweep_ef_search, args.product_ef_search = "32", "64"

    # The real corpus: its vectors, its words and the questions' vectors.
    real = ensure_index(args.results / "data", args.corpus)
    from index.retrieve import SearchIndex

    real_index = SearchIndex.load(real)
    embedder = real_index.embedder
    base = real_index.dense.reconstruct_n(0, real_index.size)
    base_texts = [real_index.passage(row).text for row in range(real_index.size)]
    questions = question_texts()
    queries = np.stack([embedder.encode_query(q) for q in questions])
    print(f"{real_index.size} real passages, {len(questions)} questions; generating {args.size:,}")

    # Generate the vectors and their exact top-k.
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    bases = rng.integers(0, len(base), size=args.size)
    vectors = _perturbed(base, bases, spread=args.spread, sigma=args.sigma, rng=rng)
    figures: dict[str, Any] = {
        "size": args.size,
        "real_passages": len(base),
        "questions": len(questions),
        "spread": args.spread,
        "sigma": args.sigma,
        "generate_s": round(time.perf_counter() - started, 1),
        "similarity": _similarity_profile(base, vectors, queries),
    }
    print(f"  similarity profile: {figures['similarity']}")

    # 1. Exact search latency by size.
    sizes = [int(s) for s in args.flat_sizes.split(",") if int(s) <= args.size]
    figures["flat"] = {str(n): _flat_latency(vectors[:n], queries) for n in sizes}

    # 2. HNSW parameters at a middle size.
    if args.sweep_size:
        n = min(args.sweep_size, args.size)
        figures["hnsw_sweep"] = _hnsw_sweep(
            vectors[:n],
            queries,
            ms=[int(m) for m in args.sweep_m.split(",")],
            ef_constructions=[int(e) for e in args.sweep_ef_construction.split(",")],
            ef_searches=[int(e) for e in args.sweep_ef_search.split(",")],
        )

    # 3. The product's own index at full size.
    figures["product"] = _product(args, vectors, bases, base_texts, questions, queries, embedder)
    write_result(f"synthetic-{args.size}", figures, options=vars(args), folder=args.results)


def _perturbed(
    base: np.ndarray,
    bases: np.ndarray,
    *,
    spread: float,
    sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return normalised copies of base rows moved along the corpus's spread, in float32."""
    vectors = np.empty((len(bases), base.shape[1]), dtype=np.float32)
    for start in range(0, len(bases), 100_000):
        chunk = base[bases[start : start + 100_000]]
        j, k = rng.integers(0, len(base), size=(2, len(chunk)))
        chunk = chunk + spread * (base[j] - base[k])
        chunk += rng.normal(0, sigma, size=chunk.shape).astype(np.float32)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        vectors[start : start + len(chunk)] = chunk
    return vectors


def _similarity_profile(base: np.ndarray, vectors: np.ndarray, queries: np.ndarray) -> dict:
    """Return how close neighbours are, real vs synthetic: what makes HNSW easy or hard."""
    import faiss

    def profile(data: np.ndarray) -> dict[str, float]:
        index = faiss.IndexFlatIP(data.shape[1])
        index.add(data)
        scores, _ = index.search(queries, K)
        return {
            "query_top1_cosine": round(float(np.median(scores[:, 0])), 3),
            "query_top10_cosine": round(float(np.median(scores[:, -1])), 3),
        }

    sample = vectors[: min(len(vectors), 200_000)]
    return {"real": profile(base), f"synthetic_{len(sample)}": profile(sample)}


def _exact(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Return the exact top-k rows of each query (inner product), computed with both cores."""
    import faiss

    faiss.omp_set_num_threads(2)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    rows = index.search(queries, k)[1]
    faiss.omp_set_num_threads(1)  # back to what SearchIndex set, for the timings that follow
    return rows


def _flat_latency(vectors: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    """Return exact search latency, one query at a time on one thread, with 50 results."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    faiss.omp_set_num_threads(1)
    index.search(queries[:5], 50)
    figures = _one_at_a_time(index, queries)
    show(f"flat {len(vectors):,}", figures)
    return figures


def _one_at_a_time(index: Any, queries: np.ndarray) -> dict[str, float]:
    """Return the latency of a FAISS index searched for 50 results, one query at a time."""
    return summarise(time_each(lambda q: index.search(q[None, :], 50), queries))


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Return mean recall@k of found rows against the exact top-k rows."""
    hits = [len(set(f[f >= 0]) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]
    return round(float(np.mean(hits)), 4)


def _hnsw_sweep(
    vectors: np.ndarray,
    queries: np.ndarray,
    *,
    ms: list[int],
    ef_constructions: list[int],
    ef_searches: list[int],
) -> dict[str, Any]:
    """Return build rate, size, recall@10 and latency of HNSW for each parameter combination."""
    import faiss

    exact = _exact(vectors, queries)
    results = {}
    for m in ms:
        for ef_construction in ef_constructions:
            faiss.omp_set_num_threads(2)
            index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            started = time.perf_counter()
            index.add(vectors)
            build_s = time.perf_counter() - started
            faiss.omp_set_num_threads(1)
            row: dict[str, Any] = {
                "build_s": round(build_s, 1),
                "vectors_per_s": round(len(vectors) / build_s),
                "bytes_per_vector": round(faiss.serialize_index(index).nbytes / len(vectors)),
            }
            for ef_search in ef_searches:
                index.hnsw.efSearch = ef_search
                found = index.search(queries, K)[1]
                row[f"ef{ef_search}"] = {
                    "recall_at_10": _recall(found, exact),
                    **_one_at_a_time(index, queries),
                }
                print(
                    f"  HNSW M={m} efC={ef_construction} efS={ef_search} at {len(vectors):,}: "
                    f"recall@10 {row[f'ef{ef_search}']['recall_at_10']:.4f}, "
                    f"p50 {row[f'ef{ef_search}']['p50_ms']:.2f} ms, build {build_s:.0f} s"
                )
            results[f"M{m}_efC{ef_construction}"] = row
    return {"size": len(vectors), "results": results}


def _product(
    args: argparse.Namespace,
    vectors: np.ndarray,
    bases: np.ndarray,
    base_texts: list[str],
    questions: list[str],
    queries: np.ndarray,
    embedder: Any,
) -> dict[str, Any]:
    """Return build, load, memory, latency and recall of the product's index at full size."""
    from index.retrieve import SearchIndex
    from index.types import SearchFilters

    settings = _synthetic_settings(args.work / f"data-{args.size}", args.hnsw_threshold)
    figures: dict[str, Any] = {"settings": _index_settings(settings)}
    # What the index's content depends on. efSearch, and the threshold's use for filtered
    # searches, apply at search time (the threshold's choice of flat or HNSW is not rechecked).
    spec = {
        "size": args.size,
        "spread": args.spread,
        "sigma": args.sigma,
        "seed": args.seed,
        "hnsw_m": settings.hnsw_m,
        "hnsw_ef_construction": settings.hnsw_ef_construction,
        "hnsw_threshold": settings.hnsw_threshold,
    }
    marker = settings.data_dir / "synthetic.json"
    built = json.loads(marker.read_text()) if marker.exists() else {}
    if not (args.reuse and all(built.get(k) == v for k, v in spec.items())):
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        figures["build"] = _publish_synthetic(
            settings, vectors, bases, base_texts, embedder, args.seed
        )
        marker.write_text(json.dumps(spec))

    # Load as the product does, then search with the model in the loop.
    before = rss_mb()
    started = time.perf_counter()
    index = SearchIndex.load(settings, embedder=embedder)
    figures["load_s"] = round(time.perf_counter() - started, 2)
    figures["dense_kind"] = index.meta.dense_kind
    filters = {
        "publisher": SearchFilters(publishers=[PUBLISHERS[0]]),
        "one_document": SearchFilters(doc_ids=[next(iter(index.meta.documents))]),
    }
    first = {}
    for mode in MODES:
        started = time.perf_counter()
        index.search(questions[0], k=K, mode=mode)
        first[mode] = round((time.perf_counter() - started) * 1e3, 1)
    figures["first_query_ms"] = first
    for question in questions[:10]:
        for mode in MODES:
            index.search(question, k=K, mode=mode)
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for n, question in enumerate(questions):
        for mode in MODES[n % 3 :] + MODES[: n % 3]:
            started = time.perf_counter()
            index.search(question, k=K, mode=mode)
            timings[mode].append(time.perf_counter() - started)
    for name, chosen in filters.items():
        timings[f"hybrid_filtered_{name}"] = time_each(
            lambda q, f=chosen: index.search(q, k=K, filters=f), questions
        )
    timings["faiss_only"] = time_each(lambda v: index._dense(v, 50, None), queries)
    timings["bm25_only"] = time_each(lambda q: index._bm25(q, 50, None), questions)
    timings["allowed_rows_publisher"] = time_each(index._allowed_rows, [filters["publisher"]] * 50)
    print(f"product index at {index.size:,} ({index.meta.dense_kind}); load {figures['load_s']} s")
    print(f"  first query after load (ms): {first}")
    for name, samples in timings.items():
        figures[name] = summarise(samples)
        show(name, figures[name])
    figures["rss_mb_after_load_and_queries"] = rss_mb()
    figures["rss_mb_before_load"] = before
    figures["memory_mb"] = _memory(index)
    print(f"  memory by store (MB): {figures['memory_mb']}")

    # Recall of the served dense index, and of filtered dense search, against exact search.
    exact = _exact(vectors, queries)
    found = np.array([[r for r, _ in index._dense(v, K, None)] for v in queries])
    figures["recall_at_10"] = _recall(found, exact)
    allowed = index._allowed_rows(filters["publisher"])
    exact_filtered = _exact(vectors[allowed], queries)
    rows = np.flatnonzero(allowed)
    found = np.array([[r for r, _ in index._dense(v, K, allowed)] for v in queries])
    figures["recall_at_10_publisher_filter"] = _recall(found, rows[exact_filtered])
    print(
        f"  recall@10 vs exact: {figures['recall_at_10']} unfiltered, "
        f"{figures['recall_at_10_publisher_filter']} with a publisher filter"
    )

    # The served HNSW index at other efSearch values: recall and latency of FAISS alone.
    if hasattr(index.dense, "hnsw"):
        figures["ef_search"] = {}
        for ef_search in [int(e) for e in args.product_ef_search.split(",")]:
            index.dense.hnsw.efSearch = ef_search
            found = index.dense.search(queries, K)[1]
            row = {"recall_at_10": _recall(found, exact), **_one_at_a_time(index.dense, queries)}
            figures["ef_search"][str(ef_search)] = row
            print(
                f"  efSearch {ef_search}: recall@10 {row['recall_at_10']:.4f}, "
                f"p50 {row['p50_ms']:.2f} ms, p95 {row['p95_ms']:.2f} ms"
            )
        index.dense.hnsw.efSearch = settings.hnsw_ef_search
    return figures


def _memory(index: Any) -> dict[str, float]:
    """Return the megabytes each store of a loaded index holds (passages: mapped, paged by the OS)."""
    from index.store import DENSE

    bm25 = sum(array.nbytes for array in index._bm25_arrays)
    return {
        "dense": round((index.folder / DENSE).stat().st_size / 1e6, 1),
        "bm25_matrix": round(bm25 / 1e6, 1),
        "row_arrays": round((index._offsets.nbytes + index._row_doc.nbytes) / 1e6, 1),
        "passages_mapped": round(len(index._passages) / 1e6, 1),
    }


def _synthetic_settings(data_dir: Path, hnsw_threshold: int | None):
    from ingest.settings import Settings

    overrides = {} if hnsw_threshold is None else {"hnsw_threshold": hnsw_threshold}
    return Settings(data_dir=data_dir, manifest=data_dir / "manifest.yaml", **overrides)


def _index_settings(settings: Any) -> dict[str, Any]:
    return {
        name: getattr(settings, name)
        for name in ("hnsw_threshold", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search")
    }


def _publish_synthetic(
    settings: Any,
    vectors: np.ndarray,
    bases: np.ndarray,
    base_texts: list[str],
    embedder: Any,
    seed: int,
) -> dict[str, Any]:
    """Write and publish an index version through index/build.py's writers; return timings."""
    import faiss

    from index.build import write_version
    from index.store import publish, staging_dir
    from index.types import IndexedDocument
    from ingest.types import ManifestEntry, Passage

    # Documents of DOC_PASSAGES passages each, over three publishers and ten years.
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    doc_ids = [f"synthetic-{n:05d}" for n in range(-(-len(vectors) // DOC_PASSAGES))]
    words = [text.split() for text in base_texts]
    everything = [word for text in words for word in text]
    pick = random.Random(seed)
    passages = []
    for row, base in enumerate(bases):
        own = words[base]
        text = " ".join(
            pick.choices(own, k=round(0.7 * len(own)))
            + pick.choices(everything, k=round(0.3 * len(own)))
        )
        doc_id = doc_ids[row // DOC_PASSAGES]
        ordinal = row % DOC_PASSAGES
        passages.append(
            Passage.model_construct(
                id=f"{doc_id}#{ordinal:04d}",
                doc_id=doc_id,
                ordinal=ordinal,
                first_page=ordinal // 3 + 1,
                last_page=ordinal // 3 + 1,
                section=None,
                text=text,
                spans=[],
                n_tokens=len(own),
            )
        )
    documents = {
        doc_id: IndexedDocument(
            entry=ManifestEntry(
                id=doc_id,
                title=f"Synthetic guidance {n}",
                publisher=PUBLISHERS[n % len(PUBLISHERS)],
                published=dt.date(2015 + n % 10, 1, 1),
                format="pdf",
            ),
            sha256="0" * 64,
            pages=DOC_PASSAGES // 3,
            passages=min(len(vectors), (n + 1) * DOC_PASSAGES) - n * DOC_PASSAGES,
        )
        for n, doc_id in enumerate(doc_ids)
    }
    timings["generate_text_s"] = round(time.perf_counter() - started, 1)

    # The product's own writer and publisher, as a build uses them.
    staging = staging_dir(settings.index_root, "synthetic")
    faiss.omp_set_num_threads(2)  # as in a build process, where no search has set it to one
    started = time.perf_counter()
    meta = write_version(
        staging,
        passages,
        vectors,
        settings,
        version="synthetic",
        model=embedder.info,
        documents=documents,
        started=started,
    )
    publish(settings.index_root, staging, "synthetic")
    seconds = time.perf_counter() - started
    timings["write_s"] = round(seconds, 1)
    timings["write_passages_per_s"] = round(len(vectors) / seconds)
    print(f"  write_version ({meta.dense_kind}, format {meta.format}): {seconds:.1f} s")
    folder = settings.index_root / "builds" / "synthetic"
    timings["bytes_on_disk"] = {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    return timings


if __name__ == "__main__":
    main()
