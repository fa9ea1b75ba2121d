"""The browser app (`iga serve`): a chat with cited answers, their sources, and the corpus.

Gradio runs mounted on a FastAPI app that adds one route, `/doc/<id>`: the cached copy of an
indexed document, looked up by id (never by a path from the request), so offline users can open
a citation at its page. Every piece of document text is HTML-escaped before any markup is added.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.routing import Mount

from assistant.answer import Assistant
from assistant.api import api_app
from assistant.export import (
    answer_text,
    citation_text,
    conversation_docx,
    conversation_markdown,
    export_filename,
)
from assistant.security import SecurityHeaders
from assistant.types import Answer, Citation, Outcome, long_date
from assistant.validate import AskRequest, RequestError
from assistant.validate import ask as ask_assistant
from assistant.viewer import STATIC_DIR, STATIC_URL, viewer_router, viewer_url
from ingest.errors import IgaError
from ingest.fetch import is_loopback_host
from ingest.settings import Settings
from ingest.types import DocumentFormat

TITLE = "Imaging Guidance Assistant"
CONCURRENCY = 4  # questions answered at once; more queue (the model is shared)
MAX_QUEUE = 64
EXAMPLES = [
    "What is the maximum time for an imaging examination to be reported?",
    "Where should community diagnostic centres be located?",
    "How should PACS be procured across an imaging network?",
    "Who should chair an imaging network board?",
]
NO_INDEX = (
    "No index yet: run `iga build` (offline: `iga build --mirror FOLDER`) to fetch and index "
    "the guidance into {data_dir}, then restart `iga serve`."
)
NO_SOURCES = (
    '<div class="iga-empty">The passages an answer quotes appear here, with the quoted '
    "sentences highlighted. Select an earlier answer to see its sources again.</div>"
)
SEARCHING = "*Searching the guidance…*"
EMPTY_QUESTION = (
    "Type a question in the box first, e.g. “Who should chair an imaging network board?”, "
    "then press Ask."
)
MAX_KEPT = 50  # answers kept in the browser's conversation
MEDIA_TYPES = {".pdf": "application/pdf", ".html": "text/html; charset=utf-8"}

NHS_BLUE = "#005eb8"
THEME = gr.themes.Default(
    primary_hue="blue",
    neutral_hue="slate",
    # System fonts only: nothing to fetch, and NHS material is set in Arial-like sans serifs.
    font=("Arial", "Helvetica", "Liberation Sans", "sans-serif"),
).set(
    button_primary_background_fill=NHS_BLUE,
    button_primary_background_fill_hover="#003087",
    button_primary_text_color="#ffffff",
    # Secondary text at least 4.5:1 on white (WCAG AA): the default greys are 2.6:1.
    body_text_color_subdued="#4c6272",
    block_info_text_color="#4c6272",
    block_label_text_color="#3d4f5c",
    input_placeholder_color="#5b6f7d",
    color_accent="#005eb8",
)
CSS = """
.iga-header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap;
  padding: 0.25rem 0 0.5rem; border-bottom: 3px solid #005eb8; margin-bottom: 0.5rem; }
