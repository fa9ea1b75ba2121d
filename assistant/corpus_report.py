"""What `iga fetch` and `iga build` print: one line per document, then one closing hint.

Lines are wrapped here, at spaces only, to 80 columns: a URL is never broken across lines (one
longer than the screen sits alone on its line), so it can always be copied whole.
"""

from __future__ import annotations

import re
import textwrap

from rich.console import Console
from rich.text import Text

from index.build import BuildReport
from index.types import IndexMeta
from ingest.fetch import FetchOutcome, load_record
from ingest.missing import missing_documents, write_missing
from ingest.pipeline import IngestOutcome, load_ingest_record
from ingest.settings import Settings
from ingest.types import Manifest

WIDTH = 80
NBSP = "\u00a0"  # holds a `command` together while wrapping
WORD_WIDTH = 10
COLOURS = {
    "added": "green",
    "updated": "green",
    "re-cut": "green",
    "fetched": "green",
    "copied": "green",
    "unchanged": "dim",
    "removed": "yellow",
    "missing": "red",
    "failed": "red",
    "skipped": "yellow",
}


def wrap(text: str, *, indent: str = "") -> list[str]:
    """Return text wrapped to 80 columns at spaces only, never inside a `command`; each line
    of the text starts a new line, indented like the wrapped ones."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        protected = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", NBSP), paragraph)
        lines += textwrap.wrap(
            protected.strip() if number else protected,
            WIDTH,
            initial_indent=indent if number else "",
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return [line.replace(NBSP, " ") for line in lines] or [""]


def print_line(console: Console, word: str, doc_id: str, detail: str = "") -> None:
    """Print `  word  doc-id: detail`, wrapped at spaces, continuation lines indented."""
    text = f"  {word:<{WORD_WIDTH}}{doc_id}" if word else f"  {doc_id}"
    text += f": {detail}" if detail else ""
    lines = wrap(text, indent=" " * (WORD_WIDTH + 4))
    first = Text(lines[0])
    first.stylize(COLOURS.get(word, ""), 2, 2 + len(word))
    console.print(first, soft_wrap=True, highlight=False)
    for line in lines[1:]:
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def print_hint(console: Console, text: str, *, style: str = "") -> None:
    """Print a closing paragraph wrapped at spaces to 80 columns (URLs and commands whole)."""
    for line in wrap(text):
        console.print(Text(line, style=style), soft_wrap=True, highlight=False)


class BuildLines:
    """Prints each document's line as soon as the build knows what became of it."""

    def __init__(
        self, console: Console, manifest: Manifest, settings: Settings, previous: IndexMeta | None
    ) -> None:
        self.console = console
        self.manifest = manifest
        self.settings = settings
        self.previous = previous.documents if previous else {}
        self.fetched: dict[str, FetchOutcome] = {}
        self.offline = ""  # why the network is unreachable, when it is

    def on_fetch(self, outcome: FetchOutcome) -> None:
        """A document that could not be fetched and was never fetched before is missing now."""
        self.fetched[outcome.doc_id] = outcome
        if outcome.offline and not self.offline:
            self.offline = outcome.reason  # said once, in the closing hint
        never = load_record(self.settings, outcome.doc_id) is None
        if outcome.status in ("failed", "skipped") and never:
            print_line(self.console, "missing", outcome.doc_id, short_reason(outcome))

    def on_ingest(self, outcome: IngestOutcome) -> None:
        """Print what the document is now: added, updated, re-cut, unchanged or failed."""
        doc_id = outcome.doc_id
        fetch = self.fetched.get(doc_id)
        fetch_problem = (
            short_reason(fetch) if fetch and fetch.status in ("failed", "skipped") else ""
        )
        old = self.previous.get(doc_id)
        record = outcome.record
        if outcome.status == "failed" or record is None:
            kept = load_ingest_record(self.settings, doc_id) is not None
            detail = outcome.message.removeprefix(f"{doc_id}: ")
            print_line(
                self.console,
                "failed",
                doc_id,
                detail + ("; still serving the previous copy" if kept else ""),
            )
        elif old is None:
            print_line(
                self.console, "added", doc_id, f"{record.pages} pages, {record.passages} passages"
            )
        elif old.sha256 != record.sha256:
            print_line(
                self.console,
                "updated",
                doc_id,
                f"new version, {record.pages} pages (was sha256 {old.sha256[:12]})",
            )
        else:
            when = fetch.record.fetched_at if fetch and fetch.record else old.fetched_at
            kept = f"; using the copy fetched {when:%Y-%m-%d}" if fetch_problem and when else ""
            problem = f"{fetch_problem}{kept}".lstrip("; ")
            if outcome.status == "ingested":
                # The same file cut again: --force, or extraction or chunking changed since.
                cut = f"{record.pages} pages, {record.passages} passages from the same file"
                print_line(self.console, "re-cut", doc_id, "; ".join(filter(None, [cut, problem])))
            else:
                print_line(self.console, "unchanged", doc_id, problem)

    def summary(self, report: BuildReport) -> None:
        """Print removals and the line saying which index version serves, and whether partial."""
        for doc_id in report.removed:
            print_line(self.console, "removed", doc_id, "no longer in the manifest")
        total = len(self.manifest.documents)
        indexed = total - len(report.missing)
        if report.version is None:
            state = f"No index yet: 0 of {total} documents could be indexed."
        else:
            what = "published" if report.published else "unchanged"
            partial = ", partial" if report.missing else ""
            state = (
                f"Index version {report.version} {what}{partial}: {indexed} of {total} "
                f"documents, {report.passages} passages ({report.embedded} embedded), "
                f"{report.seconds} s."
            )
        print_hint(self.console, state, style="bold")

    def close(self, report: BuildReport) -> None:
        """Write the list of documents to get by hand, and print the one thing to do next."""
        total = len(self.manifest.documents)
        write_missing(
            self.settings, missing_documents(self.manifest, self.settings, report.documents), total
        )
        print_hint(self.console, closing_hint(self.settings, report, offline=self.offline))


