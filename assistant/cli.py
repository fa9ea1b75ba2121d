"""The `iga` command: fetch, ingest, build, status, ask, serve and eval."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ingest.errors import IgaError
from ingest.settings import Settings
from ingest.types import Manifest

app = typer.Typer(
    help="Imaging Guidance Assistant: cited answers from national NHS imaging guidance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: flags without a "<bool>" type, values by their metavar, and nothing boxed
    # that an 80-column terminal would clip.
    rich_markup_mode=None,
)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Where caches and the index live (default ./data, or $IGA_DATA_DIR).",
        show_default=False,
    ),
]
ManifestPath = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        metavar="FILE",
        help="The documents to serve (default corpus_manifest.yaml, or $IGA_MANIFEST).",
        show_default=False,
    ),
]
Mirror = Annotated[
    Path | None,
    typer.Option(
        "--mirror",
        metavar="DIR",
        help="Take <id>.pdf / <id>.html from this folder instead of the network (offline use).",
        exists=True,
        file_okay=False,
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn the product's own errors into a red message and exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except IgaError as exc:
            errors.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            errors.print("[yellow]interrupted: nothing already built was changed[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def make_settings(data_dir: Path | None, manifest: Path | None, **overrides: Any) -> Settings:
    """Return settings from defaults and IGA_* variables, with the flags given on top."""
    given = {"data_dir": data_dir, "manifest": manifest, **overrides}
    return Settings(**{k: v for k, v in given.items() if v is not None})


def _load_manifest(settings: Settings) -> Manifest:
    """The official manifest plus the documents added in the app (data dir's local manifest)."""
    from ingest.manifest import load_corpus

    return load_corpus(settings)


@app.command()
@reports_errors
def fetch(
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
    mirror: Mirror = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Just these ids.")] = None,
) -> None:
    """Download the manifest's documents into the cache (or copy them from --mirror).

    A document without `url` is found from its `landing_page`: the link that matches its title.
    """
    from assistant.corpus_report import fetch_line, print_hint
    from ingest.fetch import fetch_documents

    settings = make_settings(data_dir, manifest)
    documents = _load_manifest(settings)

    console.print(f"Fetching {len(documents.documents)} documents into {settings.cache_dir}")
    outcomes = fetch_documents(
        documents, settings, mirror=mirror, only=only, on_progress=lambda o: fetch_line(console, o)
    )
    bad = [o for o in outcomes if o.status in ("failed", "skipped")]
    if bad:
        offline = next((o.reason for o in outcomes if o.offline), "")
        print_hint(
            errors,
            f"{len(bad)} of {len(outcomes)} documents were not fetched"
            + (f" ({offline})" if offline else "")
            + ". `iga missing` lists where to get each one by hand and the file name --mirror "
            "expects.",
            style="red",
        )
        raise typer.Exit(1)


@app.command()
@reports_errors
def ingest(
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
    force: Annotated[bool, typer.Option(help="Re-extract even unchanged documents.")] = False,
    only: Annotated[list[str] | None, typer.Option("--only", help="Just these ids.")] = None,
) -> None:
    """Extract, clean and cut the fetched documents into passages (per document, incremental)."""
    from ingest.pipeline import ingest_documents, summary_line

    settings = make_settings(data_dir, manifest)
    documents = _load_manifest(settings)
    started = time.perf_counter()
    outcomes = ingest_documents(
        documents, settings, only=only, force=force, on_progress=_ingest_line
    )
    _ingest_table(outcomes)
    totals = summary_line(outcomes, time.perf_counter() - started)
    console.print(
        "Summary: {documents} documents, {pages} pages ({empty_pages} without a text layer, "
        "{contents_pages} contents pages not indexed), {passages} passages, "
        "{failed} failed, {seconds} s".format(**totals)
    )
    if totals["failed"]:
        raise typer.Exit(1)


def _ingest_line(outcome: Any, *, step: str = "") -> None:
    colour = {"failed": "red", "unchanged": "dim"}.get(outcome.status, "green")
    detail = f": {outcome.message}" if outcome.message else ""
    console.print(
        f"  {step}[{colour}]{outcome.status:>10}[/] {outcome.doc_id}{detail}", highlight=False
    )


def _ingest_table(outcomes: list[Any]) -> None:
    table = Table(title="ingest summary")
    for column in ("document", "status", "pages", "empty", "contents", "passages", "seconds"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        record = outcome.record
        table.add_row(
            outcome.doc_id,
            outcome.status,
            *(
                (
                    str(record.pages),
                    _pages(record.empty_pages),
                    _pages(record.contents_pages),
                    str(record.passages),
                    f"{record.seconds:.1f}",
                )
                if record
                else ("", "", "", "", "")
            ),
        )
    console.print(table)
    for outcome in outcomes:
        if outcome.record and outcome.record.empty_pages:
            console.print(
                f"[yellow]{outcome.doc_id}: pages {_pages(outcome.record.empty_pages)} have no "
                "text layer (scanned?) and are not searchable[/]"
            )


def _pages(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers) if numbers else "-"


@app.command()
@reports_errors
def build(
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
    mirror: Mirror = None,
    force: Annotated[
        bool, typer.Option(help="Rebuild everything (re-extract; re-use cached embeddings).")
    ] = False,
    no_fetch: Annotated[
        bool, typer.Option("--no-fetch", help="Use only what is already in the cache.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when any document is missing or failed (for CI)."),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="Embedding model name or local folder (default: the bundled all-MiniLM-L6-v2)."
        ),
    ] = None,
) -> None:
    """Fetch (when needed), ingest and index: incremental, atomic, one build at a time.

    Prints one line per document. Documents that cannot be fetched (offline, no file in
    --mirror) are listed by `iga missing`; the build indexes the rest and says it is partial.
    Exits 0 when the build ran, even with documents missing or none at all (`iga serve` then
    shows what to add); 1 on an error such as a bad manifest; with --strict, also 1 when any
    document is missing or failed.
    """
    from assistant.corpus_report import BuildLines
    from index.build import build_index
    from index.store import current_version_dir, read_meta

    settings = make_settings(data_dir, manifest, model=model)
    documents = _load_manifest(settings)
    console.print(
        f"Building the index for {len(documents.documents)} documents in {settings.data_dir}"
    )
    folder = current_version_dir(settings.index_root)
    lines = BuildLines(console, documents, settings, read_meta(folder) if folder else None)
    report = build_index(
        documents,
        settings,
        mirror=mirror,
        fetch=not no_fetch,
        force=force,
        on_fetch=lines.on_fetch,
        on_ingest=lines.on_ingest,
        progress=console.is_terminal,
    )
    lines.summary(report)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if report.published:
        console.print(
            f"Answer sentences: {report.sentences}, {report.sentences_embedded} embedded this run",
            highlight=False,
        )
    if report.stages and report.passages:  # nothing indexed (offline, first run): no stages
        console.print(stage_line(report.stages), highlight=False)
    lines.close(report)
    if strict and (report.failed or report.missing):
        raise typer.Exit(1)


def stage_line(stages: dict[str, float], width: int = 80) -> str:
    """Return the build's seconds per stage as "Stages: fetch 0.1 s · ...", wrapped at `width`."""
    items = [f"{stage} {seconds:.1f} s" for stage, seconds in stages.items()]
    lines, line = [], "Stages:"
    for item in items:
        candidate = f"{line} {item}" if line.endswith(":") else f"{line} · {item}"
        if len(candidate) > width and not line.endswith(":"):
            lines.append(line)
            candidate = f"        {item}"
        line = candidate
    lines.append(line)
    return "\n".join(lines)


@app.command()
@reports_errors
def status(data_dir: DataDir = None, manifest: ManifestPath = None) -> None:
    """Show the served index: documents, model, size on disk, last build, failures."""
    from index.store import current_version_dir, read_meta

    settings = make_settings(data_dir, manifest)
    folder = current_version_dir(settings.index_root)
    if folder is None:
        errors.print(f"No index in {settings.index_root}: build one with `iga build`.")
        raise typer.Exit(1)
    meta = read_meta(folder)
    console.print(
        f"[bold]index {meta.version}[/]: {len(meta.documents)} documents, {meta.passages} passages",
        highlight=False,
    )
    # One block per document, its id on a line of its own (what --doc takes, never cut), the
    # rest indented: this folds at any width, where a table of seven columns is clipped.
    for doc_id, doc in sorted(meta.documents.items()):
        pages = f"{doc.pages} pages" + (
            f" ({len(doc.empty_pages)} unsearchable)" if doc.empty_pages else ""
        )
        fetched = doc.fetched_at.strftime("%Y-%m-%d") if doc.fetched_at else "-"
        details = Text(doc.entry.title)
        details.append(
            f"\n{doc.entry.publisher} · published {doc.entry.published.isoformat()} · {pages} · "
            f"{doc.passages} passages\nfetched {fetched} · sha256 {doc.sha256[:12]}",
            style="dim",
        )
        console.print(Text(doc_id, style="bold cyan"), overflow="fold")
        console.print(Padding(details, (0, 0, 0, 2)))
    _status_notes(settings, meta)
    for doc_id, message in meta.failures.items():
        console.print(f"[red]failed[/] {doc_id}: {message}", highlight=False)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    console.print(
        f"model {meta.model.name} ({meta.model.dtype}, {meta.model.dimension} dims, sha256 "
        f"{(meta.model.sha256 or 'unknown')[:12]}); {meta.passages} passages, "
        f"{meta.dense_kind} dense index; {size / 1e6:.1f} MB on disk; built "
        f"{meta.created_at:%Y-%m-%d %H:%M} UTC in {meta.build_seconds} s"
    )
    if meta.calibration:
        c = meta.calibration
        console.print(
            f"not-covered threshold {c.threshold:.3f} (calibrated on {c.question_set!r} "
            f"{c.calibrated_at:%Y-%m-%d})"
        )
    else:
        console.print("not-covered threshold: default (run `iga eval --calibrate` to calibrate)")


@app.command()
@reports_errors
def missing(data_dir: DataDir = None, manifest: ManifestPath = None) -> None:
    """List the documents still to get: each one's page and the file name --mirror expects.

    The list is also written to missing.txt in the data dir.
    """
    from index.store import current_version_dir, read_meta
    from ingest.missing import missing_documents, missing_text, write_missing

    settings = make_settings(data_dir, manifest)
    documents = _load_manifest(settings)
    folder = current_version_dir(settings.index_root)
    indexed = read_meta(folder).documents if folder else {}
    entries = missing_documents(documents, settings, indexed)
    total = len(documents.documents)
    write_missing(settings, entries, total)
    text = missing_text(entries, total)
    console.print(text, end="", soft_wrap=True, markup=False, highlight=False)
    if entries:
        console.print(f"(saved in {settings.missing_file})", soft_wrap=True, highlight=False)


def _status_notes(settings: Settings, meta: Any) -> None:
    """Print new versions, files found on landing pages, and what the manifest still lacks."""
    from assistant.corpus_report import status_notes

    try:
        missing = sum(e.id not in meta.documents for e in _load_manifest(settings).documents)
    except IgaError:
        missing = 0  # status describes the index; a bad manifest is reported by build
    status_notes(console, meta, missing)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"iga (imaging-guidance-assistant) {version('imaging-guidance-assistant')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Imaging Guidance Assistant: cited answers from national NHS imaging guidance."""


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


GlossaryPath = Annotated[
    Path | None,
    typer.Option(
        "--glossary",
        metavar="FILE",
        help="Abbreviations to expand in questions, a YAML file (default: the packaged glossary).",
        envvar="IGA_GLOSSARY",
        exists=True,
        dir_okay=False,
        show_default=False,
    ),
]


@app.command()
@reports_errors
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question, in quotes.")],
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
    k: Annotated[int, typer.Option("--k", metavar="N", help="Passages to retrieve, 1-50.")] = 5,
    mode: Annotated[
        str, typer.Option(metavar="MODE", help="hybrid, dense (meaning) or bm25 (keywords).")
    ] = "hybrid",
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", metavar="ID", help="Only this document id (repeatable)."),
    ] = None,
    publisher: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="Only this publisher, any case (repeatable)."),
    ] = None,
    since: Annotated[
        int | None, typer.Option(metavar="YEAR", help="Only documents published from this year.")
    ] = None,
    until: Annotated[
        int | None, typer.Option(metavar="YEAR", help="Only documents published up to this year.")
    ] = None,
    glossary: GlossaryPath = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the Answer as JSON, for scripts.")
    ] = False,
) -> None:
    """Answer a question from the indexed guidance, citing document, page and date."""
    from assistant.answer import Assistant
    from assistant.render import render_answer
    from assistant.validate import AskRequest, check_options
    from assistant.validate import ask as ask_assistant

    settings = make_settings(data_dir, manifest)
    request = AskRequest(
        question=question,
        mode=mode,
        k=k,
        documents=doc,
        publishers=publisher,
        since=since,
        until=until,
    )
    check_options(request)  # before the slow part: a bad --k fails at once
    loading = errors.status("Loading the index and model...") if errors.is_terminal else None
    with loading or contextlib.nullcontext():
        assistant = Assistant.load(settings, glossary=glossary, one_off=True)
    answer = ask_assistant(assistant, request)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
    else:
        console.print(render_answer(answer, local_files=assistant.local_files))