.iga-header h1 { margin: 0; font-size: 1.6rem; font-weight: 600; color: #005eb8; }
.iga-header .iga-status { color: #3d4f5c; font-size: 0.9rem; }
.iga-banner { background: #fff9c4; border-left: 6px solid #ffb81c; padding: 0.75rem 1rem;
  border-radius: 4px; color: #212b32; }
.iga-banner code { background: #fff3a0; }
.iga-empty { color: #4c6272; font-style: italic; padding: 0.5rem 0; }
.iga-notice { background: #fff9c4; border-left: 6px solid #ffb81c; padding: 0.5rem 0.75rem;
  margin-bottom: 0.75rem; color: #212b32; }
.iga-source { border: 1px solid #d8dde0; border-left: 5px solid #005eb8; border-radius: 6px;
  padding: 0.6rem 0.8rem; margin-bottom: 0.75rem; background: #ffffff; color: #212b32; }
.iga-source.iga-nearest { border-left-color: #4c6272; }
.iga-source.iga-superseded { border-left-color: #ffb81c; }
.iga-source-head { font-weight: 600; }
.iga-num { color: #005eb8; margin-right: 0.35rem; }
.iga-meta { color: #425563; font-size: 0.85rem; margin: 0.15rem 0 0.35rem; }
.iga-warning { color: #8a5300; font-size: 0.85rem; font-weight: 600; margin-bottom: 0.35rem; }
.iga-passage { white-space: pre-wrap; font-size: 0.88rem; line-height: 1.45; margin: 0.35rem 0;
  padding: 0.4rem 0.6rem; background: #f0f4f5; border-radius: 4px; max-height: 18rem;
  overflow-y: auto; position: relative; }
.iga-passage:focus-visible, .iga-copy:focus-visible, .iga-open:focus-visible {
  outline: 3px solid #ffb81c; outline-offset: 2px; }
.iga-passage mark { background: #ffeb3b; color: inherit; padding: 0 1px; }
.iga-links { font-size: 0.85rem; }
.iga-links a { color: #005eb8; }
.iga-hash { color: #4c6272; font-family: ui-monospace, monospace; font-size: 0.75rem; }
.iga-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; border: none !important; }
.iga-table td:last-child { white-space: nowrap; }
.iga-table th, .iga-table td { border: none !important; border-bottom: 1px solid #d8dde0 !important;
  padding: 0.4rem 0.5rem; text-align: left; vertical-align: top; }
.iga-table th { background: #f0f4f5; }
.iga-status-current { color: #007f3b; font-weight: 600; }
.iga-status-superseded { color: #8a5300; font-weight: 600; }
.iga-failed { color: #d5281b; }
.iga-actions { display: flex; flex-wrap: wrap; gap: 0.5rem 0.75rem; align-items: center;
  margin: 0.4rem 0; font-size: 0.85rem; }
.iga-open { color: #005eb8; font-weight: 600; }
.iga-copy { font: inherit; font-size: 0.85rem; padding: 0.15rem 0.6rem; border: 1px solid #005eb8;
  border-radius: 4px; background: #ffffff; color: #005eb8; cursor: pointer; }
.iga-copy:hover { background: #e8f1fa; }
/* Gradio dims the chat's text to 80% opacity: blue on white then falls below 4.5:1. */
#iga-chat .md.prose { opacity: 1; }
.iga-offscreen { position: fixed; left: -9999px; top: 0; }
.iga-offline { position: sticky; top: 0; z-index: 1000; background: #d5281b; color: #ffffff;
  padding: 0.75rem 1rem; font-weight: 600; }
footer { display: none !important; }
/* A phone: one column, in the order of use: the conversation, the sources of its last answer
   directly under it, then the question box, the actions, examples and filters. */
@media (max-width: 640px) {
  #iga-main { flex-direction: column; flex-wrap: nowrap; }
  #iga-left, #iga-right { display: contents; }
  #iga-chat { order: 1; height: auto !important; max-height: none !important; min-height: 6rem; }
  #iga-sources { order: 2; }
  #iga-ask-row { order: 3; }
  #iga-actions { order: 4; }
  #iga-examples { order: 5; }
  #iga-filters { order: 6; }
  .iga-header h1 { font-size: 1.3rem; }
}
"""


def build_app(
    assistant: Assistant | None, settings: Settings, *, problem: str | None = None
) -> gr.Blocks:
    """Return the Gradio app over an assistant, or one that explains how to build an index."""
    problem = problem or (None if assistant else NO_INDEX.format(data_dir=settings.data_dir))
    exports = ExportFolder()
    # Old exports leave Gradio's cache after an hour.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(600, 3600)) as blocks:
        html_block(_header_html(assistant))
        if problem:
            html_block(f'<div class="iga-banner">{_inline_code(problem)}</div>')
        first_year, last_year = _year_range(assistant)
        # The conversation (Answers as JSON) lives in the browser, so a reload keeps it. The
        # key only scrambles it in localStorage; nothing in it is secret.
        conversation = gr.BrowserState([], storage_key="iga-conversation", secret="iga")
        asked = gr.State("")  # the question being answered

        with gr.Tab("Ask"), gr.Row(equal_height=False, elem_id="iga-main"):
            with gr.Column(scale=3, elem_id="iga-left"):
                chat = gr.Chatbot(
                    show_label=False,
                    height=520,
                    layout="panel",
                    buttons=[],
                    feedback_options=None,
                    elem_id="iga-chat",
                    placeholder="Ask about the national imaging guidance. Every answer "
                    "quotes the documents and cites document, page and date.",
                )
                with gr.Row(elem_id="iga-ask-row"):
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="Ask a question, e.g. What is the maximum reporting "
                        "turnaround time?",
                        show_label=False,
                        scale=5,
                        submit_btn=False,
                        autofocus=True,
                        elem_id="iga-question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="iga-ask")
                with gr.Row(elem_id="iga-actions"):
                    new = gr.Button("New conversation", size="sm", elem_id="iga-new")
                    markdown_file = gr.DownloadButton(
                        "Export Markdown", size="sm", visible=False, elem_id="iga-export-md"
                    )
                    word_file = gr.DownloadButton(
                        "Export Word (.docx)", size="sm", visible=False, elem_id="iga-export-docx"
                    )
                gr.Examples(EXAMPLES, inputs=question, label="Examples", elem_id="iga-examples")
            with gr.Column(scale=2, elem_id="iga-right"):
                with gr.Accordion("Sources", open=True, elem_id="iga-sources") as panel:
                    sources = html_block(NO_SOURCES, elem_id="iga-sources-html")
                with gr.Accordion("Filters and search settings", open=False, elem_id="iga-filters"):
                    filters = _filter_inputs(assistant)

        with gr.Tab("Corpus"):
            html_block(corpus_html(assistant))
        with gr.Tab("Glossary"):
            gr.Markdown(
                "Abbreviations in a question are also searched for spelled out, and the other "
                "way round. Edit the glossary file and pass it with `--glossary`."
            )
            html_block(_glossary_html(assistant))

        def start(message: str, stored: list[dict[str, Any]]) -> tuple[Any, ...]:
            """Show the question in the chat at once, with one "searching" line; lock Ask."""
            message = (message or "").strip()
            if not message:
                raise gr.Error(EMPTY_QUESTION, title="No question")
            history = [*chat_history(_answers(stored)), *_asking(message)]
            return "", history, message, gr.Button(interactive=False)

        def respond(
            message: str,
            stored: list[dict[str, Any]],
            documents: list[str] | None,
            publishers: list[str] | None,
            year_from: float | None,
            year_to: float | None,
            mode: str,
            k: float,
        ) -> tuple[Any, ...]:
            """Answer the question: the chat, the stored conversation and the sources panel."""
            answers = _answers(stored)
            unlocked = gr.Button(interactive=True)
            if assistant is None:
                failed = [*chat_history(answers), _user(message), _bot(_inline_code(problem or ""))]
                return failed, stored, gr.skip(), gr.skip(), unlocked
            request = AskRequest(
                question=message,
                mode=mode or "hybrid",
                k=int(k),
                documents=documents or None,
                publishers=publishers or None,
                # The sliders' ends mean "no limit".
                since=int(year_from) if year_from and year_from > first_year else None,
                until=int(year_to) if year_to and year_to < last_year else None,
            )
            try:
                answer = ask_assistant(assistant, request)
            except IgaError as exc:
                failed = [
                    *chat_history(answers),
                    _user(message),
                    _bot(
                        f"Could not answer: {_md(str(exc))}. Change the question or the "
                        "filters and ask again."
                    ),
                ]
                return failed, stored, gr.skip(), gr.skip(), unlocked
            answers = [*answers, answer][-MAX_KEPT:]
            return (
                chat_history(answers),
                [_stored(a) for a in answers],
                sources_html(answer, _formats(assistant)),
                gr.Accordion(label=_panel_label(answer), open=True),
                unlocked,
            )

        def restore(stored: list[dict[str, Any]]) -> tuple[Any, ...]:
            """Show the conversation kept in the browser (after a reload): chat and last sources."""
            answers = _answers(stored)
            if not answers:
                return [], NO_SOURCES, gr.Accordion(label="Sources")
            return (
                chat_history(answers),
                sources_html(answers[-1], _formats(assistant)),
                gr.Accordion(label=_panel_label(answers[-1]), open=True),
            )

        def export(stored: list[dict[str, Any]]) -> tuple[Any, Any]:
            """Return the download buttons, holding the conversation as Markdown and .docx."""
            answers = _answers(stored)
            if not answers:
                return gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)
            markdown, word = exports.write(answers)
            return (
                gr.DownloadButton(value=str(markdown), visible=True),
                gr.DownloadButton(value=str(word), visible=True),
            )

        def show_sources(stored: list[dict[str, Any]], event: gr.SelectData) -> tuple[Any, Any]:
            """Show the sources of the answer the user selected in the chat."""
            answers = _answers(stored)
            index = event.index if isinstance(event.index, int) else event.index[0]
            position = index // 2  # messages alternate: question, answer
            if index % 2 == 0 or position >= len(answers):
                return gr.skip(), gr.skip()
            answer = answers[position]
            return (
                sources_html(answer, _formats(assistant)),
                gr.Accordion(label=_panel_label(answer), open=True),
            )

        quiet: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
        for trigger in (question.submit, ask.click):
            trigger(start, [question, conversation], [question, chat, asked, ask], **quiet).success(
                respond,
                [asked, conversation, *filters],
                [chat, conversation, sources, panel, ask],
                **quiet,
            ).success(export, [conversation], [markdown_file, word_file], **quiet)

        def forget() -> tuple[Any, ...]:
            """Start a new conversation: nothing in the chat, the browser or the sources panel."""
            return [], [], NO_SOURCES, gr.Accordion(label="Sources")

        for trigger in (new.click, chat.clear):
            trigger(forget, None, [chat, conversation, sources, panel], **quiet).then(
                export, [conversation], [markdown_file, word_file], **quiet
            )
        chat.select(show_sources, [conversation], [sources, panel], **quiet)
        blocks.load(restore, [conversation], [chat, sources, panel], **quiet).then(
            export, [conversation], [markdown_file, word_file], **quiet
        )

        def answer_json(
            question: str,
            mode: str = "hybrid",
            k: int = 5,
            documents: list[str] | None = None,
            publishers: list[str] | None = None,
            since: int | None = None,
            until: int | None = None,
        ) -> dict[str, Any]:
            """Return the Answer to a question as JSON, for scripts (see `iga ask --json`)."""
            if assistant is None:
                raise gr.Error(problem or "")
            request = AskRequest(
                question=question,
                mode=mode,
                k=k,
                documents=documents,
                publishers=publishers,
                since=since,
                until=until,
            )
            try:
                return ask_assistant(assistant, request).model_dump(mode="json")
            except RequestError as exc:
                raise gr.Error(str(exc), title="Bad request") from None

        gr.api(answer_json, api_name="answer")
    blocks.queue(default_concurrency_limit=CONCURRENCY, max_size=MAX_QUEUE)
    return blocks


def _answers(stored: list[dict[str, Any]] | None) -> list[Answer]:
    """Return the Answers of a conversation kept in the browser (skipping any unreadable one)."""
    answers = []
    for item in stored or []:
        try:
            answers.append(Answer.model_validate(item))
        except ValidationError:
            continue  # kept by an older version of the app: drop it rather than fail
    return answers


def _stored(answer: Answer) -> dict[str, Any]:
    """Return an Answer as kept in the browser: without the retrieval hits (large, not shown)."""
    return answer.model_dump(mode="json", exclude={"hits"})


def _user(message: str) -> dict[str, str]:
    # The user's text is shown as text: escaped for HTML and Markdown alike.
    return {"role": "user", "content": _md(message)}


def _bot(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def _asking(message: str) -> list[dict[str, str]]:
    return [_user(message), _bot(SEARCHING)]


def chat_history(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """Return the chat messages of a conversation: each question, then its answer."""
    return [m for a in answers for m in (_user(a.question), _bot(chat_markdown(a)))]


def _formats(assistant: Assistant | None) -> dict[str, DocumentFormat]:
    documents = assistant.index.meta.documents if assistant else {}
    return {doc_id: d.entry.format for doc_id, d in documents.items()}


class ExportFolder:
    """A private temporary folder for conversation exports; each export gets its own subfolder.

    Gradio copies a file it offers for download into its own cache, so an export here is only
    needed for a moment: those older than PRUNE_SECONDS are removed when the next is written.
    """

    PRUNE_SECONDS = 600

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="iga-exports-")
        self.root = Path(self._folder.name)

    def write(self, answers: Sequence[Answer]) -> tuple[Path, Path]:
        """Write the conversation as Markdown and .docx; return both paths."""
        now = time.time()
        for old in self.root.iterdir():
            if now - old.stat().st_mtime > self.PRUNE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=self.root))
        exported = dt.datetime.now(dt.UTC)
        markdown = folder / export_filename(exported, ".md")
        markdown.write_text(conversation_markdown(answers, exported=exported), encoding="utf-8")
        word = folder / export_filename(exported, ".docx")
        word.write_bytes(conversation_docx(answers, exported=exported))
        return markdown, word


def _filter_inputs(assistant: Assistant | None) -> list[gr.components.Component]:
    """Return the filter and search-setting inputs, in the order `respond` takes them."""
    documents = assistant.index.meta.documents if assistant else {}
    first, last = _year_range(assistant)
    return [
        gr.Dropdown(
            choices=[
                (f"{d.entry.title} ({d.entry.published.year})", doc_id)
                for doc_id, d in sorted(documents.items(), key=lambda kv: kv[1].entry.title)
            ],
            multiselect=True,
            label="Documents",
            info="Leave empty to search them all.",
        ),
        gr.Dropdown(
            choices=sorted({d.entry.publisher for d in documents.values()}),
            multiselect=True,
            label="Publishers",
        ),
        gr.Slider(first, last, value=first, step=1, label="Published from"),
        gr.Slider(first, last, value=last, step=1, label="Published until"),
        gr.Radio(
            [("Hybrid (meaning + keywords)", "hybrid"), ("Meaning", "dense"), ("Keywords", "bm25")],
            value="hybrid",
            label="Search",
        ),
        gr.Slider(1, 20, value=5, step=1, label="Passages to retrieve"),
    ]


def _year_range(assistant: Assistant | None) -> tuple[int, int]:
    """Return the first and last publication years (a slider needs two different ends)."""
    documents = assistant.index.meta.documents.values() if assistant else []
    years = sorted({d.entry.published.year for d in documents}) or [dt.date.today().year]
    return min(years[0], years[-1] - 1), years[-1]


def _panel_label(answer: Answer) -> str:
    count = len(answer.citations)
    if answer.outcome is Outcome.not_covered:
        return f"Sources: {count} nearest passages (not an answer)"
    return f"Sources: {count} cited passage{'s' if count != 1 else ''}"


def chat_markdown(answer: Answer) -> str:
    """Return the chat message for an answer: its sentences with [n], the sources, a copy button."""
    notices = "".join(f"*{_md(notice)}*\n\n" for notice in answer.notices)
    if answer.outcome is Outcome.answered:
        body = " ".join(
            f"{_md(s.text)} **{''.join(f'[{n}]' for n in s.citations)}**" for s in answer.sentences
        )
        heading = "**Sources**"
    elif answer.outcome is Outcome.no_documents:
        body = f"**No matching documents.** {_md(answer.text)}"
        heading = ""
    else:
        body = f"**Not covered.** {_md(answer.text)}"
        heading = "**Nearest passages (not an answer)**"
    lines = [notices + body, "", heading, ""]
    for citation in answer.citations:
        links = " · ".join(
            f"[{label}]({url})"
            for label, url in (("official", citation.url), ("local copy", citation.local_url))
            if url
        )
        warning = (
            f" ⚠️ *superseded by {_md(citation.superseded_by)}*" if citation.superseded_by else ""
        )
        lines.append(
            f"{citation.number}. *{_md(citation.title)}* — {_md(citation.publisher)}, "
            f"{long_date(citation.published)}, {citation.page_text}"
            f"{' · ' + links if links else ''}{warning}"
        )
    copy = _attribute(answer_text(answer))
    lines += [
        "",
        f'<button type="button" class="iga-copy iga-copy-answer" value="{copy}">'
        "Copy answer</button>",
    ]
    return "\n".join(lines)


def sources_html(answer: Answer, formats: dict[str, DocumentFormat] | None = None) -> str:
    """Return the sources panel: each cited passage, escaped, with the quoted sentences marked."""
    formats = formats or {}
    notice = (
        '<div class="iga-notice">The indexed guidance does not appear to cover this question. '
        "These are the nearest passages; they do not answer it.</div>"
        if answer.outcome is Outcome.not_covered
        else ""
    )
    notices = "".join(f'<div class="iga-notice">{html.escape(n)}</div>' for n in answer.notices)
    return one_line(
        notices
        + notice
        + "".join(
            citation_html(
                c,
                nearest=answer.outcome is Outcome.not_covered,
                document_format=formats.get(c.doc_id, DocumentFormat.pdf),
            )
            for c in answer.citations
        )
    )


def citation_html(
    citation: Citation,
    *,
    nearest: bool = False,
    document_format: DocumentFormat = DocumentFormat.pdf,
) -> str:
    """Return one source card; all document text is escaped before <mark> tags are added."""
    e = html.escape
    classes = ["iga-source"]
    if nearest:
        classes.append("iga-nearest")
    if citation.superseded_by:
        classes.append("iga-superseded")
    meta = [e(citation.publisher), long_date(citation.published), e(citation.page_text)]
    if citation.section:
        meta.append(f"Section: {e(citation.section)}")
    warning = (
        f'<div class="iga-warning">Superseded by {e(citation.superseded_by)}</div>'
        if citation.superseded_by
        else ""
    )
    links = [
        f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer">{label}, {e(citation.page_text)}</a>'
        for label, url in (
            ("Official document", citation.url),
            ("Local copy", citation.local_url),
        )
        if url
    ] or ["No official link"]
    at_quote = viewer_url(citation, document_format)
    actions = (
        f'<a class="iga-open" href="{e(at_quote)}" target="_blank" rel="noopener">'
        f"Open at the {'quote' if citation.highlights else 'page'}</a>"
        if at_quote
        else ""
    ) + (
        f'<button type="button" class="iga-copy" data-copy="{_attribute(citation_text(citation))}">'
        "Copy citation</button>"
    )
    return (
        f'<section class="{" ".join(classes)}" aria-label="Source [{citation.number}]">'
        f'<div class="iga-source-head"><span class="iga-num">[{citation.number}]</span>'
        f"{e(citation.title)}</div>"
        f'<div class="iga-meta">{" · ".join(meta)}</div>{warning}'
        f'<div class="iga-passage" tabindex="0" role="region" '
        f'aria-label="Passage of source [{citation.number}]">{highlighted(citation)}</div>'
        f'<div class="iga-actions">{actions}</div>'
        f'<div class="iga-links">{" · ".join(links)} '
        f'<span class="iga-hash" title="sha256 of the document file">sha256 {citation.sha256[:12]}</span>'
        "</div></section>"
    )


def highlighted(citation: Citation) -> str:
    """Return the passage text, escaped, with each quoted span wrapped in <mark>."""
    text = citation.text
    pieces = []
    position = 0
    for span in sorted(citation.highlights, key=lambda h: h.start):
        pieces.append(html.escape(text[position : span.start]))
        pieces.append(f"<mark>{html.escape(text[span.start : span.end])}</mark>")
        position = span.end
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def corpus_html(assistant: Assistant | None) -> str:
    """Return the table of indexed documents: date, pages, status, links, and any failures."""
    if assistant is None:
        return '<div class="iga-empty">No documents are indexed yet.</div>'
    e = html.escape
    meta = assistant.index.meta
    rows = []
    for doc_id, document in sorted(meta.documents.items(), key=lambda kv: kv[1].entry.title):
        entry = document.entry
        if entry.superseded_by:
            status = f'<span class="iga-status-superseded">Superseded by {e(assistant.replacement(document) or "")}</span>'
        else:
            status = '<span class="iga-status-current">Current</span>'
        pages = str(document.pages)
        if document.empty_pages:
            pages += f" ({len(document.empty_pages)} without text, not searchable)"
        links = [
            f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'
            for label, url in (
                ("official", entry.url),
                ("local copy", f"/doc/{doc_id}" if doc_id in assistant.local_files else None),
            )
            if url
        ]
        rows.append(
            f"<tr><td>{e(entry.title)}<br><span class='iga-hash'>{e(doc_id)} · sha256 "
            f"{document.sha256[:12]}</span></td><td>{e(entry.publisher)}</td>"
            f"<td>{long_date(entry.published)}</td><td>{pages}</td><td>{document.passages}</td>"
            f"<td>{status}</td><td>{' · '.join(links) or '-'}</td></tr>"
        )
    failures = "".join(
        f"<li><b>{e(doc_id)}</b>: {e(message)}</li>"
        for doc_id, message in sorted(meta.failures.items())
    )
    failed = (
        f'<h3 class="iga-failed">Not indexed ({len(meta.failures)})</h3><ul>{failures}</ul>'
        if failures
        else ""
    )
    return (
        f"<p>Index version <code>{e(meta.version)}</code>, built {meta.created_at:%d %B %Y %H:%M} "
        f"UTC: {len(meta.documents)} documents, {meta.passages} passages.</p>"
        '<table class="iga-table"><thead><tr><th>Document</th><th>Publisher</th>'
        "<th>Published</th><th>Pages</th><th>Passages</th><th>Status</th><th>Links</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>{failed}"
    )


def _glossary_html(assistant: Assistant | None) -> str:
    if assistant is None:
        return ""
    rows = "".join(
        f"<tr><td><b>{html.escape(t.abbreviation)}</b></td>"
        f"<td>{html.escape('; '.join(t.meanings))}</td></tr>"
        for t in sorted(assistant.glossary.terms, key=lambda t: t.abbreviation.lower())
    )
    return (
        '<table class="iga-table"><thead><tr><th>Abbreviation</th><th>Meaning</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _header_html(assistant: Assistant | None) -> str:
    if assistant is None:
        status = "no index loaded"
    else:
        meta = assistant.index.meta
        threshold, source = assistant.threshold
        status = (
            f"{len(meta.documents)} documents · {meta.passages} passages · index "
            f"{html.escape(meta.version)} · not-covered threshold {threshold:.2f} ({source})"
        )
    return (
        f'<div class="iga-header"><h1>{TITLE}</h1>'
        f'<span class="iga-status">Cited answers from national NHS imaging guidance · {status}'
        "</span></div>"
    )


def html_block(value: str = "", **kwargs: Any) -> gr.Markdown:
    """Return a component showing app-made HTML (all document text in it already escaped).

    Gradio 6's gr.HTML compiles a template with `new Function`, which the Content-Security-Policy
    forbids ('unsafe-eval'); Markdown passes the HTML through instead, as one block: `one_line`.
    """
    return gr.Markdown(one_line(value), sanitize_html=False, latex_delimiters=[], **kwargs)


def one_line(markup: str) -> str:
    """Return HTML with its line breaks as character references: no blank line ends the block."""
    return markup.replace("\r", "").replace("\n", "&#10;")


def _attribute(text: str) -> str:
    """Return text for a double-quoted HTML attribute, on one line."""
    return one_line(html.escape(text))


def _md(text: str) -> str:
    """Return text safe to put in chat Markdown: HTML-escaped, Markdown punctuation escaped."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    return "".join(f"\\{c}" if c in "\\`*_[]{}#|~$" else c for c in escaped)


def _inline_code(message: str) -> str:
    """Return a message, escaped, with its `commands` shown as code."""
    parts = html.escape(message).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def create_server(
    blocks: gr.Blocks,
    assistant: Assistant | None,
    *,
    auth: Sequence[tuple[str, str]] | None = None,
    problem: str | None = None,
) -> FastAPI:
    """Return the FastAPI app: Gradio at /, documents, the viewer, the API, security headers."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.add_middleware(SecurityHeaders)
    files = dict(assistant.local_files) if assistant else {}

    def check_access(request: Request) -> None:
        if auth and not _signed_in(server, request):
            raise HTTPException(status_code=401, detail="Sign in to the app first.")

    @server.get("/doc/{doc_id}")
    def document(doc_id: str, request: Request) -> FileResponse:
        """The cached copy of an indexed document (open a PDF at a page with #page=N)."""
        check_access(request)
        path = files.get(doc_id)  # ids only: nothing outside the index's cached files
        if path is None or not path.is_file():
            raise HTTPException(status_code=404, detail="No cached copy of that document.")
        headers = {}
        if path.suffix == ".html":
            # A cached web page may carry scripts: show it without letting them run here.
            headers["Content-Security-Policy"] = "sandbox"
        return FileResponse(
            path,
            media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
            headers=headers,
            content_disposition_type="inline",
            filename=path.name,
        )

    @server.get("/health", include_in_schema=False)
    def health() -> dict[str, bool]:
        """Whether the server is up (the page asks while a question is being answered)."""
        return {"ok": True}

    documents = assistant.index.meta.documents if assistant else {}
    server.include_router(
        viewer_router(
            files,
            {i: (d.entry.title, d.pages, d.entry.url) for i, d in documents.items()},
            check_access=check_access,
        )
    )
    server.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="iga-static")
    server.mount("/api", api_app(assistant, problem=problem, check_access=check_access))
    gr.mount_gradio_app(
        server,
        blocks,
        path="/",
        auth=list(auth) if auth else None,
        auth_message=f"{TITLE}: sign in to continue." if auth else None,
        footer_links=[],
        ssr_mode=False,
        show_error=True,
        css=CSS,
        theme=THEME,
        head=f'<script type="module" src="{STATIC_URL}/app.js"></script>',
    )
    return server


def _signed_in(server: FastAPI, request: Request) -> bool:
    """Return whether the request carries the Gradio app's sign-in cookie."""
    gradio_app = next(
        r.app for r in server.routes if isinstance(r, Mount) and hasattr(r.app, "cookie_id")
    )
    cookie_id = gradio_app.cookie_id  # type: ignore[attr-defined]
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return token is not None and token in gradio_app.tokens  # type: ignore[attr-defined]


class ServeError(IgaError):
    """The app cannot start as asked (e.g. open to the network without a password)."""


def parse_auth(auth: str | None, auth_file: Path | None) -> list[tuple[str, str]]:
    """Return the user:password pairs given on the command line and in an auth file."""
    lines: list[tuple[str, str]] = []
    if auth:
        lines.append(("--auth", auth))
    if auth_file:
        try:
            text = auth_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ServeError(f"cannot read the auth file {auth_file}: {exc.strerror}") from None
        lines += [
            (f"{auth_file}:{n}", line.strip())
            for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    pairs = []
    for where, line in lines:
        user, _, password = line.partition(":")
        if not user.strip() or not password:
            raise ServeError(f"{where}: expected user:password")
        pairs.append((user.strip(), password))
    return pairs


def check_exposure(host: str, pairs: list[tuple[str, str]], *, no_auth: bool) -> None:
    """Refuse to serve beyond this machine without a password unless told so explicitly."""
    if is_loopback_host(host) or pairs or no_auth:
        return
    raise ServeError(
        f"--host {host} makes the app reachable from other machines: give --auth user:password "
        "(or --auth-file FILE), or --no-auth to serve without a password on purpose"
    )


@dataclass
class RunningServer:
    """The app serving from background threads; `close()` stops it."""

    url: str
    server: Any
    threads: list[threading.Thread]
    stop: threading.Event

    def close(self) -> None:
        """Stop serving and preparing, and wait (briefly) for both to finish."""
        self.stop.set()
        # Event streams still open are cancelled after a second: expected, not worth a traceback.
        log = logging.getLogger("uvicorn.error")
        level = log.level
        log.setLevel(logging.CRITICAL)
        self.server.should_exit = True
        try:
            for thread in self.threads:
                thread.join(timeout=10)
        finally:
            log.setLevel(level)


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: Sequence[tuple[str, str]] | None = None,
    glossary: Path | None = None,
    assistant: Assistant | None = None,
    block: bool = True,
    on_ready: Callable[[], None] | None = None,
) -> RunningServer | None:
    """Load the index once and serve the app until interrupted (block=False: return at once)."""
    import uvicorn

    from index.store import IndexStoreError, current_version_dir

    # Load the index (or explain how to build one) before accepting connections.
    problem = None
    if assistant is None:
        try:
            if current_version_dir(settings.index_root) is None:
                problem = NO_INDEX.format(data_dir=settings.data_dir)
            else:
                assistant = Assistant.load(settings, glossary=glossary)
        except IndexStoreError as exc:
            problem = f"The index cannot be loaded: {exc}"
    app = create_server(
        build_app(assistant, settings, problem=problem), assistant, auth=auth, problem=problem
    )

    # Serve, and embed every quotable sentence meanwhile: answers then skip that work.
    # Browsers hold event streams open: give them a second to close on shutdown, not forever.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    threads = [threading.Thread(target=server.run, daemon=True)]
    if assistant is not None:
        threads.append(
            threading.Thread(target=assistant.prepare_sentences, kwargs={"stop": stop}, daemon=True)
        )
    running = RunningServer(f"http://{host}:{port}/", server, threads, stop)
    for thread in threads:
        thread.start()

    # Wait until it accepts connections.
    deadline = time.monotonic() + 30
    while not server.started:
        if not threads[0].is_alive() or time.monotonic() > deadline:
            running.close()
            raise ServeError(f"the app did not start on {host}:{port} (is the port in use?)")
        time.sleep(0.05)
    if on_ready is not None:
        on_ready()
    if not block:
        return running
    try:
        while threads[0].is_alive():
            threads[0].join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
    return None
