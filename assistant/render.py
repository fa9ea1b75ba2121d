"""Renders an answer for the terminal: the answer, then numbered sources to quote.

Sources are laid out as a grid, number then text, so a long line folds under its own text,
not back to column 0, and nothing is clipped at 80 columns.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from assistant.types import Answer, Citation, Outcome

SNIPPET_CHARS = 240


def render_answer(answer: Answer, *, local_files: dict[str, Path] | None = None) -> RenderableType:
    """Return a rich renderable of the answer, its sources (with local files) and how it was made."""
    parts: list[RenderableType] = [Text(n, style="bold yellow") for n in answer.notices]
    if answer.outcome is Outcome.answered:
        body = Text()
        for i, sentence in enumerate(answer.sentences):
            if i:
                body.append(" ")
            body.append(sentence.text + " ")
            body.append("".join(f"[{n}]" for n in sentence.citations), style="bold cyan")
        parts.append(Panel(body, title="Answer", title_align="left", border_style="green"))
        parts.append(Text("Sources", style="bold"))
    else:
        title = "No matching documents" if answer.outcome is Outcome.no_documents else "Not covered"
        parts.append(
            Panel(Text(answer.text), title=title, title_align="left", border_style="yellow")
        )
        parts.append(Text("Nearest passages (not an answer)", style="bold yellow"))
    sources = Table.grid(padding=(0, 1))
    sources.add_column(justify="right", no_wrap=True, style="bold cyan")
    sources.add_column(overflow="fold")
    for citation in answer.citations:
        sources.add_row(
            f"[{citation.number}]",
            _source(
                citation,
                quote=answer.outcome is Outcome.not_covered,
                local_file=(local_files or {}).get(citation.doc_id),
            ),
        )
    parts += [sources, _footer(answer)]
    return Group(*parts)


def _source(citation: Citation, *, quote: bool, local_file: Path | None) -> Text:
    """Return one source: reference, section, warnings, links and local file (and a snippet)."""
    text = Text(citation.reference)
    if citation.section:
        text.append(f"\nSection: {citation.section}", style="dim")
    if citation.superseded_by:
        text.append(f"\nSuperseded by {citation.superseded_by}", style="bold yellow")
    if quote:
        snippet = " ".join(citation.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " ..."
        text.append(f"\n“{snippet}”", style="italic")
    if citation.url:
        text.append("\n")
        text.append(citation.url, style=f"link {citation.url} blue")
    else:
        text.append("\n(no official link in the manifest)", style="dim")
    if local_file is not None:
        page = f", page {citation.pages[0]}" if local_file.suffix == ".pdf" else ""
        text.append(f"\nLocal file: {_shown(local_file)}{page}", style="dim")
    return text


def _shown(path: Path) -> str:
    """Return a path relative to the working folder when it lies under it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _footer(answer: Answer) -> Text:
    evidence = answer.evidence
    best = f"{evidence.confidence:.2f}" if evidence.confidence is not None else "none"
    parts = [
        f"index {answer.index_version}",
        f"{answer.mode.value} search",
        f"confidence {best} (threshold {evidence.threshold:.2f}, {evidence.threshold_source})"
        + (
            f", answered by the {'section' if answer.composition == 'section' else 'list'} "
            "it asks for"
            if evidence.signals.get("listed")
            else ""
        ),
        f"{answer.seconds * 1000:.0f} ms",
    ]
    if answer.expanded_terms:
        parts.insert(0, "also searched for: " + ", ".join(answer.expanded_terms))
    return Text(" · ".join(parts), style="dim")
