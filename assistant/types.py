"""The records the assistant hands to its readers (terminal, browser, scripts): answers and citations.

An answer is a list of sentences, each citing numbered sources. Today the sentences are copied
verbatim from the cited passages (`method="extractive"`); a later generative step can fill the
same fields with its own sentences, citing the same numbered passages, without changing a reader.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from index.types import Hit, Mode, SearchFilters

NOT_COVERED = (
    "The indexed guidance does not appear to cover this question. The nearest passages are "
    "listed below; they do not answer it."
)


NO_DOCUMENTS = (
    "No indexed document matches these filters, so nothing was searched. Widen the filters "
    "(documents, publishers, years); `iga status` lists what is indexed."
)


class Outcome(StrEnum):
    answered = "answered"
    not_covered = "not_covered"
    no_documents = "no_documents"  # the filters exclude every indexed document


class Highlight(BaseModel):
    """A stretch of a cited passage's text that the answer quotes: [start, end)."""

    start: int
    end: int


class Citation(BaseModel):
    """A numbered source: one passage, with everything needed to quote and open it."""

    number: int = Field(description="The [n] the answer's sentences refer to.")
    passage_id: str
    doc_id: str
    title: str
    publisher: str
    published: dt.date
    pages: list[int] = Field(description="Physical pages (as a PDF viewer counts) of the quote.")
    page_labels: list[str | None] = Field(
        description="The printed label of each page in `pages`, or None where it is the same."
    )
    section: str | None
    text: str = Field(description="The whole passage text, as indexed.")
    highlights: list[Highlight] = Field(
        default_factory=list, description="Where the answer's sentences lie in `text`."
    )
    url: str | None = Field(description="The official document, opened at the page (or None).")
    local_url: str | None = Field(
        description="The cached copy served by `iga serve`, at the page (a path on that server)."
    )
    sha256: str = Field(description="sha256 of the document file the passage was indexed from.")
    superseded_by: str | None = Field(
        default=None, description="What replaces this document: a title, or the manifest's text."
    )

    @property
    def reference(self) -> str:
        """The citation as people write it: 'Title. Publisher, 1 April 2021, p. 3.'"""
        return f"{self.title}. {self.publisher}, {long_date(self.published)}, {self.page_text}."

    @computed_field
    @property
    def page_text(self) -> str:
        """Pages as people quote them: 'p. 14' or 'pp. 14-15', with printed labels where they differ."""
        pages, labels = self.pages, self.page_labels
        consecutive = len(pages) > 1 and pages == list(range(pages[0], pages[-1] + 1))
        if consecutive:
            printed = f" (printed {labels[0]}-{labels[-1]})" if labels[0] and labels[-1] else ""
            return f"pp. {pages[0]}-{pages[-1]}{printed}"
        shown = [
            str(number) if label is None else f"{number} (printed {label})"
            for number, label in zip(pages, labels, strict=True)
        ]
        prefix = "p." if len(shown) == 1 else "pp."
        return f"{prefix} {', '.join(shown)}"


class AnswerSentence(BaseModel):
    """One sentence of the answer and the citations (numbers) that support it."""

    text: str
    citations: list[int]


class Evidence(BaseModel):
    """How strong the retrieved evidence was, and the bar it had to clear to be an answer."""

    best_dense: float | None = Field(description="Best dense cosine among the retrieved passages.")
    signals: dict[str, float] = Field(
        default_factory=dict,
        description="The evidence signals: 'dense' (best passage cosine), 'sentence' (best "
        "answer sentence's cosine), 'coverage' (share of the question's rarer words found in the "
        "evidence, weighted by rarity), 'agreement' (overlap of the dense and keyword top 5), 'known' (share of the question's "
        "specialist words, rare in everyday English, that some indexed passage uses), 'named' "
        "(share of what the question names, capitalised words and words with digits, that the "
        "evidence mentions), 'years' "
        "(share of the years the question names that the evidence mentions: below 1, not "
        "covered), 'figure' (1 when the answer to a date or number question gives a date or a "
        "number, or the question is of another kind: 0, not covered), 'listed' (list questions: 1 "
        "when the question asks for nothing but what heads the answer's list or section, 'What "
        "are the recommendations?' answered by 'Recommendation 1: ...': covered).",
    )
    confidence: float | None = Field(
        default=None, description="Dense cosine plus the weighted signals; compared to threshold."
    )
    weights: dict[str, float] = Field(default_factory=dict)
    threshold: float
    threshold_source: Literal["calibrated", "default"]


class Answer(BaseModel):
    """What the assistant says to a question, with its sources and how to reproduce it."""

    question: str
    outcome: Outcome
    method: Literal["extractive"] = "extractive"
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(
        default_factory=list,
        description="Answered: the cited passages. Not covered: the nearest passages, which do "
        "not answer the question.",
    )
    hits: list[Hit] = Field(
        default_factory=list, description="Every passage retrieved, best first."
    )
    expanded_terms: list[str] = Field(
        default_factory=list, description="Glossary terms added to the keyword search."
    )
    mode: Mode
    kind: str = Field(
        default="fact",
        description="What the question asks for: list, date, number, definition, fact.",
    )
    composition: str | None = Field(
        default=None,
        description="How the answer was composed: 'sentence' excerpts, a 'list', or the opening of "
        "the 'section' a bare list question names.",
    )
    filters: SearchFilters | None = None
    reason: str | None = Field(
        default=None,
        description="Not covered: why, as the answer's text says it (a year the passages never "
        "mention, a word no indexed passage uses, or no close match).",
    )
    evidence: Evidence
    index_version: str
    model: str
    seconds: float = 0.0
    notices: list[str] = Field(
        default_factory=list,
        description="What the reader should know about how the question was taken (e.g. shortened).",
    )

    @computed_field
    @property
    def text(self) -> str:
        """The answer as one paragraph, each sentence followed by its citations: '... [1]'."""
        if self.outcome is Outcome.not_covered:
            if self.reason:
                head, tail = NOT_COVERED.split(". ", 1)
                return f"{head}: {self.reason} {tail}"
            return NOT_COVERED
        if self.outcome is Outcome.no_documents:
            return NO_DOCUMENTS
        return " ".join(
            f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in self.sentences
        )

    @computed_field
    @property
    def cited_documents(self) -> dict[str, str]:
        """The sha256 of every cited document file, by document id."""
        return {c.doc_id: c.sha256 for c in self.citations}


def long_date(day: dt.date) -> str:
    """Return a date as British guidance prints it: '1 April 2021'."""
    return f"{day.day} {day:%B %Y}"
