"""Races `iga build` against the LangChain quick-start pipeline, from empty data dirs, in turns.

Each pair runs the quick-start (benchmarks/peer_pipeline.py) and `iga build --mirror` as
separate processes, alternating which goes first, and measures wall time, CPU time (the
process and the children it waited for) and peak memory (the proportional set size of the
process tree, sampled every 0.1 s: forked children share pages, which RSS would count twice).
It prints the medians and their ratios, the product's own stage breakdown, and both
pipelines' page recall@5 and MRR@10 on the development question set.

    python -m benchmarks.bench_peer              # 3 pairs on ../shared/corpus (needs .[bench])
    IGA_SENTENCES_IN_CONTEXT=true python -m benchmarks.bench_peer   # sentences pooled in context
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    DEV_QUESTIONS,
    ROOT,
    arguments,
    build_command,
    corpus_settings,
    machine,
    require_corpus,
    write_result,
)
from ingest.settings import Settings

PRODUCT = "iga build"
PEER = "quick-start"


def run_measured(command: list[str]) -> dict[str, float]:
    """Run a command to completion; return its wall and CPU seconds and peak memory in MB."""
    import psutil

    env = os.environ | {"PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for member in tree:
                try:
                    total += member.memory_full_info().pss
                except psutil.Error:
                    continue
            peak = max(peak, total / 1e6)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    try:
        output = process.stdout.read().decode("utf-8", errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:  # interrupted: the measured process must not outlive the benchmark
        process.kill()
        process.wait()
        raise
    finally:
        done.set()
    wall = time.perf_counter() - started
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(max(peak, usage.ru_maxrss / 1e3), 1),
        "output": output,
    }


def peer_command(corpus: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.peer_pipeline",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
    ]


def score_product(data_dir: Path, corpus: Path) -> dict[str, float]:
    """Return the built index's page recall@5 and MRR@10 (hybrid) on the dev questions."""
    from index.retrieve import SearchIndex

    index = SearchIndex.load(corpus_settings(data_dir, corpus))
    return _score(lambda q: [hit.passage for hit in index.search(q, k=10)])


def score_peer(out: Path, corpus: Path) -> dict[str, float]:
    """Return the quick-start index's page recall@5 and MRR@10 on the dev questions.

    The saved docstore is a pickle, which this project never loads: the chunks are cut again
    (the loader and splitter are deterministic) and matched to the saved FAISS rows by order.
    """
    import faiss
    import numpy as np

    from benchmarks.peer_pipeline import embeddings, hit_of, load_chunks

    chunks = load_chunks(corpus)
    dense = faiss.read_index(str(out / "index.faiss"))
    if dense.ntotal != len(chunks):
        raise SystemExit(f"the peer index has {dense.ntotal} rows for {len(chunks)} chunks")
    model = embeddings()

    def search(question: str) -> list[Any]:
        vector = np.asarray([model.embed_query(question)], dtype=np.float32)
        _, rows = dense.search(vector, 10)
        return [hit_of(chunks[int(row)]) for row in rows[0] if row >= 0]

    return _score(search)


def _score(search: Any) -> dict[str, float]:
    from assistant.metrics import mrr_at_k, recall_at_k
    from assistant.questions import load_question_set

    questions = [q for q in load_question_set(DEV_QUESTIONS).questions if q.expected]
    recall, mrr = [], []
    for question in questions:
        hits = search(question.question)
        recall.append(recall_at_k(hits, question.expected, 5, "page"))
        mrr.append(mrr_at_k(hits, question.expected, 10, "page"))
    return {
        "questions": len(questions),
        "page_recall@5": round(statistics.fmean(recall), 3),
        "page_mrr@10": round(statistics.fmean(mrr), 3),
    }


