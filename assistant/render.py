"""Renders an answer for the terminal: the answer, then numbered sources to quote."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from assistant.types import Answer, Citation, Outcome

SNIPPET_CHARS = 240


def render_answer(answer: Answer) -> RenderableType:
    """Return a rich renderable of the answer, its sources and how it was produced."""
    parts: list[RenderableType] = []
    if answer.outcome is Outcome.answered:
        body = Text()
        for i, sentence in enumerate(answer.sentences):
            if i:
                body.append(" ")
            body.append(sentence.text + " ")
            body.append("".join(f"[{n}]" for n in sentence.citations), style="bold cyan")
        parts.append(Panel(body, title="Answer", title_align="left", border_style="green"))
        parts.append(Text("Sources", style="bold"))
    elif answer.outcome is Outcome.no_documents:
        parts.append(
            Panel(
                Text(answer.text),
                title="No matching documents",
                title_align="left",
                border_style="yellow",
            )
        )
    else:
        parts.append(
            Panel(
                Text(answer.text),
                title="Not covered",
                title_align="left",
                border_style="yellow",
            )
        )
        parts.append(Text("Nearest passages (not an answer)", style="bold yellow"))
    parts.extend(
        _source(citation, quote=answer.outcome is Outcome.not_covered)
        for citation in answer.citations
    )
    parts.append(_footer(answer))
    return Group(*parts)


def _source(citation: Citation, *, quote: bool) -> Text:
    """Return one numbered source: reference, section, warnings and links (and a snippet)."""
    text = Text()
    text.append(f" [{citation.number}] ", style="bold cyan")
    text.append(citation.reference)
    if citation.section:
        text.append(f"\n     Section: {citation.section}", style="dim")
    if citation.superseded_by:
        text.append(f"\n     Superseded by {citation.superseded_by}", style="bold yellow")
    if quote:
        snippet = " ".join(citation.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " ..."
        text.append(f"\n     “{snippet}”", style="italic")
    if citation.url:
        text.append("\n     ")
        text.append(citation.url, style=f"link {citation.url} blue")
    else:
        text.append("\n     (no official link in the manifest)", style="dim")
    return text


def _footer(answer: Answer) -> Text:
    evidence = answer.evidence
    best = f"{evidence.confidence:.2f}" if evidence.confidence is not None else "none"
    parts = [
        f"index {answer.index_version}",
        f"{answer.mode.value} search",
        f"confidence {best} (threshold {evidence.threshold:.2f}, {evidence.threshold_source})",
        f"{answer.seconds * 1000:.0f} ms",
    ]
    if answer.expanded_terms:
        parts.insert(0, "also searched for: " + ", ".join(answer.expanded_terms))
    return Text(" · ".join(parts), style="dim")