def short_reason(outcome: FetchOutcome) -> str:
    """Return a fetch problem for a one-line report (the network's state is said once)."""
    return "network unreachable" if outcome.offline else outcome.reason


def closing_hint(settings: Settings, report: BuildReport, *, offline: str) -> str:
    """Return the one thing to do next after a build (`offline`: why there is no network)."""
    if report.missing:
        count = len(report.missing)
        why = (
            f"No network ({offline.removeprefix('network unreachable (')}: get"
            if offline
            else "Get"
        )
        return (
            f"{why} the {count} missing document{'s' if count != 1 else ''} by hand: "
            f"`iga missing` lists their pages and file names (also saved in "
            f"{settings.missing_file}). Put the files in a folder, then run "
            "`iga build --mirror FOLDER`, or add them in the app (`iga serve`, Add documents)."
        )
    failed = [d for d in report.failed if d not in report.missing]
    if failed:
        return (
            "Some documents failed (see above) and their previous copies still serve: fix "
            "them, then rerun `iga build`."
        )
    return "Next: `iga serve`, then open http://localhost:7860/"


def fetch_line(console: Console, outcome: FetchOutcome) -> None:
    """Print one fetch outcome: its status and size and source, or its problem."""
    if outcome.status in ("failed", "skipped"):
        print_line(console, outcome.status, outcome.doc_id, short_reason(outcome))
        return
    detail = outcome.message
    record = outcome.record
    if record is not None and record.landing_page and outcome.status == "downloaded":
        detail += f" (linked from {record.landing_page})"
    word = "fetched" if outcome.status == "downloaded" else outcome.status
    print_line(console, word, outcome.doc_id, detail)


def status_notes(console: Console, meta: IndexMeta, missing: int) -> None:
    """Print, under `iga status`'s table, where each resolved file came from, new versions,
    and how many manifest documents are not indexed."""
    for doc_id, document in sorted(meta.documents.items()):
        notes = []
        if document.updated_at and document.previous_sha256:
            notes.append(
                f"updated {document.updated_at:%Y-%m-%d} "
                f"(was sha256 {document.previous_sha256[:12]})"
            )
        if document.entry.url is None and document.file_url:
            notes.append(f"file {document.file_url}")
            if document.entry.landing_page:
                notes.append(f"found on {document.entry.landing_page}")
        if notes:
            print_line(console, "", doc_id, "; ".join(notes))
    if missing:
        print_hint(
            console,
            f"Partial: {missing} manifest document{'s are' if missing != 1 else ' is'} not "
            "indexed; `iga missing` lists where to get them.",
            style="yellow",
        )
