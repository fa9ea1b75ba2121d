"""Answers taken away: plain-text citations and answers, Markdown and Word exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from assistant.answer import Assistant
from assistant.export import (
    answer_text,
    citation_text,
    conversation_docx,
    conversation_markdown,
    export_filename,
)

EXPORTED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
QUESTION = "What is the maximum time for an examination to be reported?"


@pytest.fixture(scope="module")
def answers(built_settings):
    assistant = Assistant.load(built_settings, one_off=True)
    return [
        assistant.answer(QUESTION),
        assistant.answer("How much does a litre of petrol cost in Aberdeen?"),
    ]


def test_citation_is_a_plain_reference_with_the_official_url_at_the_page(answers):
    assert citation_text(answers[0].citations[0]) == (
        "Diagnostic imaging network implementation guide. NHS England, 1 April 2021, p. 3. "
        "Section: 3 Reporting turnaround. "
        "Available at: https://example.org/guidance/network-guide-2021.pdf#page=3"
    )


def test_answer_text_is_the_quotes_then_numbered_references_without_markup(answers):
    text = answer_text(answers[0])
    quotes, references = text.split("\n\nReferences\n")
    assert quotes == answers[0].text
    assert references == f"[1] {citation_text(answers[0].citations[0])}"
    assert not set("*_`\\<>") & set(text)


def test_declined_answer_text_lists_the_nearest_passages_as_such(answers):
    text = answer_text(answers[1])
    assert text.startswith(f"{answers[1].text}\n\n")  # with its reason
    assert text.startswith("The indexed guidance does not appear to cover this question: ")
    assert "\n\nNearest passages (not an answer)\n[1] " in text


def test_markdown_export_has_quotes_full_references_version_and_sha256(answers):
    markdown = conversation_markdown(answers, exported=EXPORTED)
    version = answers[0].index_version
    sha256 = answers[0].citations[0].sha256
    assert markdown.startswith(
        "# Imaging Guidance Assistant: conversation\n\nExported 1 December 2026"
    )
    assert f"Index version {version}" in markdown
    assert f"## 1. {QUESTION}" in markdown
    assert "> No examination should take longer than four weeks to be reported. [1]" in markdown
    assert "<https://example.org/guidance/network-guide-2021.pdf#page=3>" in markdown
    assert f"sha256 `{sha256}`" in markdown
    assert (
        f"| Diagnostic imaging network implementation guide | `network-guide-2021` | `{sha256}` |"
        in markdown
    )


def test_word_export_reads_back_with_the_same_content(answers):
    document = Document(io.BytesIO(conversation_docx(answers, exported=EXPORTED)))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Imaging Guidance Assistant: conversation"
    assert paragraphs[1] == "Exported 1 December 2026 at 09:30 UTC: 2 questions."
    assert f"1. {QUESTION}" in paragraphs
    assert "No examination should take longer than four weeks to be reported. [1]" in paragraphs
    reference = next(p for p in paragraphs if p.startswith("[1] Diagnostic imaging network"))
    assert citation_text(answers[0].citations[0]) in reference
    assert answers[0].citations[0].sha256 in reference
    assert document.core_properties.title == "Imaging Guidance Assistant: conversation"


def test_exports_are_named_by_date():
    assert export_filename(EXPORTED, ".docx") == "iga-conversation-2026-12-01.docx"
