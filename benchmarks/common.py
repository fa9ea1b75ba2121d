"""What every benchmark shares: the shared corpus, timing, percentiles, memory and result files.

Each benchmark prints its medians and writes `benchmarks/results/<name>.json` holding the figures,
the settings used, the machine (CPU, cores, memory, load average), package versions, the git
commit and the date, so two runs can be compared side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
DEV_QUESTIONS = ROOT / "assistant" / "question_sets" / "dev.yaml"
IMAGING_QUESTIONS = ROOT / "assistant" / "question_sets" / "imaging.yaml"
# A data dir the benchmarks reuse for the real corpus's index (git-ignored with the results).
WORK_DATA = RESULTS / "data"
PACKAGES = (
    "torch",
    "sentence-transformers",
    "transformers",
    "faiss-cpu",
    "bm25s",
    "numba",
    "numpy",
    "pypdf",
    "onnxruntime",
)

T = TypeVar("T")


def arguments(doc: str) -> argparse.ArgumentParser:
    """Return a parser with the options every benchmark takes: --corpus, --results, --quick.

    --quick is a tiny run that checks the benchmark still works end to end (seconds, figures
    meaningless); tests/test_benchmarks.py runs every benchmarks/bench_*.py with it.
    """
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS, help="Corpus folder.")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where JSON goes.")
    parser.add_argument("--quick", action="store_true", help="A tiny smoke run (seconds).")
    return parser


def summarise(seconds: Sequence[float]) -> dict[str, float]:
    """Return p50, p95, mean, min and max of timings in milliseconds, and the sample count."""
    ordered = sorted(seconds)
    if not ordered:
        return {"n": 0}

    def at(fraction: float) -> float:
        # Nearest rank: the value below which `fraction` of the samples lie.
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1e3, 3),
        "p95_ms": round(at(0.95) * 1e3, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1e3, 3),
        "min_ms": round(ordered[0] * 1e3, 3),
        "max_ms": round(ordered[-1] * 1e3, 3),
    }


def time_each(function: Callable[[T], object], items: Iterable[T]) -> list[float]:
    """Return the wall-clock seconds of `function(item)` for each item."""
    timings = []
    for item in items:
        started = time.perf_counter()
        function(item)
        timings.append(time.perf_counter() - started)
    return timings


def rss_mb() -> float:
    """Return this process's resident memory now, in MB."""
    import psutil

    return round(psutil.Process().memory_info().rss / 1e6, 1)


def peak_rss_mb() -> dict[str, float]:
    """Return the peak resident memory of this process and of its largest waited-for child, in MB."""
    # ru_maxrss is in kilobytes on Linux.
    return {
        "self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
        "children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3, 1),
    }


def question_texts(*, imaging: bool = True) -> list[str]:
    """Return the evaluation questions' texts: the dev set, then (optionally) the imaging set."""
    from assistant.questions import load_question_set

    paths = [DEV_QUESTIONS, IMAGING_QUESTIONS] if imaging else [DEV_QUESTIONS]
    return [q.question for path in paths for q in load_question_set(path).questions]


def corpus_settings(data_dir: Path, corpus: Path = SHARED_CORPUS, **overrides: Any):
    """Return settings for a data dir serving the corpus folder's manifest."""
    from ingest.settings import Settings

    return Settings(data_dir=data_dir, manifest=corpus / "manifest.yaml", **overrides)


def build_command(corpus: Path, data_dir: Path, *, cli: list[str] | None = None) -> list[str]:
    """Return the `iga build` command that indexes a corpus folder (with its manifest.yaml)
    into a data dir; `cli` is how to run the CLI (default: this interpreter, -m)."""
    return [
        *(cli or [sys.executable, "-m", "assistant.cli"]),
        "build",
        "--data-dir",
        str(data_dir),
        "--manifest",
        str(corpus / "manifest.yaml"),
        "--mirror",
        str(corpus),
    ]


def ensure_index(data_dir: Path = WORK_DATA, corpus: Path = SHARED_CORPUS):
    """Return settings of a data dir holding an up-to-date index of the corpus (built if needed)."""
    from index.build import build_index
    from ingest.manifest import load_manifest

    settings = corpus_settings(data_dir, corpus)
    report = build_index(load_manifest(settings.manifest), settings, mirror=corpus)
    if report.failed:
        raise SystemExit(f"the corpus did not build cleanly: {report.failed}")
    return settings


def corpus_or_generated(corpus: Path, results: Path) -> tuple[Path, bool]:
    """Return the corpus folder if it has a manifest, else a generated test corpus (and which)."""
    if (corpus / "manifest.yaml").exists():
        return corpus, False
    from tests.corpus_factory import write_corpus

    folder = results / "generated-corpus"
    if not (folder / "manifest.yaml").exists():
        write_corpus(folder)
    return folder, True


def require_corpus(corpus: Path) -> None:
    """Exit with a clear message when the corpus folder has no manifest."""
    if not (corpus / "manifest.yaml").exists():
        raise SystemExit(f"no corpus at {corpus} (expected manifest.yaml and <id>.pdf files)")


def machine() -> dict[str, Any]:
    """Return what the figures depend on: CPU, cores, memory, load, Python and package versions."""
    import psutil

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "packages": versions,
    }


def git_commit() -> str | None:
    """Return the checked-out commit, with '+dirty' when the tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def write_result(
    name: str, figures: dict[str, Any], *, options: dict[str, Any], folder: Path = RESULTS
) -> Path:
    """Write `<folder>/<name>.json` with the figures and the context to compare them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    payload = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git": git_commit(),
        "machine": machine(),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in options.items()},
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def show(label: str, figures: dict[str, float]) -> None:
    """Print one line of timings: label, p50, p95 and sample count."""
    if not figures.get("n"):
        print(f"  {label:<34} (no samples)")
        return
    print(
        f"  {label:<34} p50 {figures['p50_ms']:8.2f} ms   p95 {figures['p95_ms']:8.2f} ms"
        f"   (n={figures['n']})"
    )