def stage_breakdown(data_dir: Path) -> dict[str, float]:
    """Return the stage seconds the product recorded in its index metadata."""
    from index.store import current_version_dir, read_meta

    folder = current_version_dir(data_dir / "index")
    return read_meta(folder).build_stages if folder else {}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    # A SIGTERM ends the run like Ctrl-C, so the measured process is killed with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    require_corpus(args.corpus)
    corpus = args.corpus.resolve()
    if args.quick:
        args.pairs = 1
    if importlib.util.find_spec("langchain_text_splitters") is None:
        if not args.quick:
            sys.exit(
                "the quick-start's packages are not installed: pip install -e '.[bench]' "
                "(see benchmarks/README.md), then rerun"
            )
        print("quick run without the quick-start's packages: iga build alone")
        work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
        try:
            figures = run_measured(build_command(corpus, work / "data"))
            figures.pop("output")
            stages = stage_breakdown(work / "data")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        write_result(
            "bench_peer",
            {"runs": {PRODUCT: [figures]}, "stages": [stages], "peer": "not installed"},
            options={"pairs": 1, "corpus": corpus, "quick": True},
            folder=args.results,
        )
        return

    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    runs: dict[str, list[dict[str, float]]] = {PRODUCT: [], PEER: []}
    stages: list[dict[str, float]] = []
    loads = [os.getloadavg()[0]]
    # The builds inherit the environment: IGA_SENTENCES_IN_CONTEXT=true measures that option.
    in_context = Settings().sentences_in_context
    print(f"{args.pairs} pairs on {corpus}, alternating; load average {loads[0]:.1f}")
    print(f"sentences_in_context={in_context}")
    try:
        for pair in range(args.pairs):
            order = [PEER, PRODUCT] if pair % 2 == 0 else [PRODUCT, PEER]
            for name in order:
                target = work / f"{'data' if name == PRODUCT else 'peer'}-{pair}"
                shutil.rmtree(target, ignore_errors=True)
                command = (
                    build_command(corpus, target)
                    if name == PRODUCT
                    else peer_command(corpus, target)
                )
                figures = run_measured(command)
                figures.pop("output")
                runs[name].append(figures)
                if name == PRODUCT:
                    stages.append(stage_breakdown(target))
                loads.append(os.getloadavg()[0])
                print(
                    f"  pair {pair + 1} {name:<12} wall {figures['wall_s']:6.1f} s  "
                    f"cpu {figures['cpu_s']:6.1f} s  peak {figures['peak_mb']:6.0f} MB",
                    flush=True,
                )
        last = args.pairs - 1
        quality = {
            PRODUCT: score_product(work / f"data-{last}", corpus),
            PEER: score_peer(work / f"peer-{last}", corpus),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for name, results in runs.items()
    }
    stage_medians = {s: round(statistics.median(x[s] for x in stages), 1) for s in stages[0]}
    ratios = {
        key: round(medians[PEER][key] / medians[PRODUCT][key], 2)
        for key in ("wall_s", "cpu_s", "peak_mb")
    }
    print(f"\nmedians of {args.pairs} pairs     wall s    CPU s  peak MB  R@5    MRR@10")
    for name in (PEER, PRODUCT):
        m, q = medians[name], quality[name]
        print(
            f"  {name:<22} {m['wall_s']:7.1f} {m['cpu_s']:8.1f} {m['peak_mb']:8.0f}  "
            f"{q['page_recall@5']:.3f} {q['page_mrr@10']:.3f}"
        )
    print(
        f"  quick-start / iga build: {ratios['wall_s']}x wall, {ratios['cpu_s']}x CPU, "
        f"{ratios['peak_mb']}x memory"
    )
    print("iga build stages, median seconds:")
    stages = ", ".join(f"{stage} {seconds}" for stage, seconds in stage_medians.items())
    print(textwrap.fill(stages, width=80, initial_indent="  ", subsequent_indent="  "))
    print(
        f"load average {min(loads):.1f}-{max(loads):.1f} over the run; "
        f"{quality[PRODUCT]['questions']} answerable dev questions"
    )
    write_result(
        "bench_peer",
        {
            "runs": runs,
            "medians": medians,
            "ratios_peer_over_product": ratios,
            "stages": stages,
            "stage_medians": stage_medians,
            "quality": quality,
            "load_averages": loads,
            "cpu": machine()["cpu"],
        },
        options={
            "pairs": args.pairs,
            "corpus": corpus,
            "quick": args.quick,
            "sentences_in_context": in_context,
        },
        folder=args.results,
    )


if __name__ == "__main__":
    main()
