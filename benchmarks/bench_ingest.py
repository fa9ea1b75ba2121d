"""Ingest throughput (extract, clean, chunk) in pages per second on the shared corpus.

    python -m benchmarks.bench_ingest [--runs 5] [--corpus ../shared/corpus] [--quick]

Fetches the corpus from its folder (`--mirror`) once into a temporary data dir, then runs
`ingest_documents(force=True)` `--runs` times and reports the median.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    arguments,
    corpus_settings,
    peak_rss_mb,
    require_corpus,
    write_result,
)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="Ingest runs (median reported).")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    require_corpus(args.corpus)

    from ingest.fetch import fetch_documents
    from ingest.manifest import load_manifest
    from ingest.pipeline import ingest_documents

    with tempfile.TemporaryDirectory(prefix="iga-bench-ingest-") as folder:
        # Fetch once: ingest reads the cached files.
        settings = corpus_settings(Path(folder), args.corpus)
        manifest = load_manifest(settings.manifest)
        failed = [
            o.doc_id
            for o in fetch_documents(manifest, settings, mirror=args.corpus)
            if o.status in ("failed", "skipped")
        ]
        if failed:
            raise SystemExit(f"fetch from {args.corpus} failed for {failed}")

        # Ingest every document from scratch, several times.
        runs = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            outcomes = ingest_documents(manifest, settings, force=True)
            seconds = time.perf_counter() - started
            bad = {o.doc_id: o.message for o in outcomes if o.status == "failed"}
            if bad:
                raise SystemExit(f"ingest failed: {bad}")
            records = [o.record for o in outcomes if o.record]
            pages = sum(r.pages for r in records)
            runs.append(
                {
                    "seconds": round(seconds, 3),
                    "pages": pages,
                    "passages": sum(r.passages for r in records),
                    "pages_per_s": round(pages / seconds, 2),
                    "documents": {
                        r.doc_id: {"pages": r.pages, "seconds": r.seconds} for r in records
                    },
                }
            )
            print(f"  run {run}: {pages} pages in {seconds:.2f} s = {pages / seconds:.1f} pages/s")

    median = statistics.median(r["pages_per_s"] for r in runs)
    per_document = {
        doc_id: {
            "pages": runs[0]["documents"][doc_id]["pages"],
            "median_seconds": statistics.median(r["documents"][doc_id]["seconds"] for r in runs),
        }
        for doc_id in runs[0]["documents"]
    }
    for figures in per_document.values():
        figures["pages_per_s"] = round(figures["pages"] / figures["median_seconds"], 2)
    print(f"ingest: median {median:.1f} pages/s over {len(runs)} runs ({runs[0]['pages']} pages)")
    for doc_id, figures in per_document.items():
        print(
            f"  {doc_id:<46} {figures['pages']:>4} pages  {figures['median_seconds']:6.2f} s"
            f"  {figures['pages_per_s']:6.1f} pages/s (in its own thread)"
        )
    write_result(
        "ingest",
        {
            "pages_per_s_median": median,
            "runs": runs,
            "per_document": per_document,
            "peak_rss": peak_rss_mb(),
        },
        options=vars(args),
        folder=args.results,
    )


if __name__ == "__main__":
    main()
