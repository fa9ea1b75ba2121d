"""Cited answers with the real model and index, on the generated guidance corpus."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from assistant.answer import Assistant, _initials, _lead_ins, _name_words, _names, _rerank
from assistant.app import chat_markdown, citation_html, sources_html
from assistant.cli import app as cli
from assistant.compose import Sentence, _on_the_topic, passage_sentences
from assistant.intent import AnswerKind, answer_kind
from assistant.types import NO_DOCUMENTS, NOT_COVERED, Citation, Outcome
from index.retrieve import bm25_tokenize
from index.sentences import sentence_spans
from index.types import Calibration, Mode, SearchFilters
from ingest.errors import IgaError
from tests.corpus_factory import GENERIC

SUPERSEDED = "pacs-guide-2019"
CURRENT = "network-guide-2021"
FOUR_WEEKS = "What is the maximum time for an examination to be reported?"


@pytest.fixture(scope="module")
def assistant(built_settings) -> Assistant:
    assistant = Assistant.load(built_settings)
    assistant.prepare_sentences()  # as a build does: every sentence's vector computed ahead
    return assistant


def test_answerable_question_cites_right_document_and_page(assistant, corpus_facts):
    for fact in corpus_facts:
        answer = assistant.answer(fact.question)
        assert answer.outcome is Outcome.answered, fact.question
        first = answer.citations[0]
        assert (first.doc_id, first.pages) == (fact.doc_id, [fact.page]), fact.question
        assert fact.phrase in answer.text, (fact.question, answer.text)


def test_answer_sentences_occur_verbatim_in_cited_passages(assistant, corpus_facts):
    for fact in corpus_facts:
        answer = assistant.answer(fact.question)
        by_number = {c.number: c for c in answer.citations}
        for sentence in answer.sentences:
            for number in sentence.citations:
                citation = by_number[number]
                quoted = [
                    " ".join(citation.text[h.start : h.end].split()) for h in citation.highlights
                ]
                assert sentence.text in quoted
                assert sentence.text in " ".join(citation.text.split())
        assert 1 <= len(answer.sentences) <= 5


def test_question_the_corpus_does_not_cover_is_not_covered(assistant, out_of_scope_questions):
    for question in out_of_scope_questions:
        answer = assistant.answer(question)
        assert answer.outcome is Outcome.not_covered, question
        assert answer.sentences == []
        # The message says why (here a place the passages found never mention), and then
        # where to look.
        head, tail = NOT_COVERED.split(". ", 1)
        assert answer.text.startswith(f"{head}: "), answer.text
        assert answer.text.endswith(f". {tail}"), answer.text
        assert answer.reason and answer.reason in answer.text
        assert 1 <= len(answer.citations) <= 3  # the nearest passages, labelled as such
        assert answer.evidence.confidence < answer.evidence.threshold


@pytest.mark.parametrize(
    ("question", "known"),
    [
        # "uptime" is rare in everyday English and no generated document uses it; "PACS" is
        # rare too, and they use it.
        ("What uptime must the PACS supplier guarantee?", 0.5),
        # An abbreviation they never use, nor spell out.
        ("What does GIRFT say about reporting?", 0.0),
        # An abbreviation they only spell out ("senior responsible officer").
        ("Who should the SRO report to?", 1.0),
        # No specialist word at all.
        ("What is the maximum time for an examination to be reported?", 1.0),
    ],
)
def test_known_signal_is_the_share_of_specialist_words_the_index_uses(assistant, question, known):
    evidence = assistant.answer(question).evidence

    assert evidence.signals["known"] == known
    # It counts in the confidence with its default weight.
    others = sum(w * evidence.signals[n] for n, w in evidence.weights.items() if n != "known")
    assert evidence.confidence == pytest.approx(
        evidence.signals["dense"] + others + evidence.weights["known"] * known, abs=1e-3
    )


@pytest.mark.parametrize(
    ("question", "years"),
    [
        # The census the equipment guide reports is of 2021: its passages say so.
        ("How many scanners did the 2021 equipment census count?", 1.0),
        # No indexed document mentions a census of 2024.
        ("How many scanners did the 2024 equipment census count?", 0.0),
        # One of two years found.
        ("How many scanners did the census count in 2021 and in 2024?", 0.5),
        # No year named.
        ("How many scanners did the equipment census count?", 1.0),
    ],
)
def test_a_year_the_evidence_never_mentions_is_not_covered(assistant, question, years):
    answer = assistant.answer(question)

    assert answer.evidence.signals["years"] == years
    # Whatever the confidence: every one of these matches the census passage closely.
    assert answer.evidence.confidence >= answer.evidence.threshold
    expected = Outcome.answered if years == 1.0 else Outcome.not_covered
    assert answer.outcome is expected, answer.text
    if expected is Outcome.not_covered:  # and the message names the year
        assert "the passages found never mention 2024" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        # The network board's passage says who sits on it, not how many.
        ("How many clinical directors sit on the network board?", 0.0),
        # The equipment passage says by how much: "doubled over the next five years".
        ("How much should CT capacity grow over five years?", 1.0),
        # Not a date or number question: always 1.
        ("Who chairs the imaging network board?", 1.0),
    ],
)
def test_an_answer_without_the_number_asked_for_is_not_covered(assistant, question, figure):
    answer = assistant.answer(question)

    assert answer.evidence.signals["figure"] == figure
    # Whatever the confidence: each of these matches its passage closely.
    assert answer.evidence.confidence >= answer.evidence.threshold
    expected = Outcome.answered if figure else Outcome.not_covered
    assert answer.outcome is expected, answer.text
    if expected is Outcome.not_covered:  # and the message says what was missing
        assert answer.reason == "the passages that match best give no number for it."
        assert answer.citations  # the nearest passages, to read for oneself


@pytest.mark.parametrize(
    ("question", "target"),
    [
        # The census counts 412 scanners; no sentence says how many there should be.
        ("What is the target number of CT and MRI scanners for England?", False),
        # "...should be reported within twenty-four hours": a target.
        ("What is the target turnaround time for reporting an examination?", True),
    ],
)
def test_a_question_asking_for_a_target_is_answered_only_by_one(assistant, question, target):
    answer = assistant.answer(question)

    assert answer.evidence.signals["figure"] == float(target)
    assert answer.evidence.confidence >= answer.evidence.threshold
    if target:
        assert answer.outcome is Outcome.answered, answer.text
    else:
        assert answer.outcome is Outcome.not_covered, answer.text
        assert answer.reason == "the passages that match best give no target for it."


@pytest.mark.parametrize(
    ("question", "gives"),
    [
        # The census sentence gives a number, and it is about scanners.
        ("How many scanners did the equipment census count?", True),
        # It gives a number, but says nothing of virtual ward beds.
        ("How many virtual ward beds are open?", False),
        # It is about the census, but the number it gives is not of radiographers.
        ("How many radiographers did the equipment census count?", False),
        # Its year is a date, but not of anything the question asks about.
        ("When did the hospices open their day units?", False),
        # Not a date or number question: always given.
        ("Who reviews virtual ward beds?", True),
    ],
)
def test_a_figure_counts_only_in_a_sentence_about_the_question(assistant, question, gives):
    census = next(
        h
        for h in map(assistant.index.hit_at, range(assistant.index.size))
        if "counted 412 CT and MRI scanners" in h.passage.text
    )
    (sentence,) = [
        s
        for s in passage_sentences(census, boilerplate=set())
        if "counted 412 CT and MRI scanners" in s.text
    ]
    kind = answer_kind(question)

    assert assistant._gives_figure([sentence], question, kind) is gives
    # A document's cover gives its date whatever the question's words.
    assert assistant._gives_figure([sentence], question, kind, covers={census.passage.id})


@pytest.mark.parametrize(
    ("text", "question", "about"),
    [
        ("The census counted 412 scanners.", "How many scanners are there?", True),
        # The words that ask do not count: "what", "should", "how many".
        ("The review set out what networks should do.", "What should hospices do?", False),
        # A word of the same family does: the stemmer keeps "librarian" and "library" apart.
        ("One qualified library professional per 1,250 staff.", "How many librarians?", True),
        # A question of asking words only is about anything.
        ("The census counted 412 scanners.", "What is it?", True),
    ],
)
def test_a_sentence_is_about_a_question_when_it_uses_one_of_its_words(
    assistant, text, question, about
):
    assert assistant._on_topic(text, question) is about


@pytest.mark.parametrize(
    ("question", "named", "unmentioned"),
    [
        # The census passages never mention the supplier the question names.
        ("How many scanners from Siemens did the equipment census count?", 0.0, ["Siemens"]),
        # "CT" and "MRI" they mention; the "Northfield" network they do not.
        ("How many CT and MRI scanners has the Northfield network?", 2 / 3, ["Northfield"]),
        # Named by its abbreviation, mentioned in full ("community diagnostic centres").
        ("Where should CDCs be located?", 1.0, []),
        # Nothing named but the first word: the signal is 1.
        ("How old are the scanners?", 1.0, []),
    ],
)
def test_named_signal_is_the_share_of_named_things_the_evidence_mentions(
    assistant, question, named, unmentioned
):
    answer = assistant.answer(question)

    assert answer.evidence.signals["named"] == pytest.approx(named, abs=1e-3)
    # It counts in the confidence with its default weight.
    others = sum(w * answer.evidence.signals[n] for n, w in answer.evidence.weights.items())
    assert answer.evidence.confidence == pytest.approx(
        answer.evidence.signals["dense"] + others, abs=1e-3
    )
    assert assistant._unnamed(_names(question), answer.hits) == unmentioned
    if answer.outcome is Outcome.not_covered:  # the message names what went unmentioned
        for name in unmentioned:
            assert f"the passages found never mention “{name}”" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "names"),
    [
        (
            "What does the NHS Long Term Workforce Plan promise?",
            ["NHS", "Long Term Workforce Plan"],
        ),
        ("What was this year's Agenda for Change pay award?", ["Agenda for Change"]),
        # Abbreviations stand alone; "IT" is a stop word to the keyword index, as "it".
        ("What percentage of CCG and CSU staff work in IT?", ["CCG", "CSU"]),
        ("Who answered the AnalystX State of the Nation survey?", ["AnalystX State of the Nation"]),
        ("What is the 28-day faster diagnosis standard?", ["28-day"]),
        ("What does a data analyst do, in HEE's words?", ["HEE"]),
        # Not the first word, a year, a bare number or a word the keyword index drops.
        ("Who do I email about the 2021 census of 412 scanners?", []),
    ],
)
def test_names_are_the_questions_capitalised_runs(question, names):
    assert _names(question) == names


def test_not_covered_names_what_the_passages_found_never_mention(assistant):
    answer = assistant.answer("What does Siemens charge for servicing a gamma camera?")

    assert answer.outcome is Outcome.not_covered
    assert answer.reason == "the passages found never mention “Siemens”."


def test_a_named_thing_the_evidence_never_mentions_lowers_the_confidence(assistant):
    """The same question about a supplier the guidance never names is less likely covered."""
    plain = assistant.answer("How many scanners did the equipment census count?").evidence
    named = assistant.answer("How many Siemens scanners did the equipment census count?").evidence

    assert plain.signals["named"] == 1.0 and named.signals["named"] == 0.0
    assert named.confidence < plain.confidence - 0.1


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What does GIRFT say about reporting?", "the word “GIRFT”"),
        ("What uptime and failover must HIMSS suppliers offer?", "the words “uptime”, “failover”"),
    ],
)
def test_not_covered_names_the_words_no_indexed_passage_uses(assistant, question, named):
    """A reader told which of their words the guidance never uses can rephrase, or knows the
    guidance is silent; the words come from the known-terms signal, which declined them."""
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.not_covered, answer.text
    assert f"no indexed passage uses {named}" in answer.text, answer.text
    assert "PACS" not in answer.reason and "reporting" not in answer.reason


def test_calibrated_threshold_replaces_the_default(assistant):
    meta = assistant.index.meta
    calibration = Calibration(
        threshold=0.99,
        question_set="test",
        calibrated_at=dt.datetime.now(dt.UTC),
        answered_rate=0.0,
        declined_rate=1.0,
    )
    assistant.index.meta = meta.model_copy(update={"calibration": calibration})
    try:
        answer = assistant.answer(FOUR_WEEKS)
    finally:
        assistant.index.meta = meta
    assert answer.outcome is Outcome.not_covered
    assert (answer.evidence.threshold, answer.evidence.threshold_source) == (0.99, "calibrated")


def test_current_document_ranks_above_superseded_one_saying_the_same(assistant):
    answer = assistant.answer("No examination should take longer than four weeks to be reported.")
    docs = [hit.passage.doc_id for hit in answer.hits]
    assert docs.index(CURRENT) < docs.index(SUPERSEDED)
    assert answer.citations[0].doc_id == CURRENT
    assert SUPERSEDED not in {c.doc_id for c in answer.citations}  # same sentence: cited once


def test_superseded_citation_says_what_replaces_it(assistant):
    answer = assistant.answer(
        "How should picture archiving systems be procured?",
        filters=SearchFilters(doc_ids=[SUPERSEDED]),
    )
    citation = answer.citations[0]
    assert citation.doc_id == SUPERSEDED
    assert citation.superseded_by == "Diagnostic imaging network implementation guide (April 2021)"
    assert "superseded by" in chat_markdown(answer)
    assert "Superseded by" in sources_html(answer)


@pytest.mark.parametrize("mode", [Mode.bm25, Mode.hybrid])
def test_glossary_expansion_finds_the_spelled_out_form(assistant, mode):
    answer = assistant.answer("Where should CDCs be located?", mode=mode)
    assert "community diagnostic centre" in answer.expanded_terms
    assert answer.hits[0].passage.doc_id == "diagnostics-review-2020"
    assert "away from acute hospital" in answer.text


def test_script_in_a_passage_is_shown_as_text(assistant):
    answer = assistant.answer(
        "How must suppliers' viewers treat markup inside report text?",
        filters=SearchFilters(doc_ids=[SUPERSEDED]),
    )
    citation = next(c for c in answer.citations if "<script>" in c.text)
    rendered = citation_html(citation.model_copy(update={"highlights": []}))
    marked = sources_html(answer) + citation_html(citation)
    for html in (rendered, marked, chat_markdown(answer)):
        assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_citation_links_open_the_document_at_the_page(assistant):
    pdf = assistant.answer(FOUR_WEEKS).citations[0]
    assert pdf.url == "https://example.org/guidance/network-guide-2021.pdf#page=3"
    assert pdf.local_url == "/doc/network-guide-2021#page=3"
    assert pdf.published == dt.date(2021, 4, 1)
    assert pdf.section == "3 Reporting turnaround"
    assert pdf.page_text == "p. 3"
    page = assistant.answer("How quickly should outsourced reporting providers return reports?")
    html_citation = page.citations[0]
    assert html_citation.url == "https://example.org/guidance/turnaround-page-2023/"
    assert html_citation.local_url == "/doc/turnaround-page-2023"


def test_answer_records_index_version_and_document_hashes(assistant):
    answer = assistant.answer(FOUR_WEEKS)
    meta = assistant.index.meta
    assert answer.index_version == meta.version
    assert answer.cited_documents == {CURRENT: meta.documents[CURRENT].sha256}
    data = json.loads(answer.model_dump_json())
    assert data["index_version"] == meta.version
    assert data["cited_documents"][CURRENT] == meta.documents[CURRENT].sha256
    assert data["citations"][0]["sha256"] == meta.documents[CURRENT].sha256


def test_filters_restrict_the_sources(assistant):
    answer = assistant.answer(FOUR_WEEKS, filters=SearchFilters(year_from=2023))
    assert {h.passage.doc_id for h in answer.hits} == {"turnaround-page-2023"}
    assert answer.filters == SearchFilters(year_from=2023)


def test_unknown_filter_values_are_named(assistant):
    with pytest.raises(IgaError, match="no-such-doc"):
        assistant.check_filters(SearchFilters(doc_ids=["no-such-doc"]))
    with pytest.raises(IgaError, match="Nobody"):
        assistant.check_filters(SearchFilters(publishers=["Nobody"]))


def test_filters_that_exclude_every_document_say_so_not_not_covered(assistant):
    answer = assistant.answer(FOUR_WEEKS, filters=SearchFilters(year_from=2030))

    assert answer.outcome is Outcome.no_documents
    assert answer.text == NO_DOCUMENTS and "not appear to cover" not in answer.text
    assert answer.hits == [] and answer.citations == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        pytest.param(SearchFilters(year_from=2023, year_to=2021), "after --until", id="reversed"),
        pytest.param(SearchFilters(year_from=23), "not a year", id="two-digit-year"),
        pytest.param(SearchFilters(year_to=3000), "not a year", id="far-future"),
    ],
)
def test_bad_year_ranges_are_refused(assistant, filters, message):
    with pytest.raises(IgaError, match=message):
        assistant.check_filters(filters)


def test_publisher_filter_ignores_case(assistant):
    assistant.check_filters(SearchFilters(publishers=["nhs england"]))
    answer = assistant.answer(FOUR_WEEKS, filters=SearchFilters(publishers=["nhs england"]))

    assert answer.hits and {h.document.entry.publisher for h in answer.hits} == {"NHS England"}


# The equipment guide of tests/corpus_factory.py: recommendations listed over a page break, a
# dated summary, a sentence cut by a page break, a signature block, and GENERIC boilerplate
# repeated on many pages of the other documents.
RECOMMENDATIONS = [
    "Replace scanners that are more than ten years old.",
    "Keep a single asset register for the whole network.",
    "Agree replacement priorities with every member trust.",
    "Fund mobile scanners from the capital budget of the lead trust.",
    "Review the asset register at least once a year.",
]


def test_list_question_is_answered_by_the_list_in_order_across_a_page_break(assistant):
    answer = assistant.answer("What does the imaging equipment replacement guide recommend?")

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == RECOMMENDATIONS
    assert {c.doc_id for c in answer.citations} == {"equipment-guide-2022"}
    assert sorted({p for c in answer.citations for p in c.pages}) == [2, 3]
    assert not any(s.text.endswith(":") for s in answer.sentences)  # never the lead-in


# The workforce review of tests/corpus_factory.py: "Imaging Workforce Review 2017: Summary and
# Recommendations", whose recommendations are labelled paragraphs on pages 3-4, after the
# principles (A., B., C.) they rest on.
REVIEW = "workforce-review-2017"
LABELLED = [
    "Recommendation 1: Train two hundred more reporting radiographers each year for ten years.",
    "Recommendation 2: Fund a training academy in every imaging network.",
    "Recommendation 3: Offer flexible rotas to radiographers who return from career breaks.",
    "Recommendation 4: Publish vacancy rates for every network each quarter.",
]


@pytest.mark.parametrize(
    "question",
    [
        "What are the recommendations of the Imaging Workforce Review 2017?",
        "What does the Imaging Workforce Review recommend?",
    ],
)
def test_a_named_documents_recommendations_are_its_labelled_series(assistant, question):
    """The words that name the review match its title page and every page that repeats them,
    and "recommendations" is a word of its title: searched with them, another document's list
    answered. The review is also searched without its name, and its recommendations are the
    "Recommendation N:" paragraphs, in order across the page break, not the principles listed
    first under the same heading nor the paragraphs between them."""
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == LABELLED
    assert {c.doc_id for c in answer.citations} == {REVIEW}
    assert sorted({p for c in answer.citations for p in c.pages}) == [3, 4]


@pytest.mark.parametrize(
    ("question", "name"),
    [
        # A title word before the name is what is asked of the document...
        (
            "What are the recommendations of the Data Driven Healthcare 2030 report?",
            "data driven healthcar 2030",
        ),
        # ...and so is one lower-case title word after it; two or more continue the name.
        ("What does the Imaging Workforce Review recommend?", "imag workforc review"),
        (
            "Who wrote the Data Driven Healthcare in 2030 summary and recommendations?",
            "data driven healthcar 2030 summari recommend",
        ),
        # Capitals name; a question typed in lower case names nothing for certain.
        ("what does the imaging workforce review recommend?", ""),
    ],
)
def test_a_documents_name_is_its_capitalised_title_words_and_what_follows(question, name):
    title_words = {
        "data",
        "driven",
        "healthcar",
        "2030",
        "summari",
        "recommend",
        "report",
        "imag",
        "workforc",
        "review",
    }
    assert " ".join(t for tokens in _name_words(question, title_words) for t in tokens) == name


def test_a_question_about_one_labelled_item_gets_that_item_not_its_series(assistant):
    """'Recommendation 3:' answers what the review recommends for returners; the question does
    not ask for the recommendations as such, so the other three stay out."""
    answer = assistant.answer(
        "What does the review recommend for radiographers returning from career breaks?"
    )

    assert answer.outcome is Outcome.answered and answer.composition == "sentence"
    texts = [s.text for s in answer.sentences]
    assert LABELLED[2] in texts
    assert not set(texts) & {LABELLED[0], LABELLED[1], LABELLED[3]}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Asked about a topic: the items whose words are of its family ("Train", "training").
        (
            "What are the recommendations of the Imaging Workforce Review on training?",
            LABELLED[:2],
        ),
        (
            "What are the recommendations of the Imaging Workforce Review for networks?",
            LABELLED[1::2],
        ),
        # Asked about nothing else: all of them.
        ("What are the recommendations of the Imaging Workforce Review 2017?", LABELLED),
        ("What are the Imaging Workforce Review's recommendations?", LABELLED),
    ],
)
def test_a_labelled_series_asked_about_one_topic_gives_its_items_on_it(
    assistant, question, expected
):
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == expected


@pytest.mark.parametrize(
    ("question", "listed"),
    [
        ("What are the recommendations of the Imaging Workforce Review on training?", 1.0),
        # "Scotland" is in no item: the rule does not answer (the threshold may).
        (
            "What are the recommendations of the Imaging Workforce Review on training in Scotland?",
            0.0,
        ),
        ("What are the recommendations for pathology laboratories?", 0.0),
    ],
)
def test_a_series_whose_items_name_what_is_asked_answers_by_rule(assistant, question, listed):
    """A series labelled by what the question lists, whose items use every other word it asks
    about, is the answer whatever the cosines (signal 'listed', calibrate.ruled_in): on the
    shared corpus "What are the recommendations about leadership?" scored 1.43 against the
    threshold of 1.513, with Recommendations 5 and 6 found."""
    answer = assistant.answer(question)

    assert answer.evidence.signals["listed"] == listed
    if listed:
        assert answer.outcome is Outcome.answered
        assert [s.text for s in answer.sentences] == LABELLED[:2]


def test_a_series_whose_items_use_no_word_of_the_topic_gives_the_closest(assistant):
    """ "...on pay?" when no item says "pay": the items that match the question nearly as
    well as the best (within SERIES_MARGIN), in order; all of them when none is asked about."""
    hits = [assistant.index.hit_at(row) for row in range(assistant.index.size)]
    items = [
        s
        for h in hits
        if h.passage.doc_id == REVIEW
        for s in assistant._sentences(h)
        if s.text in LABELLED
    ]
    assert [s.text for s in items] == LABELLED
    nothing = lambda text: False  # noqa: E731  (no item uses a word of the topic)
    scores = [0.30, 0.52, 0.21, 0.49]

    assert _on_the_topic(items, nothing, lambda _: scores) == [items[1], items[3]]
    assert _on_the_topic(items, nothing, None) == items
    everything = lambda text: True  # noqa: E731  (the question asks for nothing else)
    assert _on_the_topic(items, everything, lambda _: scores) == items


@pytest.mark.parametrize(
    ("question", "naming"),
    [
        ("What are the recommendations of the Imaging Workforce Review on training?", True),
        ("What are NHSE's recommendations on training?", True),  # NHS England's initials
        ("What are the recommendations on training?", False),
    ],
)
def test_only_the_words_that_name_a_document_are_not_its_topic(assistant, question, naming):
    """For a list question, the words left to find in an item are the question's, less those
    that name a document as the question spells them: "training" stays a topic word."""
    named = assistant._naming_in(question)
    assert bool(named) is naming
    assert "train" not in named
    assert assistant._on_topic("Fund a training academy.", question, besides="recommendation")
    assert not assistant._on_topic("Publish vacancy rates.", question, besides="recommendation")


def test_labelled_series_answers_within_a_document_filter(assistant):
    """Restricted to the review it names, the question is answered by the series too, not
    declined ("not covered") while the nearest passages are the recommendations."""
    answer = assistant.answer(
        "What are the recommendations of the Imaging Workforce Review 2017?",
        filters=SearchFilters(doc_ids=[REVIEW]),
    )

    assert answer.outcome is Outcome.answered, answer.reason
    assert [s.text for s in answer.sentences] == LABELLED


@pytest.mark.parametrize(
    "question", ["What are the recommendations?", "List the main recommendations of the report."]
)
def test_a_bare_list_question_is_answered_by_the_list_its_noun_heads(assistant, question):
    """A question that asks for nothing but "the recommendations", within one document,
    embeds too vaguely for its cosines to clear the not-covered threshold; the series
    labelled "Recommendation N:" is what it asks for, and answers it by rule."""
    answer = assistant.answer(question, filters=SearchFilters(doc_ids=[REVIEW]))

    assert answer.outcome is Outcome.answered, answer.reason
    assert answer.evidence.signals["listed"] == 1.0
    assert [s.text for s in answer.sentences] == LABELLED


def test_a_list_question_naming_more_than_its_noun_is_not_answered_by_the_rule(assistant):
    """ "Recommendations for pathology networks" asks more than any heading names: the list
    found answers only if the evidence clears the threshold, as for any question."""
    answer = assistant.answer(
        "What are the recommendations for pathology laboratories?",
        filters=SearchFilters(doc_ids=[REVIEW]),
    )

    assert answer.evidence.signals["listed"] == 0.0


@pytest.mark.parametrize(
    "question",
    ["Which new roles will imaging networks need?", "Give me the new roles imaging networks need."],
)
def test_question_about_things_in_the_plural_is_answered_by_their_list(assistant, question):
    """Worded as a fact question, not as "What are...", it asks for a list all the same."""
    assert answer_kind(question) is AnswerKind.fact
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == [
        "Network imaging manager",
        "Imaging informatics lead",
        "Reporting radiographer",
    ]


def test_list_question_over_a_table_of_roles_gets_the_roles_not_its_header_or_links(assistant):
    answer = assistant.answer("What are the new roles imaging networks will need?")

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    # In order across the page break, the rows whose description repeats another's too; not
    # the header row ("Job role Summary of role"), nor the link cells ("GDS NHS"), even the
    # last one, with prose under it.
    assert [s.text for s in answer.sentences] == [
        "Network imaging manager",
        "Imaging informatics lead",
        "Reporting radiographer",
    ]
    assert {c.doc_id for c in answer.citations} == {"equipment-guide-2022"}
    assert sorted({p for c in answer.citations for p in c.pages}) == [8, 9]


def test_number_only_a_table_gives_is_answered_by_its_row_alone(assistant):
    """The prose names what was counted; the count is only in the table's row. The row is
    quoted on its own: the rows around it are other networks', the prose after it is not
    about this row, and the header row and caption are not answers."""
    answer = assistant.answer(
        "How many unreported examinations did the Southern imaging network have?"
    )

    assert answer.outcome is Outcome.answered and answer.kind == "number"
    assert [s.text for s in answer.sentences] == ["Southern imaging network 830"]
    assert [(c.doc_id, c.pages) for c in answer.citations] == [("equipment-guide-2022", [10])]


def test_date_question_is_answered_by_a_sentence_with_a_date(assistant):
    answer = assistant.answer("On what day were the scanners counted for the census?")

    assert answer.outcome is Outcome.answered and answer.kind == "date"
    assert "1 April 2021" in answer.sentences[0].text


@pytest.mark.parametrize(
    ("question", "doc_id", "cover"),
    [
        # The cover's date, whatever the body says ("...published in March 2022 to help...").
        (
            "When was the imaging equipment replacement guide published?",
            "equipment-guide-2022",
            "NHS England, 2022-03-01",
        ),
        # A cover line that matches the question poorly (its sentence cosine is ~0.3).
        (
            "When was the diagnostics recovery and renewal review published?",
            "diagnostics-review-2020",
            "Independent review, 1 October 2020",
        ),
    ],
)
def test_publication_date_is_the_date_on_the_named_documents_cover(
    assistant, question, doc_id, cover
):
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.answered and answer.kind == "date"
    assert answer.sentences[0].text == cover
    assert (answer.citations[0].doc_id, answer.citations[0].pages) == (doc_id, [1])


@pytest.mark.parametrize(
    "question",
    [
        # "review" names the diagnostics review's title: its cover date ranks first, but the
        # evidence is judged without the cover bonus, so it does not answer.
        "When was the school meals review published?",
        "When was the GIRFT radiology report published?",
    ],
)
def test_publication_question_about_a_document_not_indexed_is_not_covered(assistant, question):
    # Every indexed cover has a date; none of them is the answer.
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.not_covered, answer.text


def test_question_about_a_publication_to_come_is_not_answered_by_a_cover_date(assistant):
    # The guide's cover date says when this edition came out, not when the next one will.
    answer = assistant.answer(
        "When will the next imaging equipment replacement guide be published?"
    )

    assert "NHS England, 2022-03-01" not in [s.text for s in answer.sentences]


@pytest.mark.parametrize(
    ("question", "cover_ranks"),
    [
        # The title words match the cover best of all; it says nothing of what is in the guide.
        ("What is in the imaging equipment replacement guide?", False),
        # Who published a report, and who wrote it, its cover and credits say.
        ("Who published the imaging equipment replacement guide?", True),
    ],
)
def test_a_documents_cover_ranks_only_for_who_published_it(assistant, question, cover_ranks):
    answer = assistant.answer(question)

    top = [(h.passage.doc_id, h.passage.ordinal) for h in answer.hits[:5]]
    assert (("equipment-guide-2022", 0) in top) is cover_ranks, top


def test_sentence_broken_by_a_page_break_is_quoted_whole_and_cited_over_both_pages(assistant):
    answer = assistant.answer("What must capital bids for mobile scanners include?")

    whole = (
        "Capital bids for mobile scanners must include the running costs of the vehicle and "
        "the staffing needed to operate it for its whole working life."
    )
    assert whole in [s.text for s in answer.sentences]
    cited = next(c for c in answer.citations if c.doc_id == "equipment-guide-2022")
    assert cited.pages == [3, 4] and cited.page_text.startswith("pp. 3-4")


def test_sentence_cut_by_a_page_break_and_figures_is_quoted_whole(assistant):
    # Page 12 ends "...fell to"; page 13 is a figure; page 14 starts with its caption and then
    # "4% of all scans in the first year."
    answer = assistant.answer("How far did repeat scans fall once the old scanners went?")

    whole = (
        "Once the oldest scanners were replaced, the share of scans taken twice because of poor "
        "image quality fell to 4% of all scans in the first year."
    )
    assert whole in [s.text for s in answer.sentences], answer.text
    assert not any(s.text.startswith("Figure") for s in answer.sentences)
    cited = next(c for c in answer.citations if c.doc_id == "equipment-guide-2022")
    assert cited.pages == [12, 14], cited.pages


@pytest.mark.parametrize(
    ("question", "items"),
    [
        # No bullets: "Three themes emerged from the review:" and three paragraphs.
        (
            "What themes came out of the review of replacement plans?",
            [
                "Networks that keep one shared asset register replace their scanners sooner.",
                "Buying scanners together through joint procurement lowers their price.",
                "New scanners need trained radiographers from their first day in service.",
            ],
        ),
        # A table, as text extraction leaves it: short lines under its caption (its header
        # row, "Scanner type Count", names the columns and is not one of them).
        (
            "What are the scanner types counted in the 2021 census table?",
            ["Computed tomography 212", "Magnetic resonance imaging 200"],
        ),
        # A figure's numbered items, extracted after the paragraph that follows its caption.
        (
            "What are the stages of the scanner replacement cycle?",
            [
                "1. Survey the scanners in service",
                "2. Rank them by age and risk",
                "3. Bid for the replacements",
            ],
        ),
        # Subheadings one level below the heading that matches, up to the next heading of
        # its level ("9 Next steps"); the heading itself matches less than the line under it.
        (
            "What should imaging networks prioritise?",
            [
                "8.1 Shared reporting worklists",
                "8.2 Joint procurement of scanners",
                "8.3 Common training for radiographers",
            ],
        ),
        # A phrase setting the scene before the question: the noun is read after it.
        (
            "In the review of replacement plans, what themes came out?",
            [
                "Networks that keep one shared asset register replace their scanners sooner.",
                "Buying scanners together through joint procurement lowers their price.",
                "New scanners need trained radiographers from their first day in service.",
            ],
        ),
    ],
    ids=[
        "paragraphs-after-a-counted-lead-in",
        "table-rows",
        "figure-items",
        "subheadings",
        "after-a-setting-phrase",
    ],
)
def test_list_without_bullets_is_answered_by_its_items(assistant, question, items):
    answer = assistant.answer(question)

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == items


def test_share_question_gets_the_percentage_with_the_sentence_it_leans_on(assistant):
    # "ten years" is a number too, and the recommendation "Replace scanners that are more than
    # ten years old." shares most words: a share wants a percentage, and "Of these, 27%..."
    # is quoted with the sentence that says what "these" are.
    answer = assistant.answer("What share of scanners were more than ten years old?")

    assert answer.outcome is Outcome.answered and answer.kind == "number"
    assert [s.text for s in answer.sentences[:2]] == [
        "The 2021 equipment census counted 412 CT and MRI scanners across the imaging networks "
        "of England.",
        "Of these, 27% were more than ten years old.",
    ]
    assert answer.citations[0].doc_id == "equipment-guide-2022"


@pytest.mark.parametrize(
    "question",
    [
        "How should networks share what they learn with their partners?",
        "How often should local leaders review progress?",
        "Who is the National Clinical Director for Imaging Equipment?",
        "What is the title of the imaging equipment replacement guide?",
    ],
)
def test_boilerplate_titles_and_signatures_never_answer(assistant, question):
    answer = assistant.answer(question)

    never = {
        *(f"{sentence.strip()}." for sentence in GENERIC.split(".") if sentence.strip()),
        "Dr Alex Example",
        "National Clinical Director for Imaging Equipment",
        "NHS England",
        "Imaging equipment replacement guide",
    }
    assert not never & {s.text for s in answer.sentences}, answer.text


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param("One here. Two there.", ["One here.", "Two there."], id="sentences"),
        pytest.param("• Bullet item\n- Dash item", ["Bullet item", "Dash item"], id="bullets"),
        pytest.param("e.g. the rule applies.", ["e.g. the rule applies."], id="abbreviation"),
        pytest.param("Para one.\n\nPara two.", ["Para one.", "Para two."], id="paragraphs"),
        pytest.param(
            "It runs on and\n\nover the break. Next.",
            ["It runs on and\n\nover the break.", "Next."],
            id="page-break-joins",
        ),
        pytest.param("A heading\n\nlower start.", ["A heading\n\nlower start."], id="runs-on"),
        pytest.param("Ends here.\n\nlower start.", ["Ends here.", "lower start."], id="finished"),
        pytest.param(
            "3.2 Priorities\n• Train radiographers to use the\n\nnew equipment safely.",
            ["3.2 Priorities", "Train radiographers to use the\n\nnew equipment safely."],
            id="item-under-a-heading-runs-on",
        ),
        pytest.param(
            "Phase 1 of the project led to the publication\n1. First item\n2. Last item\n\nof a report. Next.",
            [
                "Phase 1 of the project led to the publication",
                "1. First item",
                "2. Last item",
                "of a report.",
                "Next.",
            ],
            id="figure-inside-a-cut-paragraph",
        ),
        pytest.param(
            "The share of support staff will need to fall to\n\n11 per cent. Next.",
            ["The share of support staff will need to fall to\n\n11 per cent.", "Next."],
            id="figure-goes-on-after-a-linking-word",
        ),
        pytest.param(
            "Who we heard from\n\n123 team leaders replied.",
            ["Who we heard from", "123 team leaders replied."],
            id="heading-over-a-figure",
        ),
        pytest.param(
            "The data found has been put into areas that are now part of\n\n"
            "14 Bardsley's own definition is narrower.",
            [
                "The data found has been put into areas that are now part of",
                "14 Bardsley's own definition is narrower.",
            ],
            id="footnote-under-a-cut-line",
        ),
    ],
)
def test_sentence_spans(text, sentences):
    assert [text[s:e] for s, e in sentence_spans(text)] == sentences


def test_ask_command_prints_answer_and_numbered_sources(built_settings):
    result = CliRunner().invoke(
        cli, ["ask", FOUR_WEEKS, "--data-dir", str(built_settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "four weeks" in result.output
    assert "[1]" in result.output
    assert "Diagnostic imaging network implementation guide" in result.output
    assert "1 April 2021" in result.output


def test_ask_command_json_is_the_answer(built_settings):
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            FOUR_WEEKS,
            "--json",
            "--k",
            "3",
            "--mode",
            "dense",
            "--since",
            "2020",
            "--data-dir",
            str(built_settings.data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "answered"
    assert data["mode"] == "dense" and len(data["hits"]) == 3
    assert data["filters"]["year_from"] == 2020
    assert data["index_version"] and data["cited_documents"]


def test_ask_command_names_an_unknown_document(built_settings):
    result = CliRunner().invoke(
        cli, ["ask", FOUR_WEEKS, "--doc", "nope", "--data-dir", str(built_settings.data_dir)]
    )
    assert result.exit_code == 1
    assert "nope" in result.output


@pytest.mark.parametrize(
    ("pages", "labels", "expected"),
    [
        pytest.param([3], [None], "p. 3", id="one-page"),
        pytest.param([3], ["2"], "p. 3 (printed 2)", id="one-page-printed"),
        pytest.param([14, 15], [None, None], "pp. 14-15", id="range"),
        pytest.param([14, 15], ["13", "14"], "pp. 14-15 (printed 13-14)", id="range-printed"),
        pytest.param([4, 9], [None, "8"], "pp. 4, 9 (printed 8)", id="apart"),
    ],
)
def test_citation_pages_read_as_people_quote_them(pages, labels, expected):
    citation = Citation(
        number=1,
        passage_id="guide#0001-abc",
        doc_id="guide",
        title="Guide",
        publisher="NHS England",
        published=dt.date(2021, 4, 1),
        pages=pages,
        page_labels=labels,
        section=None,
        text="Text.",
        highlights=[],
        url=None,
        local_url=None,
        sha256="0" * 64,
        superseded_by=None,
    )
    assert citation.page_text == expected


def test_words_that_name_a_document_pick_the_document_not_the_sentence(assistant):
    # "equipment" is in one title of five: it names that guide. "imaging" is in most titles,
    # and "scanners" in none: neither names a document.
    tokens = bm25_tokenize(["imaging equipment scanners"])[0]

    naming = assistant._naming_words(tokens)

    assert naming == set(bm25_tokenize(["equipment"])[0])


def test_list_of_another_length_than_the_question_says_does_not_answer_it(assistant):
    # The cycle has three stages (a figure's numbered items): asked for three, they answer;
    # asked for two, the list is not the one the question means.
    three = assistant.answer("What are the three stages of the scanner replacement cycle?")
    two = assistant.answer("What are the two stages of the scanner replacement cycle?")

    assert three.composition == "list" and len(three.sentences) == 3
    assert two.composition != "list"


def test_a_heading_that_names_a_sibling_subject_does_not_answer(fresh_settings):
    # "Priorities for CT services" and "... for MRI services" are one family: a question about
    # MRI must not get the CT heading's list, even when that is the list it found.
    import yaml

    from index.build import build_index
    from ingest.manifest import load_manifest
    from tests.corpus_factory import write_pdf

    def section(number: int, modality: str, first: str, second: str) -> list:
        return [
            (
                f"{number} Priorities for {modality} services",
                [f"The {modality} priorities follow."],
            ),
            (
                f"{number}.1 {first}",
                [f"Every network should plan its {modality} work around this."],
            ),
            (
                f"{number}.2 {second}",
                [f"Each trust should report its {modality} progress monthly."],
            ),
        ]

    corpus = fresh_settings.manifest.parent
    entry = {
        "id": "modality-priorities",
        "title": "Modality priorities",
        "publisher": "NHS England",
        "published": "2024-01-01",
        "format": "pdf",
    }
    pages = [
        section(1, "CT", "Faster reporting", "Shared worklists"),
        section(2, "MRI", "Longer opening hours", "More scanners"),
    ]
    write_pdf(corpus / "modality-priorities.pdf", entry | {"pages": pages})
    manifest = yaml.safe_load(fresh_settings.manifest.read_text(encoding="utf-8"))
    manifest["documents"].append(entry)
    fresh_settings.manifest.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    build_index(load_manifest(fresh_settings.manifest), fresh_settings, mirror=corpus)
    assistant = Assistant.load(fresh_settings)
    hit = next(
        h
        for h in assistant.index.search("Priorities for CT services", k=10)
        if h.passage.doc_id == "modality-priorities" and "CT services" in h.passage.text
    )
    heading = next(s for s in assistant._sentences(hit) if s.text == "1 Priorities for CT services")

    assert assistant._names_another(heading, "What are the priorities for MRI services?")
    assert not assistant._names_another(heading, "What are the priorities for CT services?")
    assert not assistant._names_another(heading, "What are the priorities for services?")


def test_a_reference_list_ranks_below_every_passage_that_may_answer(assistant):
    """A reference list names other works and says nothing of its own: whatever its match,
    it ranks last, the others in their order."""
    hits = assistant.index.search("How old are the CT scanners?", k=5)
    assert len(hits) == 5
    first = hits[0]
    references = first.model_copy(
        update={"passage": first.passage.model_copy(update={"section": "8. References"})}
    )
    before = [h.passage.id for h in _rerank(hits, [], AnswerKind.fact, {})]
    after = [h.passage.id for h in _rerank([references, *hits[1:]], [], AnswerKind.fact, {})]
    assert before[0] == first.passage.id  # it ranked first as the body text it is
    assert after == [*before[1:], first.passage.id]


def test_list_whose_bullets_were_lost_is_answered_by_its_lower_case_items(assistant):
    """Bullets drawn as shapes leave no character: after a lead-in, each paragraph that
    starts in lower case is an item (sentence splitting had run them together)."""
    answer = assistant.answer(
        "What steps did each network take before the out-of-hours reporting pilot?"
    )

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == [
        "agreed one shared worklist for night reports",
        "set up secure links to the reporting company",
        "trained its duty radiologists on the new viewer.",
    ]
    assert [c.pages for c in answer.citations] == [[11]]


def test_a_lead_in_over_items_run_together_on_one_line_is_answered_by_that_line(assistant):
    """A table cell extracts as one line of items separated by semicolons ("Key Drivers:"
    then "Austerity; political instability; ..."): after its lead-in, that line is the list."""
    answer = assistant.answer("What risks did the out-of-hours pilot board record?")

    assert answer.outcome is Outcome.answered and answer.composition == "list"
    assert [s.text for s in answer.sentences] == [
        "Radiologist fatigue; slow image transfer; unclear clinical responsibility; gaps in "
        "the audit trail."
    ]
    assert [c.pages for c in answer.citations] == [[11]]


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Which CCGs report their scanner counts?", "Each CCG reports its scanner count."),
        ("Which CCG reports its scanner count?", "All CCGs report their scanner counts."),
    ],
)
def test_an_abbreviation_is_mentioned_in_the_singular_or_the_plural(assistant, question, text):
    """The stemmer leaves abbreviations as they are ("ccgs"): a question about CCGs is not
    told that passages about each CCG never mention them."""
    hit = assistant.index.hit_at(0)
    hit = hit.model_copy(update={"passage": hit.passage.model_copy(update={"text": text})})
    assert assistant._unnamed(_names(question), [hit]) == []
    other = hit.model_copy(update={"passage": hit.passage.model_copy(update={"text": "None."})})
    assert assistant._unnamed(_names(question), [other]) == [_names(question)[0]]


def test_the_embedder_remembers_a_query_until_told_to_forget(assistant):
    # An answer encodes its question once for search and sentence scoring alike; evaluation
    # forgets between timed questions, so each time includes the encoding.
    embedder = assistant.index.embedder
    first = embedder.encode_query("How many CT scanners are there?")

    assert embedder.encode_query("How many CT scanners are there?") is first
    embedder.forget_queries()
    again = embedder.encode_query("How many CT scanners are there?")
    assert again is not first and float(again @ first) > 0.99


def test_a_passage_headed_by_what_a_list_question_lists_ranks_up(assistant):
    """Of two passages that match alike, the one whose section heading (or a lead-in) names
    what is listed ("3 Recommendations" to "What are the recommendations...?") ranks first;
    a heading's noun after a preposition does not count ("Priorities for imaging networks"
    heads priorities, not networks)."""
    hits = assistant.index.search("What does the review say?", k=2, mode=Mode.dense)
    alike = [h.model_copy(update={"score": 1.0, "dense_score": 0.5}) for h in hits]
    order = [h.passage.id for h in alike]

    def headed(section: str, noun: str) -> list[str]:
        second = alike[1].passage.model_copy(update={"section": section})
        pair = [alike[0], alike[1].model_copy(update={"passage": second})]
        return [h.passage.id for h in _rerank(pair, [], AnswerKind.list_, {}, noun=noun)]

    assert headed("3 Recommendations", "recommendation") == order[::-1]
    assert headed("3 Recommendations", "") == order
    assert headed("8 Priorities for imaging networks", "priority") == order[::-1]
    assert headed("8 Priorities for imaging networks", "network") == order

    # A line leading into a list that names them counts as its heading would.
    lead_in = Sentence(hit=alike[1], start=0, end=1, role="lead-in", text="The key findings are:")
    found = _rerank(alike, [lead_in], AnswerKind.list_, {}, noun="finding")
    assert [h.passage.id for h in found] == order[::-1]
    assert [h.passage.id for h in _rerank(alike, [lead_in], AnswerKind.list_, {})] == order


def test_a_deeper_passages_lead_in_naming_what_is_listed_may_anchor_the_list(assistant):
    """Below the passages that answer, a lead-in that names what the question lists ("Three
    themes emerged from the review:") is still offered as a list's anchor, ranked as its
    passage; a lead-in naming other things is not."""
    hit = next(
        h
        for h in (assistant.index.hit_at(row) for row in range(assistant.index.size))
        if "Three themes emerged" in h.passage.text
    )
    sentences = assistant._sentences(hit)

    ranked = [assistant.index.hit_at(0)] * 5 + [hit]  # five answering passages above it
    found = _lead_ins(ranked, 5, sentences, "theme")
    assert [(s.text, s.hit.rank) for s in found] == [("Three themes emerged from the review:", 6)]
    assert _lead_ins(ranked, 5, sentences, "priority") == []

    # It leans on the sentence before it ("...was reviewed in the autumn of 2022. Three themes
    # emerged from the review:"), and scores as the better of the two, as a list's anchors do.
    before = "Every network's replacement plan was reviewed in the autumn of 2022."
    scored = [s.with_(score=0.7 if s.text == before else 0.3) for s in sentences]
    assert before in [s.text for s in scored]
    assert [s.own for s in _lead_ins(ranked, 5, scored, "theme")] == [0.7]
    scored = [s.with_(score=0.2 if s.text == before else 0.3) for s in sentences]
    assert [s.own for s in _lead_ins(ranked, 5, scored, "theme")] == [0.3]


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Transformation Partners in Health and Care", "TPHC"),
        ("Getting It Right First Time", "GIRFT"),
        ("Parliamentary and Health Service Ombudsman", "PHSO"),
        ("NHS Improvement", "NHSI"),
    ],
)
def test_a_publishers_initials_name_it(name, initials):
    """ "How many care homes did TPHC support?" names the publisher of the report that
    answers it, though the report never writes "TPHC": the evidence mentions what the
    question names (signal 'named'), so it is not declined for that."""
    assert _initials(name) == initials


def test_the_evidence_mentions_a_name_that_is_its_publishers_initials(assistant):
    """The review published by "Independent review" never writes "IR"; a question naming
    "IR" names its publisher all the same, while a name no title or publisher spells out is
    still unmentioned."""
    row = next(
        row
        for row in range(assistant.index.size)
        if assistant.index.passage(row).doc_id == "diagnostics-review-2020"
    )
    hits = [assistant.index.hit_at(row)]

    assert assistant._unnamed(["IR", "QXR"], hits) == ["QXR"]


def test_a_bare_list_question_searches_the_sections_its_noun_heads(assistant):
    """Sections whose heading names what is asked ("3 Recommendations") join the candidates
    of a bare list question, in the documents it is restricted to, at the score given."""
    found = assistant._sections_naming("recommendation", {}, SearchFilters(doc_ids=[REVIEW]), 0.5)

    assert [(h.passage.doc_id, h.passage.section, h.score) for h in found] == [
        (REVIEW, "3 Recommendations", 0.5)
    ]
    everywhere = assistant._sections_naming("recommendation", {}, None, 0.5)
    assert REVIEW in {h.passage.doc_id for h in everywhere}
    assert all("ecommendation" in (h.passage.section or "") for h in everywhere)
    assert not assistant._sections_naming("conclusion", {}, None, 0.5)


@pytest.mark.parametrize(
    ("question", "about"),
    [
        # The review's name aside, only "run" is left: a verb that says it happened.
        ("When did the Workforce Review run?", True),
        ("When did the Workforce Review take place?", True),
        # ...but "radiographers" says what about the review is asked.
        ("When did the Workforce Review count radiographers?", False),
    ],
)
def test_a_date_question_about_a_named_event_is_about_any_of_its_sentences(
    assistant, question, about
):
    """The figure rule asks for the date in a sentence that uses a word of the question, the
    words naming a document aside (they are on every page of it)."""
    sentence = "It heard from every imaging network in England during the winter of 2016."

    assert assistant._on_topic(sentence, question) is about


@pytest.mark.parametrize(
    ("question", "noun", "bare"),
    [
        ("What are the recommendations?", "recommendation", True),
        ("What are the key findings of the Workforce Review?", "finding", True),
        # The verb asks for its noun ("conclud", "conclus": one family).
        ("What does the Workforce Review conclude?", "conclusion", True),
        ("What does the Workforce Review conclude about pay?", "conclusion", False),
        ("What are the recommendations for pathology laboratories?", "recommendation", False),
    ],
)
def test_a_bare_list_question_asks_for_its_noun_alone(assistant, question, noun, bare):
    assert assistant._asks_only_for(question, noun) is bare


def test_a_bare_list_question_without_a_list_gets_the_opening_of_its_section(assistant):
    """ "What are the next steps?" within the equipment guide: its "9 Next steps" section is
    prose, not a list; its opening sentence answers, by the same rule."""
    answer = assistant.answer(
        "What are the next steps?", filters=SearchFilters(doc_ids=["equipment-guide-2022"])
    )

    assert answer.outcome is Outcome.answered, answer.reason
    assert answer.composition == "section"
    assert answer.evidence.signals["listed"] == 1.0
    assert [s.text for s in answer.sentences] == [
        "Each network will publish its own plan before the end of the year."
    ]


@pytest.mark.parametrize(
    "question",
    [
        "List the new roles imaging networks will need.",
        "Can you tell me the new roles imaging networks will need?",
        "Please give me the new roles imaging networks will need.",
    ],
)
def test_a_requests_opening_words_are_not_looked_for_in_the_guidance(assistant, question):
    # "List", "tell me", "give me" say how to answer: the evidence is judged by the rest,
    # as the question asked plainly is (its coverage fell to 0.32-0.64 when they counted).
    plain = assistant.answer("What are the new roles imaging networks will need?")
    asked = assistant.answer(question)

    assert asked.outcome is Outcome.answered and asked.composition == "list"
    assert [s.text for s in asked.sentences] == [s.text for s in plain.sentences]
    assert asked.evidence.signals["coverage"] == plain.evidence.signals["coverage"] == 1.0


@pytest.mark.parametrize(
    ("question", "found"),
    [
        # Its heading, "8 Priorities for imaging networks", uses the words asked besides the noun.
        ("What should imaging networks be prioritising over the next five years?", True),
        # A heading naming priorities, but not what they are for.
        ("What should scanner suppliers be prioritising in their contracts?", False),
    ],
)
def test_a_list_question_about_more_than_its_noun_searches_the_sections_it_names(
    assistant, question, found
):
    sections = assistant._sections_naming("priority", {}, None, 1.0, about=question)

    headings = [h.passage.section for h in sections]
    assert ("8 Priorities for imaging networks" in headings) is found, headings
    assert all(h.score == 1.0 for h in sections)
