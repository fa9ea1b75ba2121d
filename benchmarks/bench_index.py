"""Build throughput, rebuild time, query latency, serving memory and answer latency on the real corpus.

    python -m benchmarks.bench_index [--build-runs 1] [--rebuild-runs 3] [--corpus ../shared/corpus]
                                     [--quick]

1. Build: `iga build --mirror CORPUS` into a fresh data dir, as a subprocess (fetch + ingest +
   embed + index): pages/s, and the peak memory of the build and its extract processes.
2. No-change rebuild: `iga build` again on the same data dir, wall clock as a user sees it.
3. Search: SearchIndex.load, then every evaluation question (dev + imaging sets) in dense, BM25
   and hybrid mode, modes interleaved, after a warm-up; model encoding included. Also the parts
   (query encoding, FAISS, BM25) alone, a filtered hybrid search and the first query after load.
4. Serving memory: this process's RSS after the load and the queries.
5. Answer: Assistant.load(settings).answer(question) for the same questions.
6. Embedding: passages/s for every passage of the corpus, uncached, with the configured dtype.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    arguments,
    build_command,
    corpus_settings,
    peak_rss_mb,
    question_texts,
    require_corpus,
    rss_mb,
    show,
    summarise,
    time_each,
    write_result,
)

MODES = ("dense", "bm25", "hybrid")
WARM_UP = 10
TARGETS = {
    "hybrid_p95_ms": 50.0,
    "serving_rss_mb": 1500.0,
    "rebuild_s": 5.0,
    "answer_p95_ms": 100.0,
}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--build-runs", type=int, default=1, help="Fresh builds (median).")
    parser.add_argument("--rebuild-runs", type=int, default=3, help="No-change rebuilds.")
    parser.add_argument("--repeat", type=int, default=1, help="Passes over the questions.")
    parser.add_argument("--skip-answer", action="store_true", help="Skip Assistant.answer().")
    parser.add_argument("--keep", type=Path, help="Build here and keep it (default: a temp dir).")
    parser.add_argument("--limit", type=int, help="Ask only the first N questions.")
    args = parser.parse_args()
    if args.quick:
        args.build_runs, args.rebuild_runs, args.repeat, args.limit = 1, 1, 1, 6
    require_corpus(args.corpus)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="iga-bench-index-"))
    try:
        figures = run(args, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    write_result("index", figures, options=vars(args), folder=args.results)


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Return every figure of the benchmark, printing each as it is measured."""
    figures: dict[str, Any] = {}

    # 1-2. Build from scratch, then rebuild with nothing changed.
    builds = []
    for run in range(args.build_runs):
        data_dir = folder / f"data-{run}"
        shutil.rmtree(data_dir, ignore_errors=True)
        builds.append(_timed_build(data_dir, args.corpus))
        print(
            f"build {run + 1}: {builds[-1]['seconds']:.1f} s, "
            f"{builds[-1]['pages_per_s']:.2f} pages/s, peak RSS {builds[-1]['peak_tree_mb']} MB"
        )
    data_dir = folder / "data-0"
    settings = corpus_settings(data_dir, args.corpus)
    rebuilds = [_timed_build(data_dir, args.corpus)["seconds"] for _ in range(args.rebuild_runs)]
    print(
        f"no-change rebuild: median {statistics.median(rebuilds):.2f} s, max {max(rebuilds):.2f} s"
    )
    figures["build"] = {
        "runs": builds,
        "seconds_median": statistics.median(b["seconds"] for b in builds),
        "pages_per_s_median": statistics.median(b["pages_per_s"] for b in builds),
        "peak_tree_mb_max": max(b["peak_tree_mb"] for b in builds),
    }
    figures["rebuild"] = {"seconds": rebuilds, "seconds_median": statistics.median(rebuilds)}

    # 3-4. Search latency and serving memory.
    questions = question_texts()[: args.limit]
    figures["search"] = _search_figures(settings, questions, repeat=args.repeat)

    # 5. Answers through the assistant (a second load of the index and model, in this process).
    if not args.skip_answer:
        figures["answer"] = _answer_figures(settings, questions, repeat=args.repeat)

    # 6. Embedding throughput, uncached.
    figures["embedding"] = _embedding_figures(settings)

    figures["targets"] = _targets(figures)
    for name, check in figures["targets"].items():
        verdict = "meets" if check["met"] else "MISSES"
        print(f"  target {name:<16} {check['value']:>9} vs {check['target']:>7}: {verdict}")
    return figures


