"""What the app shows about the corpus beyond the index: the first-run screen, the documents
still missing (where to get each, the file name to save it as), new versions, and example
questions that the indexed documents answer. All text is HTML-escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable

from index.types import IndexedDocument
from ingest.errors import IgaError
from ingest.missing import where_to_get
from ingest.settings import Settings
from ingest.types import ManifestEntry

EXAMPLES_SHOWN = 4
EXAMPLE_TYPES = ("factual", "numeric", "definition", "date", "list")


def missing_html(missing: list[ManifestEntry], total: int) -> str:
    """Return the list of documents not indexed: title, publisher, page link, file name."""
    if not missing:
        return ""
    e = html.escape
    items = []
    for entry in missing:
        page = where_to_get(entry)
        link = (
            f'<a href="{e(page)}" target="_blank" rel="noopener noreferrer">{e(page)}</a>'
            if page
            else "no page known: ask the publisher"
        )
        items.append(
            f"<li><b>{e(entry.title)}</b> ({e(entry.publisher)}, {entry.published.year})<br>"
            f"Download from {link}<br>save as <code>{e(entry.filename)}</code></li>"
        )
    return (
        f'<h3 class="iga-failed">Missing ({len(missing)} of {total})</h3>'
        f'<ul class="iga-missing">{"".join(items)}</ul>'
    )


def empty_state_html(missing: list[ManifestEntry], total: int, settings: Settings) -> str:
    """Return the first-run screen: nothing indexed yet, what to get, and the ways to add it."""
    e = html.escape
    return (
        '<div class="iga-banner iga-first-run"><h2>No guidance indexed yet</h2>'
        f"<p>The assistant answers from {total} national documents, and none is indexed in "
        f"<code>{e(str(settings.data_dir))}</code> yet. Add them in one of three ways:</p><ol>"
        "<li><b>With internet:</b> run <code>iga build</code>; it downloads every document "
        "from its publisher.</li>"
        "<li><b>Offline:</b> download each file below on a machine with internet, save them in "
        "one folder under the names shown, copy the folder here and run "
        "<code>iga build --mirror FOLDER</code> (<code>iga missing</code> prints this list; "
        f"it is also in <code>{e(str(settings.missing_file))}</code>).</li>"
        "<li><b>In this app:</b> open the <b>Add documents</b> tab and upload PDF or HTML "
        "files.</li></ol>"
        f"{missing_html(missing, total)}</div>"
    )


def updated_html(document: IndexedDocument) -> str:
    """Return "updated <date> (was sha256 …)" for a document replaced by a new version."""
    if not (document.updated_at and document.previous_sha256):
        return ""
    return (
        f'<br><span class="iga-hash">updated {document.updated_at:%d %B %Y} '
        f"(was sha256 {html.escape(document.previous_sha256[:12])}…)</span>"
    )


def example_questions(
    documents: dict[str, IndexedDocument], *, question_sets: Iterable[str] = ("imaging", "dev")
) -> list[str]:
    """Return up to four example questions the indexed documents answer, one per document.

    They come from the manifest's `examples:` first, then from the packaged question sets
    (answerable questions whose documents are all indexed), shortest first.
    """
    from assistant.questions import QUESTIONS_DIR, load_question_set

    # Collect candidates per document, manifest examples before question-set questions.
    candidates: dict[str, list[str]] = {}
    for doc_id, document in sorted(documents.items()):
        candidates[doc_id] = list(document.entry.examples)
    for name in question_sets:
        try:
            questions = load_question_set(QUESTIONS_DIR / f"{name}.yaml").questions
        except IgaError:
            continue  # a broken question set costs the examples, not the app
        for question in sorted(questions, key=lambda q: len(q.question)):
            docs = question.doc_ids
            if question.type.value in EXAMPLE_TYPES and docs and docs <= documents.keys():
                candidates[min(docs)].append(question.question)

    # Take one per document in turn, so the examples show the breadth of the corpus.
    chosen: list[str] = []
    depth = 0
    while len(chosen) < EXAMPLES_SHOWN and any(len(c) > depth for c in candidates.values()):
        for questions in candidates.values():
            if depth < len(questions) and questions[depth] not in chosen:
                chosen.append(questions[depth])
            if len(chosen) == EXAMPLES_SHOWN:
                break
        depth += 1
    return chosen
