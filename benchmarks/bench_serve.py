"""Serving many users: answers/s and latency for concurrent HTTP clients, one process or two.

    python -m benchmarks.bench_serve [--processes 1,2] [--clients 1,10,50] [--questions 5]
                                     [--concurrency 4] [--torch-threads 1] [--corpus DIR]

1. Index: the real corpus (--corpus, default ../shared/corpus) when present, else the
   generated test corpus; built as `iga build` does, answer sentences prepared and saved.
2. For each process count: that many `iga serve` processes on one data dir, on 127.0.0.1
   only, each warmed up with a few questions. Requests go round-robin over them, as a reverse
   proxy would send them.
3. For each client count: that many threads, each asking --questions questions one after the
   other through the app's HTTP API (POST /gradio_api/call/answer, then its event stream).
   Measured per answer: the client's wall time and the answer's own `seconds` (the time
   Assistant.answer took inside the server); the difference is waiting in the queue plus
   HTTP and Gradio's event machinery. Also answers/s over the whole round, errors, and each
   process's memory (RSS) at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil

from benchmarks.common import (
    ROOT,
    arguments,
    corpus_or_generated,
    ensure_index,
    question_texts,
    summarise,
    write_result,
)

WARM_UP = 3  # questions each process answers before measuring
START_TIMEOUT_S = 180
ANSWER_TIMEOUT_S = 300


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--processes", default="1,2", help="Serving process counts to try.")
    parser.add_argument("--clients", default="1,10,50", help="Concurrent client counts.")
    parser.add_argument("--questions", type=int, default=5, help="Questions each client asks.")
    parser.add_argument("--concurrency", type=int, help="Questions a process answers at once.")
    parser.add_argument("--torch-threads", type=int, help="torch threads per process.")
    parser.add_argument("--port", type=int, default=7900, help="First port to serve on.")
    args = parser.parse_args()
    if args.quick:
        args.processes, args.clients, args.questions = "1", "1,2", 2

    # 1. The index, with its answer sentences prepared as `iga build` leaves them.
    corpus, generated = corpus_or_generated(args.corpus, args.results)
    settings = ensure_index(args.results / ("data-generated" if generated else "data"), corpus)
    from assistant.answer import Assistant

    Assistant.load(settings).prepare_sentences(save=True)
    questions = _questions(generated)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TOKENIZERS_PARALLELISM="false")
    for name, value in (("CONCURRENCY", args.concurrency), ("TORCH_THREADS", args.torch_threads)):
        if value is not None:
            env[f"IGA_SERVE_{name}" if name == "CONCURRENCY" else f"IGA_{name}"] = str(value)
    print(f"{len(questions)} questions over {corpus}; load {os.getloadavg()[0]:.1f}")

    # 2-3. Each process count, each client count.
    figures: dict[str, Any] = {"corpus": str(corpus), "generated_corpus": generated, "runs": {}}
    for processes in [int(n) for n in args.processes.split(",")]:
        with _serving(settings, processes, args.port, env) as (urls, pids):
            with httpx.Client(timeout=ANSWER_TIMEOUT_S) as http:
                for url in urls:
                    for question in questions[:WARM_UP]:
                        _ask(http, url, question)
            for clients in [int(n) for n in args.clients.split(",")]:
                row = _round(urls, clients, args.questions, questions)
                row["rss_mb"] = [round(psutil.Process(p).memory_info().rss / 1e6) for p in pids]
                row["load_average"] = round(os.getloadavg()[0], 2)
                figures["runs"][f"{processes}p_{clients}c"] = row
                _show(processes, clients, row)
    write_result("serve", figures, options=vars(args), folder=args.results)


def _questions(generated: bool) -> list[str]:
    if generated:
        from tests.corpus_factory import FACTS, OUT_OF_SCOPE

        return [f.question for f in FACTS] + OUT_OF_SCOPE
    return question_texts()


@contextlib.contextmanager
def _serving(
    settings: Any, processes: int, first_port: int, env: dict[str, str]
) -> Iterator[tuple[list[str], list[int]]]:
    """Run `iga serve` processes on one data dir; yield their URLs and pids, then stop them."""
    started = []
    try:
        for n in range(processes):
            port = first_port + n
            command = [sys.executable, "-c", "from assistant.cli import main; main()", "serve"]
            command += ["--port", str(port), "--host", "127.0.0.1"]
            command += ["--data-dir", str(settings.data_dir), "--manifest", str(settings.manifest)]
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            started.append((process, f"http://127.0.0.1:{port}/"))
        for process, url in started:
            _wait_ready(process, url)
        yield [url for _, url in started], [process.pid for process, _ in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"iga serve for {url} exited ({process.returncode}): {stderr[-500:]}")
        try:
            if httpx.get(url + "version", timeout=5).json().get("version"):
                return
        except (httpx.TransportError, json.JSONDecodeError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"iga serve did not answer at {url} within {START_TIMEOUT_S} s")


def _ask(client: httpx.Client, url: str, question: str) -> dict[str, Any]:
    """Return one answer through the app's HTTP API, as a script would call it."""
    posted = client.post(
        url + "gradio_api/call/answer", json={"data": [question, "hybrid", 5, *[None] * 4]}
    )
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    event = None
    with client.stream("GET", url + f"gradio_api/call/answer/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"the app answered with an error: {line[5:].strip()}")
                return json.loads(line[5:])[0]
    raise RuntimeError("the event stream ended without an answer")


def _round(urls: list[str], clients: int, each: int, questions: list[str]) -> dict[str, Any]:
    """Return answers/s, latency and where it went, for `clients` threads asking `each`."""
    walls: list[float] = []
    answering: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(number: int) -> None:
        with httpx.Client(timeout=ANSWER_TIMEOUT_S) as http:
            barrier.wait()
            for i in range(each):
                url = urls[(number * each + i) % len(urls)]
                question = questions[(number * each + i) % len(questions)]
                started = time.perf_counter()
                try:
                    answer = _ask(http, url, question)
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
                    with lock:
                        errors.append(f"{exc.__class__.__name__}: {exc}")
                    continue
                with lock:
                    walls.append(time.perf_counter() - started)
                    answering.append(float(answer["seconds"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    waiting = [w - a for w, a in zip(walls, answering, strict=True)]
    return {
        "answers": len(walls),
        "errors": len(errors),
        "first_errors": errors[:3],
        "elapsed_s": round(elapsed, 2),
        "answers_per_s": round(len(walls) / elapsed, 2),
        "wall": summarise(walls),
        "answering": summarise(answering),
        "waiting": summarise(waiting),
    }


def _show(processes: int, clients: int, row: dict[str, Any]) -> None:
    wall, answer, wait = row["wall"], row["answering"], row["waiting"]
    if not wall.get("n"):
        print(f"  {processes} proc {clients:>3} clients: no answers, {row['errors']} errors")
        return
    print(
        f"  {processes} proc {clients:>3} clients: {row['answers_per_s']:6.2f} answers/s, "
        f"p50 {wall['p50_ms'] / 1e3:5.2f} s, p95 {wall['p95_ms'] / 1e3:5.2f} s "
        f"({row['errors']} errors)\n"
        f"      answering p50 {answer['p50_ms']:6.0f} ms, p95 {answer['p95_ms']:6.0f} ms; "
        f"waiting p50 {wait['p50_ms']:6.0f} ms, p95 {wait['p95_ms']:6.0f} ms\n"
        f"      RSS per process {', '.join(str(r) for r in row['rss_mb'])} MB"
    )


if __name__ == "__main__":
    main()
