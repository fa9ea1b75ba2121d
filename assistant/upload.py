"""Adding documents in the browser: upload PDF or HTML files, check the title, publisher and
date guessed from each, and index them in the background.

Added documents go into a local manifest in the data dir (`local_manifest.yaml`; the official
manifest is never edited) and their files into `uploads/`, so `iga build` keeps them. Each file
passes the same checks as a download, and a bad one fails with the same message the command
line gives, without stopping the others. When the app is served beyond this machine, only a
signed-in user may add documents (`iga serve --auth`); without sign-in the tab says so.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import yaml
from pydantic import BaseModel, ValidationError

from assistant.answer import Assistant
from index.build import build_index
from ingest.atomic import write_text_atomic
from ingest.describe import describe_file, slug_for
from ingest.errors import IgaError
from ingest.fetch import fetch_documents, is_loopback_host
from ingest.manifest import load_corpus, load_manifest
from ingest.settings import Settings
from ingest.types import Manifest, ManifestEntry

COLUMNS = ["file", "title", "publisher", "published (YYYY-MM-DD)"]
FILE_TYPES = [".pdf", ".html", ".htm"]
_BUILDING = threading.Lock()  # one upload build at a time in this process (builds also lock)


class Added(BaseModel):
    """What became of one uploaded file."""

    filename: str
    doc_id: str | None = None
    ok: bool
    message: str


def upload_access(host: str, auth: Sequence[tuple[str, str]] | None) -> str:
    """Return who may add documents: "local" (this machine only), "signed-in", or "off"."""
    if is_loopback_host(host):
        return "local"
    return "signed-in" if auth else "off"


def add_documents_tab(
    settings: Settings, *, uploads: str, on_published: Callable[[Assistant], None]
) -> Any:
    """Add the "Add documents" tab to the Blocks being built; return its "add" event (None
    when adding is off), for the app to refresh what it shows once documents are added."""
    from assistant.app import html_block, one_line  # the app imports this module when built

    with gr.Tab("Add documents", elem_id="iga-add-tab"):
        if uploads == "off":
            html_block(
                '<div class="iga-banner">Adding documents needs sign-in when the app is served '
                "to other machines: restart with <code>iga serve --auth user:password</code>."
                "</div>"
            )
            return None
        gr.Markdown(
            "Upload PDF or HTML files. Check the title, publisher and publication date guessed "
            "from each file (edit the table), then add them: they are indexed in the background "
            "and answers cite them as soon as indexing ends. They are kept in "
            f"`{settings.local_manifest}`; the official manifest is never changed."
        )
        files = gr.File(
            file_count="multiple",
            file_types=FILE_TYPES,
            label="PDF or HTML files",
            elem_id="iga-upload",
        )
        table = gr.Dataframe(
            headers=COLUMNS,
            datatype="str",
            type="array",
            interactive=True,
            column_count=len(COLUMNS),
            label="Check and edit before adding",
            elem_id="iga-upload-table",
        )
        add = gr.Button("Add and index", variant="primary", elem_id="iga-upload-add")
        result = html_block(elem_id="iga-upload-result")

        def prefill(paths: list[str] | None) -> list[list[str]]:
            return describe_uploads(paths or [], settings)

        def run(
            paths: list[str] | None,
            rows: list[list[Any]] | None,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(track_tqdm=True),
        ) -> str:
            if uploads == "signed-in" and not getattr(request, "username", None):
                return one_line(_result_html([], problem="Sign in to add documents."))
            try:
                outcomes, new = add_documents(
                    settings,
                    paths or [],
                    rows or [],
                    on_step=lambda fraction, what: progress(fraction, desc=what),
                )
            except IgaError as exc:
                return one_line(_result_html([], problem=str(exc)))
            if new is not None:
                on_published(new)
            return one_line(_result_html(outcomes))

        files.upload(prefill, files, table, api_visibility="private")
        return add.click(run, [files, table], result, api_visibility="private")


def describe_uploads(paths: Sequence[str], settings: Settings) -> list[list[str]]:
    """Return one editable row per file: name, guessed title, publisher and date."""
    rows = []
    for path in paths:
        name = Path(path).name
        try:
            found = describe_file(Path(path), name=name, timeout_s=settings.extract_timeout_s)
            rows.append([name, found.title, found.publisher, found.published.isoformat()])
        except IgaError as exc:
            rows.append([name, "", "", f"cannot read this file: {exc}"])
    return rows


def add_documents(
    settings: Settings,
    paths: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    on_step: Callable[[float, str], None] | None = None,
) -> tuple[list[Added], Assistant | None]:
    """Return what became of each file, and the assistant over the new index (None if nothing
    was added). Files are matched to rows by name; each is checked, copied into the uploads
    folder, added to the local manifest and indexed."""
    step = on_step or (lambda fraction, what: None)
    if not paths:
        raise IgaError("no files: choose one or more PDF or HTML files first")
    if not _BUILDING.acquire(blocking=False):
        raise IgaError("documents are being added already: wait for that to finish")
    try:
        # Make an entry for each file from its (edited) row.
        step(0.0, "Checking the files")
        taken = {entry.id for entry in load_corpus(settings).documents}
        by_name = {str(row[0]): row for row in rows if row and row[0]}
        outcomes: list[Added] = []
        staged: list[tuple[ManifestEntry, Path]] = []
        for path in map(Path, paths):
            try:
                entry = _entry(path, by_name.get(path.name), settings, taken)
            except IgaError as exc:
                outcomes.append(Added(filename=path.name, ok=False, message=str(exc)))
                continue
            taken.add(entry.id)
            staged.append((entry, path))

        # Copy each into the uploads folder, checked as a download would be.
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        for entry, path in staged:
            shutil.copyfile(path, settings.uploads_dir / entry.filename)
        new = Manifest(documents=[entry for entry, _ in staged])
        fetched = {o.doc_id: o for o in fetch_documents(new, settings)}
        keep: list[ManifestEntry] = []
        for entry, path in staged:
            outcome = fetched[entry.id]
            if outcome.status in ("failed", "skipped"):
                _forget(settings, entry)
                outcomes.append(Added(filename=path.name, ok=False, message=outcome.message))
            else:
                keep.append(entry)
        if not keep:
            return outcomes, None

        # Record them in the local manifest, then build with the progress shown.
        _write_local(settings, [*_local_entries(settings), *keep])
        done = 0

        def ingested(outcome: Any) -> None:
            nonlocal done
            done += 1
            step(0.1 + 0.4 * done / max(1, len(keep)), f"Reading {outcome.doc_id}")

        step(0.1, "Reading the documents")
        report = build_index(
            load_corpus(settings), settings, fetch=False, on_ingest=ingested, progress=True
        )
        names = {entry.id: path.name for entry, path in staged}
        for entry in keep:
            document = report.documents.get(entry.id)
            if document is None:
                _forget(settings, entry)
                _write_local(settings, [e for e in _local_entries(settings) if e.id != entry.id])
                message = report.failed.get(entry.id, f"{entry.id}: could not be indexed")
                outcomes.append(Added(filename=names[entry.id], ok=False, message=message))
            else:
                outcomes.append(
                    Added(
                        filename=names[entry.id],
                        doc_id=entry.id,
                        ok=True,
                        message=f"{entry.title}: {document.pages} pages, "
                        f"{document.passages} passages",
                    )
                )
        if report.version is None or not any(o.ok for o in outcomes):
            return outcomes, None
        step(0.9, "Preparing answer sentences")
        assistant = Assistant.load(settings)
        assistant.prepare_sentences()
        step(1.0, "Done")
        return outcomes, assistant
    finally:
        _BUILDING.release()


def _entry(
    path: Path, row: Sequence[Any] | None, settings: Settings, taken: set[str]
) -> ManifestEntry:
    """Return the manifest entry for an uploaded file from its row (guessed when absent)."""
    found = describe_file(path, name=path.name, timeout_s=settings.extract_timeout_s)
    title, publisher, published = (
        (str(row[1] or "").strip(), str(row[2] or "").strip(), str(row[3] or "").strip())
        if row is not None and len(row) >= 4
        else (found.title, found.publisher, found.published.isoformat())
    )
    if not title:
        raise IgaError(f"{path.name}: give the document a title")
    if not publisher:
        raise IgaError(f"{path.name}: give the publisher (e.g. NHS England)")
    try:
        date = dt.date.fromisoformat(published)
    except ValueError:
        raise IgaError(
            f"{path.name}: the publication date {published!r} is not a date like 2021-04-01"
        ) from None
    try:
        return ManifestEntry(
            id=slug_for(title, date.year, taken),
            title=title,
            publisher=publisher,
            published=date,
            format=found.format,
            uploaded_at=dt.datetime.now(dt.UTC),
            note=f"Added in the app from {path.name}.",
        )
    except ValidationError as exc:
        raise IgaError(f"{path.name}: {exc.errors()[0]['msg']}") from None


def _local_entries(settings: Settings) -> list[ManifestEntry]:
    if not settings.local_manifest.exists():
        return []
    return list(load_manifest(settings.local_manifest).documents)


def _write_local(settings: Settings, entries: list[ManifestEntry]) -> None:
    """Write the local manifest atomically (temp file, then rename)."""
    data = {"documents": [e.model_dump(mode="json", exclude_defaults=True) for e in entries]}
    text = (
        "# Documents added in the app (iga serve, Add documents). Merged with the official\n"
        "# manifest by every command; their files are in uploads/ beside this file.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    )
    write_text_atomic(settings.local_manifest, text)


def _forget(settings: Settings, entry: ManifestEntry) -> None:
    """Remove a rejected upload's file, and its cached copy and fetch record if any."""
    for path in (
        settings.uploads_dir / entry.filename,
        settings.cache_dir / entry.filename,
        settings.cache_dir / f"{entry.id}.json",
    ):
        path.unlink(missing_ok=True)


def _result_html(outcomes: list[Added], *, problem: str | None = None) -> str:
    """Return the per-file results, escaped: added documents, then each failure's message."""
    e = html.escape
    if problem:
        return f'<div class="iga-notice">{e(problem)}</div>'
    items = "".join(
        f'<li class="{"iga-status-current" if o.ok else "iga-failed"}">'
        f"<b>{e(o.filename)}</b>: "
        + (f"added as <code>{e(o.doc_id or '')}</code>, {e(o.message)}" if o.ok else e(o.message))
        + "</li>"
        for o in outcomes
    )
    added = sum(o.ok for o in outcomes)
    summary = (
        f"{added} of {len(outcomes)} added and indexed: ask about them now."
        if added
        else "Nothing was added."
    )
    return f"<p>{summary}</p><ul>{items}</ul>"
