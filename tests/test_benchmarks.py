"""Every benchmark still runs: each benchmarks/bench_*.py at its --quick size on the generated corpus.

No timing is asserted (the figures of a tiny run on a busy machine mean nothing); what is
checked is that the script runs to the end against the current code and writes its result.
They take minutes, so the default test run leaves them out: `python -m pytest -m benchmarks`
runs them, and .ci/run does after the suite.
A new benchmark is picked up by its file name; it must take the options every benchmark
shares (benchmarks.common.arguments: --quick, --corpus, --results).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.benchmarks  # ("benchmark" is pytest-benchmark's marker)
BENCHMARKS = sorted(path.stem for path in (ROOT / "benchmarks").glob("bench_*.py"))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One results folder for all: the benchmarks share the corpus index built in it."""
    return tmp_path_factory.mktemp("bench-results")


def test_every_benchmark_is_covered():
    assert {"bench_ingest", "bench_index", "bench_synthetic", "bench_serve"} <= set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_at_its_quick_size(name: str, generated_corpus: Path, results: Path):
    before = {path: path.stat().st_mtime_ns for path in results.glob("*.json")}
    command = [sys.executable, "-m", f"benchmarks.{name}", "--quick"]
    command += ["--corpus", str(generated_corpus), "--results", str(results)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    written = [
        path for path in results.glob("*.json") if before.get(path) != path.stat().st_mtime_ns
    ]
    assert len(written) == 1, f"{name} wrote {written}"
    payload = json.loads(written[0].read_text(encoding="utf-8"))
    assert payload["options"]["quick"] is True
    assert payload["machine"]["cores"] and payload["date"]
