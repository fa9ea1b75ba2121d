"""Wall time of a one-off `iga ask`, and where it goes: imports, index and model load, answer.

    python -m benchmarks.bench_ask [--runs 5] [--corpus ../shared/corpus]

1. End to end: `iga ask QUESTION` as a subprocess (what a user waits for), alternated in one
   run with the same question answered the way `iga ask` used to: the assistant loaded as the
   server loads it (sentence-transformers, warm-up), then one answer. Medians of --runs each.
2. Phases of the one-off path, timed inside a fresh process: import of the CLI, import of the
   answering code (FAISS, BM25), Assistant.load(one_off=True), the first answer, the printout.
   Wall and CPU seconds each (CPU is the steadier figure on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    ROOT,
    SHARED_CORPUS,
    WORK_DATA,
    ensure_index,
    require_corpus,
    write_result,
)

QUESTION = "What should an imaging network's workforce plan cover?"
ENV = {"COLUMNS": "80", "TOKENIZERS_PARALLELISM": "false"}

# The old path: what `iga ask` did before issue 11 (server-style load, then one answer).
FULL_LOAD = """
import sys
from assistant.answer import Assistant
from assistant.render import render_answer
from ingest.settings import Settings
from rich.console import Console
assistant = Assistant.load(Settings(data_dir=sys.argv[1]))
Console().print(render_answer(assistant.answer(sys.argv[2])))
"""

PHASES = """
import json, sys, time
marks, t0, c0 = [], time.perf_counter(), time.process_time()
def mark(name):
    marks.append((name, time.perf_counter() - t0, time.process_time() - c0))
import assistant.cli
mark("import assistant.cli")
from assistant.answer import Assistant
mark("import assistant.answer (FAISS, BM25, ingest)")
from ingest.settings import Settings
assistant = Assistant.load(Settings(data_dir=sys.argv[1]), one_off=True)
mark("Assistant.load(one_off=True)")
answer = assistant.answer(sys.argv[2])
mark("first answer (search, BM25 kernel load, sentences)")
from assistant.render import render_answer
from rich.console import Console
Console(file=open("/dev/null", "w")).print(render_answer(answer, local_files=assistant.local_files))
mark("render")
print(json.dumps(marks))
"""


def _run(args: list[str]) -> float:
    """Return the wall seconds of a subprocess (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=_env(), check=True, capture_output=True)
    return time.perf_counter() - started


def _env() -> dict[str, str]:
    return {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS)
    options = parser.parse_args()
    require_corpus(options.corpus)
    settings = ensure_index(WORK_DATA, options.corpus)
    data_dir = str(settings.data_dir)

    # End to end, the two ways alternated.
    one_off = [sys.executable, "-m", "assistant.cli", "ask", QUESTION, "--data-dir", data_dir]
    full = [sys.executable, "-c", FULL_LOAD, data_dir, QUESTION]
    _run(one_off)  # the first run compiles and caches the BM25 kernel; not counted
    times: dict[str, list[float]] = {"iga ask": [], "server-style load + answer": []}
    for _ in range(options.runs):
        times["iga ask"].append(_run(one_off))
        times["server-style load + answer"].append(_run(full))
    figures = {name: round(statistics.median(values), 2) for name, values in times.items()}
    for name, value in figures.items():
        print(
            f"{name:32s} median {value:5.2f} s wall  ({', '.join(f'{v:.2f}' for v in times[name])})"
        )

    # Where the one-off path's time goes.
    output = subprocess.run(
        [sys.executable, "-c", PHASES, data_dir, QUESTION],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    phases = {}
    previous = (0.0, 0.0)
    for name, wall, cpu in json.loads(output.splitlines()[-1]):
        phases[name] = {
            "wall_s": round(wall - previous[0], 3),
            "cpu_s": round(cpu - previous[1], 3),
        }
        previous = (wall, cpu)
        print(
            f"  {name:52s} {phases[name]['wall_s']:5.2f} s wall {phases[name]['cpu_s']:5.2f} s CPU"
        )
    write_result(
        "ask",
        {"median_s": figures, "runs_s": times, "phases": phases},
        options={"runs": options.runs, "question": QUESTION, "corpus": str(options.corpus)},
    )


if __name__ == "__main__":
    main()
