"""Chunking in the model's own word pieces, with the real tokenizer of the bundled model."""

from __future__ import annotations

import itertools

import pytest

from ingest.chunk import chunk_document, embedding_text
from ingest.tokens import TokenCounter, resolve_model
from ingest.types import ExtractedDocument, Heading, Page

SENTENCE = "Sentence {i} says that imaging networks share CT and MRI capacity across trusts."


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter(resolve_model("all-MiniLM-L6-v2"))


def _page(number: int, blocks: list[tuple[str, bool]], kind: str = "content") -> Page:
    """A page from (text, is_heading) blocks, paragraphs separated by blank lines."""
    text = ""
    headings = []
    for block, is_heading in blocks:
        if text:
            text += "\n\n"
        if is_heading:
            headings.append(Heading(start=len(text), text=block))
        text += block
    return Page(number=number, text=text, headings=headings, kind=kind)


def _document(*pages: Page) -> ExtractedDocument:
    return ExtractedDocument(doc_id="guide", sha256="0" * 64, pages=list(pages))


def _long_paragraph(count: int, start: int = 0) -> str:
    return " ".join(SENTENCE.format(i=i) for i in range(start, start + count))


def test_tokenizer_counts_beyond_the_shipped_truncation(counter):
    # tokenizer.json ships with truncation at 128: counting must not stop there.
    assert counter.count("word " * 300) == 300
    assert counter.limit == 254


def test_no_passage_exceeds_the_model_limit(counter):
    run_on = "word " * 700 + "end."  # one sentence far over the limit
    document = _document(
        _page(1, [("1 Scope", True), (_long_paragraph(60), False), (run_on, False)]),
        _page(2, [("Picture archiving " * 40, True), (_long_paragraph(30), False)]),
    )
    passages = chunk_document(document, counter, target_tokens=200, overlap_tokens=40)
    assert len(passages) > 5
    for passage in passages:
        assert counter.count(embedding_text(passage)) <= counter.limit
        assert passage.n_tokens == counter.count(embedding_text(passage))


def test_neighbouring_passages_overlap_by_whole_sentences(counter):
    document = _document(_page(1, [("1 Scope", True), (_long_paragraph(40), False)]))
    passages = chunk_document(document, counter, target_tokens=120, overlap_tokens=40)
    assert len(passages) >= 3
    for before, after in itertools.pairwise(passages):
        first_sentence = after.text.split(". ")[0] + "."
        assert first_sentence in before.text
        assert before.text != after.text


def test_section_heading_starts_a_new_passage_and_is_remembered(counter):
    document = _document(
        _page(
            1,
            [
                ("2.1 Governance", True),
                ("The network board meets monthly.", False),
                ("3 Workforce", True),
                ("Reporting radiographers are trained locally.", False),
            ],
        )
    )
    passages = chunk_document(document, counter)
    assert [(p.section, p.text.split("\n\n")[0]) for p in passages] == [
        ("2.1 Governance", "2.1 Governance"),
        ("3 Workforce", "3 Workforce"),
    ]
    assert "Reporting radiographers" not in passages[0].text


def test_section_is_prepended_for_embedding_when_not_in_text(counter):
    document = _document(
        _page(1, [("4 Equipment", True), (_long_paragraph(30), False)]),
    )
    passages = chunk_document(document, counter, target_tokens=100, overlap_tokens=0)
    later = passages[-1]
    assert later.section == "4 Equipment" and not later.text.startswith("4 Equipment")
    assert embedding_text(later).startswith("4 Equipment\n")


def test_spans_point_at_the_passage_text_in_each_page(counter):
    first = _page(1, [("1 Scope", True), (_long_paragraph(5), False)])
    second = _page(2, [(_long_paragraph(3, start=5), False)])
    document = _document(first, second)
    passages = chunk_document(document, counter, target_tokens=200, overlap_tokens=0)
    assert len(passages) == 1
    passage = passages[0]
    assert (passage.first_page, passage.last_page) == (1, 2)
    pieces = [document.pages[s.page - 1].text[s.start : s.end] for s in passage.spans]
    assert "\n\n".join(pieces) == passage.text
    assert [s.page for s in passage.spans] == [1, 2]


def test_contents_and_empty_pages_are_not_chunked(counter):
    document = _document(
        _page(1, [("Contents", True), ("Introduction 3", False)], kind="contents"),
        Page(number=2, text="", kind="empty"),
        _page(3, [("1 Introduction", True), ("Networks were formed in 2019.", False)]),
    )
    passages = chunk_document(document, counter)
    assert [p.first_page for p in passages] == [3]
    assert "Introduction 3" not in passages[0].text


def test_passage_ids_are_stable_for_the_same_document(counter):
    document = _document(_page(1, [("1 Scope", True), (_long_paragraph(40), False)]))
    first = chunk_document(document, counter, target_tokens=120)
    second = chunk_document(document, counter, target_tokens=120)
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)


def test_bullet_lines_are_split_as_units(counter):
    bullets = "\n".join(f"• item {i} about reporting capacity" for i in range(80))
    document = _document(_page(1, [("Actions", True), (bullets, False)]))
    passages = chunk_document(document, counter, target_tokens=60, overlap_tokens=0)
    assert len(passages) > 3
    for passage in passages[1:]:
        assert passage.text.startswith("• item")


def test_title_page_headings_do_not_join_the_next_page(counter):
    document = _document(
        _page(1, [("Imaging network guide", True), ("April 2021", True)]),
        _page(2, [("1 Introduction", True), ("Networks were formed in 2019.", False)]),
    )
    passages = chunk_document(document, counter)
    assert [(p.first_page, p.last_page) for p in passages] == [(1, 1), (2, 2)]
    assert passages[1].section == "1 Introduction"


def test_a_cut_sentence_is_followed_by_its_rest_past_figure_captions(counter):
    # "...fell to" ends page 1, page 2 holds only a figure, page 3 starts with the next
    # figure's caption and then the rest of the sentence: the passage reads the sentence whole,
    # the captions after it, and every span still points at its own page's text.
    cut = "Once the oldest scanners were replaced, the share of repeated examinations fell to"
    document = _document(
        _page(1, [("13 Repeats", True), (cut, False)]),
        _page(2, [("Figure 3: Repeats by scanner age", False)]),
        _page(3, [("Figure 4: Repeats by network", False), ("4% in the first year.", False)]),
    )
    (passage,) = chunk_document(document, counter)

    assert f"{cut}\n\n4% in the first year.\n\nFigure 3:" in passage.text
    assert "Figure 4: Repeats by network" in passage.text
    assert passage.text.count("4% in the first year.") == 1
    pieces = [document.pages[s.page - 1].text[s.start : s.end] for s in passage.spans]
    assert "\n\n".join(pieces) == passage.text
    assert [s.page for s in passage.spans] == [1, 3, 2, 3]
    assert (passage.first_page, passage.last_page) == (1, 3)


@pytest.mark.parametrize(
    "rest",
    [
        "Figure 5 follows on the next page.",  # starts anew: not the rest of the sentence
        "14 Bardsley's definition is narrower.",  # a footnote under the cut line
    ],
)
def test_captions_keep_their_place_before_what_does_not_go_on(counter, rest):
    cut = "Once the oldest scanners were replaced, the share of repeated examinations fell to"
    document = _document(
        _page(1, [("13 Repeats", True), (cut, False)]),
        _page(2, [("Figure 3: Repeats by scanner age", False), (rest, False)]),
    )
    (passage,) = chunk_document(document, counter)

    assert passage.text.endswith(f"{cut}\n\nFigure 3: Repeats by scanner age\n\n{rest}")
