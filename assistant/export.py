"""Turns answers into what users paste and file: plain-text citations, Markdown and Word documents.

Plain text is for the clipboard (a business case, an email): no Markdown, no escapes. The
conversation exports carry what makes a quote traceable: the full reference of every source,
the index version each answer came from, and the sha256 of every cited document file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from assistant.types import Answer, Citation, Outcome, long_date

TITLE = "Imaging Guidance Assistant"
NEAREST_HEADING = "Nearest passages (not an answer)"


def citation_text(citation: Citation) -> str:
    """Return a source as a reference to paste: title, publisher, date, pages, section, URL."""
    reference = _reference(citation)
    return f"{reference} Available at: {citation.url}" if citation.url else reference


def _reference(citation: Citation) -> str:
    """Return the reference without its URL: 'Title. Publisher, date, p. 3. Section: ...'."""
    parts = [_plain(citation.reference)]
    if citation.section:
        parts.append(f"Section: {_plain(citation.section)}.")
    if citation.superseded_by:
        parts.append(f"Superseded by {_plain(citation.superseded_by)}.")
    return " ".join(parts)


def answer_text(answer: Answer) -> str:
    """Return an answer to paste: its quoted sentences with [n], then the numbered references."""
    lines = [*answer.notices, ""] if answer.notices else []
    lines.append(_plain(answer.text))
    if answer.citations:
        lines += ["", _heading(answer)]
    lines += [f"[{c.number}] {citation_text(c)}" for c in answer.citations]
    return "\n".join(lines)


def _heading(answer: Answer) -> str:
    """Return the heading of an answer's sources: references, or passages that do not answer."""
    return "References" if answer.outcome is Outcome.answered else NEAREST_HEADING


def export_filename(exported: dt.datetime, suffix: str) -> str:
    """Return the file name of an export made at that time: 'iga-conversation-2026-12-01.md'."""
    return f"iga-conversation-{exported:%Y-%m-%d}{suffix}"


def conversation_markdown(answers: Sequence[Answer], *, exported: dt.datetime) -> str:
    """Return the conversation as Markdown: each question, its quotes and full references."""
    lines = [
        f"# {TITLE}: conversation",
        "",
        *(_md(line) for line in _provenance(answers, exported)),
    ]
    for position, answer in enumerate(answers, start=1):
        lines += ["", f"## {position}. {_md(answer.question)}", ""]
        lines += [f"*{_md(notice)}*" for notice in answer.notices]
        if answer.outcome is Outcome.answered:
            lines += [
                f"> {_md(s.text)} {''.join(f'[{n}]' for n in s.citations)}"
                for s in answer.sentences
            ]
        else:
            lines.append(f"*{_md(answer.text)}*")
        lines += ["", f"**{_heading(answer)}** (index {answer.index_version})", ""]
        lines += [
            f"{c.number}. {_md_reference(c)}  \n   sha256 `{c.sha256}`" for c in answer.citations
        ]
    lines += ["", "## Documents cited", "", "| document | id | sha256 |", "|---|---|---|"]
    lines += [
        f"| {_md(title)} | `{doc_id}` | `{sha256}` |"
        for doc_id, (title, sha256) in _documents(answers).items()
    ]
    return "\n".join(lines) + "\n"


def conversation_docx(answers: Sequence[Answer], *, exported: dt.datetime) -> bytes:
    """Return the conversation as a Word document (.docx bytes), laid out like the Markdown."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = f"{TITLE}: conversation"
    document.core_properties.created = exported
    document.add_heading(f"{TITLE}: conversation", level=0)
    for line in _provenance(answers, exported):
        document.add_paragraph(line)
    for position, answer in enumerate(answers, start=1):
        document.add_heading(f"{position}. {_plain(answer.question)}", level=1)
        for notice in answer.notices:
            document.add_paragraph(notice).runs[0].italic = True
        if answer.outcome is Outcome.answered:
            for sentence in answer.sentences:
                quote = document.add_paragraph(style="Quote")
                quote.add_run(_plain(sentence.text) + " ")
                quote.add_run("".join(f"[{n}]" for n in sentence.citations)).bold = True
        else:
            document.add_paragraph(_plain(answer.text)).runs[0].italic = True
        document.add_heading(f"{_heading(answer)} (index {answer.index_version})", level=2)
        for citation in answer.citations:
            reference = document.add_paragraph(f"[{citation.number}] {citation_text(citation)}")
            reference.add_run(f"\nsha256 {citation.sha256}").font.size = Pt(8)
    document.add_heading("Documents cited", level=1)
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("document", "id", "sha256"), strict=True):
        cell.text = text
    for doc_id, (title, sha256) in _documents(answers).items():
        for cell, text in zip(table.add_row().cells, (title, doc_id, sha256), strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _provenance(answers: Sequence[Answer], exported: dt.datetime) -> list[str]:
    """Return the lines saying when, from which index and with which model the answers came."""
    versions = list(dict.fromkeys(a.index_version for a in answers))
    models = list(dict.fromkeys(a.model for a in answers))
    return [
        f"Exported {long_date(exported.date())} at {exported:%H:%M} UTC: "
        f"{len(answers)} question{'s' if len(answers) != 1 else ''}.",
        f"Index version{'s' if len(versions) != 1 else ''} {', '.join(versions) or 'none'}; "
        f"embedding model {', '.join(models) or 'none'}.",
        "Every answer sentence is quoted verbatim from the cited page; check the source before "
        "relying on it.",
    ]


def _md_reference(citation: Citation) -> str:
    """Return a reference in Markdown: its text escaped, its URL an autolink (not escaped)."""
    text = _md(_reference(citation))
    if not citation.url:
        return text
    return f"{text} Available at: <{citation.url.replace(' ', '%20').replace('>', '%3E')}>"


def _documents(answers: Sequence[Answer]) -> dict[str, tuple[str, str]]:
    """Return the title and sha256 of every cited document, by id, in order of first citation."""
    return {c.doc_id: (c.title, c.sha256) for a in answers for c in a.citations}


def _plain(text: str) -> str:
    """Return text on one line, with runs of whitespace (line breaks of the PDF) made single."""
    return " ".join(text.split())


def _md(text: str) -> str:
    """Return text safe in Markdown: the characters that would start markup or HTML escaped."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>|#" else c for c in _plain(text))