def _timed_build(data_dir: Path, corpus: Path) -> dict[str, Any]:
    """Run `iga build` in a subprocess; return its wall time, pages/s and peak memory."""
    import psutil

    from index.store import current_version_dir, read_meta

    command = build_command(corpus, data_dir, cli=_iga())
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        peak = _sample_tree_rss(psutil.Process(process.pid))
        process.wait()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    meta = read_meta(current_version_dir(data_dir / "index"))
    pages = sum(d.pages for d in meta.documents.values())
    return {
        "seconds": round(seconds, 3),
        "pages": pages,
        "passages": meta.passages,
        "pages_per_s": round(pages / seconds, 2),
        "peak_tree_mb": round(max(peak) / 1e6, 1) if peak else None,
        "maxrss_children_mb": peak_rss_mb()["children_mb"],
    }


def _iga() -> list[str]:
    """Return the command that runs the `iga` CLI with this interpreter."""
    script = Path(sys.executable).with_name("iga")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from assistant.cli import main; main()"]


def _sample_tree_rss(process: Any) -> list[int]:
    """Return the summed RSS of a process and its descendants, sampled every 50 ms until it ends."""
    import psutil

    samples: list[int] = []
    while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
        try:
            tree = [process, *process.children(recursive=True)]
            samples.append(sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return samples


def _search_figures(settings: Any, questions: list[str], *, repeat: int) -> dict[str, Any]:
    """Return load time, first-query and steady-state latencies per mode, and serving RSS."""
    import numpy as np

    from index.retrieve import SearchIndex
    from index.types import SearchFilters

    before = rss_mb()
    started = time.perf_counter()
    index = SearchIndex.load(settings)
    load_s = time.perf_counter() - started

    # The first query after load pays one-off costs (first pass through torch, BM25 JIT).
    first = {}
    for mode in MODES:
        started = time.perf_counter()
        index.search(questions[0], k=10, mode=mode)
        first[mode] = round((time.perf_counter() - started) * 1e3, 1)
    publisher = next(iter(index.meta.documents.values())).entry.publisher
    filters = SearchFilters(publishers=[publisher])
    started = time.perf_counter()
    index.search(questions[0], k=10, filters=filters)
    first["hybrid_filtered"] = round((time.perf_counter() - started) * 1e3, 1)
    for question in questions[:WARM_UP]:
        for mode in MODES:
            index.search(question, k=10, mode=mode)

    # Every question in every mode, rotating which mode goes first.
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for n, question in enumerate(questions * repeat):
        order = MODES[n % 3 :] + MODES[: n % 3]
        for mode in order:
            started = time.perf_counter()
            index.search(question, k=10, mode=mode)
            timings[mode].append(time.perf_counter() - started)
    vectors = {q: index.embedder.encode_query(q) for q in questions}
    parts = {
        "encode_query": time_each(index.embedder.encode_query, questions * repeat),
        "faiss_only": time_each(lambda q: index._dense(vectors[q], 50, None), questions * repeat),
        "bm25_only": time_each(lambda q: index._bm25(q, 50, None), questions * repeat),
        "hybrid_filtered": time_each(
            lambda q: index.search(q, k=10, filters=filters), questions * repeat
        ),
    }
    after = rss_mb()

    figures: dict[str, Any] = {
        "passages": index.size,
        "dense_kind": index.meta.dense_kind,
        "questions": len(questions),
        "load_s": round(load_s, 3),
        "first_query_ms": first,
        "rss_mb_before_load": before,
        "rss_mb_after_load_and_queries": after,
        "torch_threads": _torch_threads(),
        "bm25_backend": index.bm25.backend,
    }
    print(f"search on {index.size} passages ({index.meta.dense_kind}); load {load_s:.2f} s")
    print(f"  first query after load (ms): {first}")
    for name, samples in {**timings, **parts}.items():
        figures[name] = summarise(samples)
        show(name, figures[name])
    print(f"  serving RSS {after} MB (before load {before} MB)")
    figures["hybrid_p95_over_p50"] = round(
        float(np.divide(figures["hybrid"]["p95_ms"], figures["hybrid"]["p50_ms"])), 2
    )
    return figures


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _answer_figures(settings: Any, questions: list[str], *, repeat: int) -> dict[str, Any]:
    """Return the latency of Assistant.answer over the questions, or the error that stopped it."""
    try:
        from assistant.answer import Assistant

        started = time.perf_counter()
        assistant = Assistant.load(settings)
        load_s = time.perf_counter() - started
        for question in questions[:WARM_UP]:
            assistant.answer(question)
        outcomes: dict[str, int] = {}

        def answer(question: str) -> None:
            outcome = str(assistant.answer(question).outcome)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        # As a fresh server answers (sentence vectors computed on demand), then as one whose
        # background preparation of every sentence's vector has finished.
        timings = time_each(answer, questions * repeat)
        started = time.perf_counter()
        prepared = assistant.prepare_sentences()
        prepare_s = time.perf_counter() - started
        prepared_timings = time_each(answer, questions * repeat)
    except Exception as exc:  # a colleague's module in progress: report, do not stop the run
        print(f"answer: not measured ({type(exc).__name__}: {exc})")
        return {"error": f"{type(exc).__name__}: {exc}"}
    figures = {
        "load_s": round(load_s, 3),
        "outcomes": outcomes,
        **summarise(timings),
        "prepared": {
            "sentences": prepared,
            "prepare_s": round(prepare_s, 1),
            **summarise(prepared_timings),
        },
    }
    print(f"answer (Assistant.answer, load {load_s:.2f} s):")
    show("answer, sentences on demand", figures)
    show("answer, sentences prepared", figures["prepared"])
    return figures


def _embedding_figures(settings: Any) -> dict[str, Any]:
    """Return passages/s embedding every passage of the index with the configured dtype."""
    import torch

    from index.embed import Embedder
    from index.store import current_version_dir, read_meta
    from ingest.chunk import embedding_text
    from ingest.pipeline import load_passages
    from ingest.tokens import resolve_model

    meta = read_meta(current_version_dir(settings.index_root))
    texts = [
        embedding_text(p)
        for doc_id in sorted(meta.documents)
        for p in load_passages(settings, doc_id)
    ]
    embedder = Embedder(
        resolve_model(settings.model),
        dtype=settings.embed_dtype,
        batch_size=settings.embed_batch_size,
    )
    embedder.encode_passages(texts[:8])
    tokens = embedder.model.tokenizer(texts)["input_ids"]
    lengths = sorted(len(t) for t in tokens)
    figures: dict[str, Any] = {
        "dtype": settings.embed_dtype,
        "passages": len(texts),
        "tokens_median": statistics.median(lengths),
        "tokens_mean": round(statistics.fmean(lengths), 1),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    # A build process keeps torch's default (both cores); a loaded SearchIndex uses one.
    for threads in (2, 1):
        torch.set_num_threads(threads)
        started = time.perf_counter()
        embedder.encode_passages(texts)
        seconds = time.perf_counter() - started
        figures[f"passages_per_s_{threads}_threads"] = round(len(texts) / seconds, 2)
        print(
            f"embedding ({settings.embed_dtype}, {threads} threads): {len(texts)} passages in "
            f"{seconds:.1f} s = {len(texts) / seconds:.1f} passages/s "
            f"(median {figures['tokens_median']} tokens)"
        )
    return figures


def _targets(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return each target with the measured value and whether it is met."""
    values = {
        "hybrid_p95_ms": figures["search"]["hybrid"]["p95_ms"],
        "serving_rss_mb": figures["search"]["rss_mb_after_load_and_queries"],
        "rebuild_s": max(figures["rebuild"]["seconds"]),
        "answer_p95_ms": figures.get("answer", {}).get("prepared", {}).get("p95_ms"),
    }
    return {
        name: {
            "value": value,
            "target": TARGETS[name],
            "met": value is not None and value < TARGETS[name],
        }
        for name, value in values.items()
    }


if __name__ == "__main__":
    main()