@app.command()
@reports_errors
def serve(
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
    auth: Annotated[
        str | None,
        typer.Option(help="user:password required to use the app.", envvar="IGA_AUTH"),
    ] = None,
    auth_file: Annotated[
        Path | None,
        typer.Option(help="File of user:password lines.", exists=True, dir_okay=False),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Serve to other machines without a password, on purpose."),
    ] = False,
    glossary: GlossaryPath = None,
) -> None:
    """Start the browser app: a chat with cited answers, sources and the corpus."""
    from assistant.app import check_exposure, parse_auth
    from assistant.app import serve as serve_app

    settings = make_settings(data_dir, manifest)
    pairs = parse_auth(auth, auth_file)
    check_exposure(host, pairs, no_auth=no_auth)
    console.print(f"Loading the index in {settings.data_dir}...")
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    serve_app(
        settings,
        host=host,
        port=port,
        auth=pairs or None,
        glossary=glossary,
        on_ready=lambda: console.print(
            f"Serving on [bold]http://{shown}:{port}/[/]"
            + (" (sign-in required)" if pairs else "")
            + ": press Ctrl+C to stop",
            highlight=False,
        ),
    )


@app.command("eval")
@reports_errors
def eval_(
    questions: Annotated[
        list[Path] | None,
        typer.Option(
            "--questions",
            help="A question set YAML (repeatable; default: every bundled set whose documents "
            "are indexed: dev and holdout on the development corpus).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for report.md, results.json, chart.png (default: DATA_DIR/eval/<time>).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Passages retrieved per question.")] = 10,
    modes: Annotated[
        str, typer.Option("--modes", help="Retrieval modes to evaluate, comma-separated.")
    ] = "dense,bm25,hybrid",
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Skip the tutorial baseline.")
    ] = False,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="An earlier results.json: show what improved and what regressed.",
            dir_okay=False,
        ),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Choose the not-covered weights and threshold on the development set and store "
            "them with the index (holdout sets are only measured).",
        ),
    ] = False,
    data_dir: DataDir = None,
    manifest: ManifestPath = None,
) -> None:
    """Measure answers and retrieval on the development and holdout sets, and the baseline."""
    import datetime as dt

    from assistant.eval_types import load_results
    from assistant.evaluate import run_suite
    from assistant.report import write_outputs
    from assistant.scoring import compare_results
    from index.store import IndexStoreError, current_version_dir, read_meta

    # Read the options and the question sets, checking their documents against the index.
    settings = make_settings(data_dir, manifest)
    wanted = _parse_modes(modes)
    folder = current_version_dir(settings.index_root)
    if folder is None:
        raise IndexStoreError(
            f"no index in {settings.index_root}: build one with `iga build` before `iga eval`"
        )
    sets = _question_sets(questions, set(read_meta(folder).documents))
    earlier = load_results(compare) if compare else None
    out = out or settings.data_dir / "eval" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    # Run, compare and write.
    names = ", ".join(f"{s.name} ({s.role}, {len(s.questions)})" for s, _ in sets)
    console.print(
        f"Evaluating {names} in {', '.join(m.value for m in wanted)}"
        + (" and the baseline" if not no_baseline else "")
    )
    suite = run_suite(
        settings,
        sets,
        k=k,
        modes=wanted,
        baseline=not no_baseline,
        calibrate=calibrate,
        console=console,
    )
    comparisons = [
        compare_results(before, after)
        for after in suite.runs
        if earlier and (before := earlier.run(after.question_set)) is not None
    ]
    write_outputs(suite, out, comparisons)
    _print_eval_summary(suite)
    for comparison in comparisons:
        from assistant.report import comparison_lines

        console.print(f"{comparison.question_set}:", highlight=False)
        console.print("\n".join(comparison_lines(comparison)), highlight=False, markup=False)
    console.print(f"Report: {out / 'report.md'} (results.json, chart.png beside it)")


def _question_sets(paths: list[Path] | None, indexed: set[str]) -> list[tuple[Any, Path]]:
    """Return the question sets to run, development sets first, each with its file."""
    from assistant.questions import QUESTIONS_DIR, load_question_set

    if paths:
        sets = [(load_question_set(p, known_docs=indexed), p) for p in paths]
    else:
        bundled = [(load_question_set(p), p) for p in sorted(QUESTIONS_DIR.glob("*.yaml"))]
        sets = [(s, p) for s, p in bundled if s.doc_ids <= indexed]
        if not sets:
            raise IgaError(
                f"no bundled question set fits the indexed documents ({', '.join(sorted(indexed))}"
                f"): pass your own with --questions (the format is that of {QUESTIONS_DIR}/dev.yaml)"
            )
    return sorted(sets, key=lambda pair: pair[0].role != "development")


def _parse_modes(text: str) -> list[Any]:
    from index.types import Mode

    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return [Mode(name) for name in names]
    except ValueError:
        raise IgaError(
            f"unknown retrieval mode in --modes {text!r}: choose from "
            f"{', '.join(m.value for m in Mode)}"
        ) from None


def _print_eval_summary(suite: Any) -> None:
    """Print the headline figures of every set side by side, then each set's goals."""
    from assistant.metrics import ALL_TYPES
    from assistant.report import label, number

    runs = suite.runs
    systems = [s for s in ("hybrid", "baseline") if any(s in r.systems for r in runs)]
    k = runs[0].k
    # One table per system, a column per set: four sets side by side fit 80 columns.
    for system in systems:
        columns = [r for r in runs if system in r.systems]
        table = Table(title=f"overall: {system}")
        table.add_column("metric")
        for r in columns:
            table.add_column(r.question_set, justify="right")
        for metric in (
            "recall@5/page",
            f"mrr@{k}/page",
            "fact",
            "answered",
            "declined",
            "verbatim",
        ):
            table.add_row(
                label(metric),
                *(number(r.metrics[system][ALL_TYPES].get(metric)) for r in columns),
            )
        table.add_row(
            "p50 / p95 ms",
            *(
                f"{r.latency[system].p50 * 1000:.0f} / {r.latency[system].p95 * 1000:.0f}"
                for r in columns
            ),
        )
        console.print(table)
    for results in runs:
        if results.calibration:
            c = results.calibration
            console.print(
                f"Calibrated on {c.question_set}: threshold {c.threshold_before:.3f} -> "
                f"{c.threshold:.3f}, answered {c.answered_before:.1%} -> {c.answered_after:.1%}, "
                f"declined {c.declined_before:.1%} -> {c.declined_after:.1%}",
                highlight=False,
            )
        failed = [g for g in results.goals if not g.passed]
        console.print(
            f"{results.question_set} ({results.role}): {len(results.goals) - len(failed)} of "
            f"{len(results.goals)} goals met",
            highlight=False,
        )
        for goal in failed:
            console.print(f"  [red]FAIL[/] {goal.goal}: {goal.measured}", highlight=False)


if __name__ == "__main__":  # `python -m assistant.cli ...` runs the same command as `iga`
    main()
