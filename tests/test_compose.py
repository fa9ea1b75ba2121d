"""Answer composition rules on real passages of the generated corpus, with scores set by hand.

The scores stand in for the model's so that each rule is seen alone: which sentences an
excerpt runs on into, and when another passage's sentence joins the answer.
"""

from __future__ import annotations

import pytest

from assistant import answer as answer_module
from assistant import compose as compose_module
from assistant.compose import Sentence, compose, normalise, passage_sentences
from assistant.intent import AnswerKind
from index.types import Hit
from ingest.types import PageSpan


def _prose(hit: Hit) -> list[Sentence]:
    return [s for s in passage_sentences(hit, boilerplate=set()) if s.role == "prose"]


@pytest.fixture(scope="module")
def passages(assistant) -> tuple[Hit, Hit]:
    """Two passages of one document: the first with three prose sentences in a row."""
    hits = [assistant.index.hit_at(row) for row in range(assistant.index.size)]
    for first in hits:
        roles = [s.role for s in passage_sentences(first, boilerplate=set())]
        if "prose,prose,prose" not in ",".join(roles):
            continue
        others = [h for h in hits if h.passage.doc_id == first.passage.doc_id and h is not first]
        other = next((h for h in others if _prose(h)), None)
        if other is not None:
            return first.model_copy(update={"rank": 1}), other.model_copy(update={"rank": 2})
    pytest.fail("the generated corpus has no passage with three prose sentences in a row")


def _scored(hit: Hit, scores: list[float], bonus: float) -> list[Sentence]:
    """All the hit's sentences, scored: its first run of prose sentences by `scores` in
    order, the rest 0, each plus the rank bonus; the run is returned first."""
    sentences = passage_sentences(hit, boilerplate=set())
    roles = [s.role for s in sentences]
    start = next(
        i for i in range(len(roles)) if roles[i : i + len(scores)] == ["prose"] * len(scores)
    )
    owns = [0.0] * len(sentences)
    for offset, own in enumerate(scores):
        owns[start + offset] = own
    scored = [s.with_(score=own + bonus, own=own) for s, own in zip(sentences, owns, strict=True)]
    return scored[start:] + scored[:start]


def _worded(hit: Hit, texts: list[str], scores: list[float]) -> list[Sentence]:
    """The hit's sentences as `_scored` gives them (rank bonus 1.0), its first run of prose
    sentences worded as `texts`."""
    run = _scored(hit, scores, bonus=1.0)
    return [s.with_(text=t) for s, t in zip(run, texts, strict=False)] + run[len(texts) :]


def _compose(scored: list[Sentence]) -> list[str]:
    composition = compose(
        scored,
        AnswerKind.fact,
        {},
        neighbours=lambda hit, step: None,
        sentences_of=lambda hit: passage_sentences(hit, boilerplate=set()),
    )
    return [s.text for s in composition.sentences]


def _written(assistant, text: str, section: str) -> tuple[Hit, list[Sentence]]:
    """A passage of the generated corpus rewritten as `text` under `section` (ranked first),
    and its sentences, as a list's walk reads them."""
    hit = assistant.index.hit_at(0).model_copy(update={"rank": 1})
    passage = hit.passage.model_copy(update={"text": text, "section": section})
    written = hit.model_copy(update={"passage": passage})
    return written, passage_sentences(written, boilerplate=set())


def _items(anchor: Sentence, hit: Hit, sentences: list[Sentence]) -> list[str]:
    """The items of the list an anchor of that one passage belongs to."""
    items = compose_module._list_items(
        anchor, lambda h, step: None, lambda h: sentences if h is hit else []
    )
    return [s.text for s in items]


def _answer(scored: list[Sentence], kind: AnswerKind, question: str, *, sentences_of) -> list[str]:
    """The texts compose quotes for a question, from sentences whose texts were set by hand
    (no neighbouring passages)."""
    composition = compose(
        scored,
        kind,
        {},
        neighbours=lambda hit, step: None,
        sentences_of=sentences_of,
        question=question,
    )
    return [s.text for s in composition.sentences]


def test_excerpt_runs_on_into_the_next_sentence_while_short(passages, monkeypatch):
    first, _ = passages
    scored = _scored(first, [0.9, 0.3, 0.3], bonus=1.0)  # the 2nd is far below the best
    texts = [s.text for s in scored]

    assert _compose(scored) == texts[:2]

    # Past RUN_ON_CHARS the best sentence stands alone.
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", len(texts[0]) + len(texts[1]) - 1)
    assert _compose(scored) == texts[:1]


def test_better_sentence_of_another_passage_joins_the_best_passages_excerpt(passages):
    first, second = passages
    best = _scored(first, [0.6, 0.1, 0.1], bonus=1.0)
    rival = _scored(second, [0.7], bonus=0.5)  # better on its own, behind on the rank bonus

    answer = _compose([*best, *rival])

    assert answer[0] == best[0].text  # the best passage still leads
    assert rival[0].text in answer

    # A sentence of another passage of the same document that matches less well on its own
    # stays out (support comes from other documents).
    weaker = _scored(second, [0.5], bonus=0.5)
    assert weaker[0].text not in _compose([*best, *weaker])


def test_bulleted_item_stays_an_item_when_its_words_recur_on_many_pages(assistant):
    # "• Clinical coding" in a list, and "Clinical coding" as a heading on many other pages:
    # a running header or footer would carry no bullet. (The generated lists use "- ".)
    hit = next(
        h
        for h in map(assistant.index.hit_at, range(assistant.index.size))
        if any(
            s.role == "item" and s.marker == "-" for s in passage_sentences(h, boilerplate=set())
        )
    )
    items = [s for s in passage_sentences(hit, boilerplate=set()) if s.role == "item"]
    recurring = {normalise(s.text) for s in items}

    again = passage_sentences(hit, boilerplate=recurring)

    assert [s.text for s in again if s.role == "item"] == [s.text for s in items]
    # An unmarked line that recurs is still boilerplate.
    lines = [s for s in again if s.role != "item"]
    assert lines and all(
        s.role == "label"
        for s in passage_sentences(hit, boilerplate={normalise(s.text) for s in lines})
        if s.role != "item"
    )


def test_best_passages_next_best_sentence_joins_when_it_matches_nearly_as_well(
    passages, monkeypatch
):
    # A passage names its subject in one sentence and gives the fact two sentences on: the
    # sentence between them matches poorly, so the excerpt cannot run on to it.
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", 0)
    first, _ = passages
    near = _scored(first, [0.9, 0.1, 0.85], bonus=1.0)
    texts = [s.text for s in near]

    assert _compose(near) == [texts[0], texts[2]]  # in the passage's order

    # Further below the best than SECOND_MARGIN, it stays out.
    far = _scored(first, [0.9, 0.1, 0.9 - compose_module.SECOND_MARGIN - 0.05], bonus=1.0)
    assert _compose(far) == [texts[0]]


def test_another_passages_sentence_that_leans_back_comes_with_the_one_it_leans_on(
    assistant, passages
):
    # "Of these, 27% were ..." says nothing without "The 2021 equipment census counted 412 CT
    # and MRI scanners ...": a better-matching sentence of another passage that leans back is
    # quoted after the sentence before it, and that one only once.
    census = next(
        h
        for h in map(assistant.index.hit_at, range(assistant.index.size))
        if "Of these, 27%" in h.passage.text
    ).model_copy(update={"rank": 2})
    sentences = passage_sentences(census, boilerplate=set())
    at = next(i for i, s in enumerate(sentences) if s.text.startswith("Of these, 27%"))
    leaning, before = sentences[at], sentences[at - 1]
    first, _ = passages
    best = _scored(first, [0.5, 0.1, 0.1], bonus=1.0)

    answer = _compose([*best, leaning.with_(score=1.4, own=0.9)])

    assert answer[-2:] == [before.text, leaning.text]
    assert answer.count(before.text) == 1


@pytest.mark.parametrize(
    ("line", "row"),
    [
        ("Clinical Commissioning Group/Commissioning Support Unit 6.5%", True),  # a label
        ("Community healthcare provider 2.8%", True),  # prose: lower-case words
        ("Knowledge management Band 5 788 £33 2,199 £119", True),
        ("1 See Appendix D", False),  # a footnote
        ("← Our 2023/24 impact at a glance", False),  # a web page's navigation
        ("(https://www.example.org/impact-2023-24/)", False),  # a link
        ("Scanner type Count", False),  # a header row: no figure
        ("Table 3: Unreported examinations by network", False),  # a caption
        ("The census counted 412 scanners across the networks in 2021.", False),  # a sentence
    ],
)
def test_a_table_row_with_a_figure_may_answer_a_number_question(assistant, line, row):
    hit = assistant.index.hit_at(0)
    text = f"Networks were counted.\n{line}\nMore text follows here."
    passage = hit.passage.model_copy(update={"text": text, "section": "Counts"})
    sentences = passage_sentences(hit.model_copy(update={"passage": passage}), boilerplate=set())
    (sentence,) = [s for s in sentences if s.text == line]

    assert compose_module.quotable(sentence, AnswerKind.number) is (
        row or (sentence.role == "prose" and line.endswith("."))
    )
    assert compose_module._figure_row(sentence) is row


def test_a_sentence_that_names_a_table_answers_a_list_question_with_its_rows(assistant):
    """'Each of them is described in Table 2.': the list is the table's rows, even when its
    caption matches the question poorly (here it scores nothing)."""
    reference = "Each of them is described in Table 2."
    hits = [assistant.index.hit_at(row) for row in range(assistant.index.size)]
    hit = next(h.model_copy(update={"rank": 1}) for h in hits if reference in h.passage.text)
    scored = [
        s.with_(score=1.9 if s.text == reference else 1.0, own=0.9 if s.text == reference else 0.0)
        for s in assistant._sentences(hit)
    ]

    def answer(names_another=None):
        return compose(
            scored,
            AnswerKind.list_,
            {},
            neighbours=assistant._neighbour,
            sentences_of=assistant._sentences,
            question="What new roles will imaging networks need?",
            names_another=names_another,
        )

    composition = answer()
    assert composition.method == "list"
    assert [s.text for s in composition.sentences] == [
        "Network imaging manager",
        "Imaging informatics lead",
        "Reporting radiographer",
    ]
    # Named by a sibling's subject, another table's caption does not answer.
    assert answer(lambda caption: caption.text.startswith("Table 2:")).method != "list"


def test_a_table_printed_before_the_sentence_that_names_it_gives_the_rows(assistant):
    """A report often prints a table before the paragraph that names it ("...new job roles
    are identified in Table 7."): its rows are the list still."""
    reference = "The new roles are identified in Table 7."
    text = "\n\n".join(
        [
            "Table 7: New roles in imaging networks",
            "Job role Summary of role",
            "Network imaging manager",
            "Runs the shared services of the network day to day.",
            "Imaging informatics lead",
            "Looks after the shared picture archive and its links to every trust.",
            "Reporting radiographer",
            "Reports plain films within the scope the network sets.",
            f"Networks will recruit for these roles together. {reference}",
        ]
    )
    hit, sentences = _written(assistant, text, "New roles")
    anchor = next(s for s in sentences if s.text == reference)

    assert _items(anchor, hit, sentences) == [
        "Network imaging manager",
        "Imaging informatics lead",
        "Reporting radiographer",
    ]


def _list_answer(assistant, scored: list[Sentence], question: str, **options):
    """What compose makes of the scored sentences for a list question, with the assistant's
    neighbours, sentences and subheadings."""
    return compose(
        scored,
        AnswerKind.list_,
        {},
        neighbours=assistant._neighbour,
        sentences_of=assistant._sentences,
        subheadings=assistant._subheadings,
        question=question,
        **options,
    )


def _one_passage_list(scored: list[Sentence], hit: Hit, sentences: list[Sentence], question: str):
    """What compose makes of one passage's scored sentences for a list question."""
    return compose(
        scored,
        AnswerKind.list_,
        {},
        neighbours=lambda h, step: None,
        sentences_of=lambda h: sentences if h is hit else [],
        question=question,
    )


def _priorities_and_another(assistant, *, heading_own: float) -> tuple[Sentence, list[Sentence]]:
    """The sentences of the passage headed "8 Priorities for imaging networks" (rank 1), the
    heading scoring `heading_own`, the others 0.1, and the best sentence (0.7) of a passage of
    another document (rank 2), first; the rank bonus is 1.0."""
    heading = "8 Priorities for imaging networks"
    hits = [assistant.index.hit_at(row) for row in range(assistant.index.size)]
    hit = next(h.model_copy(update={"rank": 1}) for h in hits if h.passage.section == heading)
    other = next(
        h.model_copy(update={"rank": 2})
        for h in hits
        if h.passage.doc_id != hit.passage.doc_id and _prose(h)
    )
    best = _prose(other)[0].with_(score=1.7, own=0.7)
    return best, [best] + [
        s.with_(score=1.0 + own, own=own)
        for s in assistant._sentences(hit)
        for own in [heading_own if s.text == heading else 0.1]
    ]


@pytest.mark.parametrize(
    ("question", "lists"),
    [
        ("What priorities should imaging networks set?", True),
        # "networks" follows "for": the heading is about priorities, not a list of networks.
        ("What are the networks that imaging services belong to?", False),
    ],
)
def test_a_heading_names_what_it_lists_by_its_head_noun(assistant, question, lists):
    """'8 Priorities for imaging networks' heads a list of priorities: the bonus for naming
    what the question lists goes to the noun before its first preposition, not after."""
    # The best sentence elsewhere scores 0.7, the heading 0.4, the line under it less: only
    # the bonus for naming the listed things (0.2) takes the heading to the list's floor.
    best, scored = _priorities_and_another(assistant, heading_own=0.4)
    composition = _list_answer(assistant, scored, question)

    subheadings = [
        "8.1 Shared reporting worklists",
        "8.2 Joint procurement of scanners",
        "8.3 Common training for radiographers",
    ]
    if lists:
        assert composition.method == "list"
        assert [s.text for s in composition.sentences] == subheadings
    else:
        assert composition.method == "sentence"
        assert composition.sentences[0].text == best.text


@pytest.mark.parametrize(
    ("question", "lists"),
    [
        ("What should imaging networks prioritise?", True),  # the question names nothing
        ("What priorities should imaging networks set?", True),
        # The question names what it lists, and the heading names something else.
        ("What topics should imaging networks discuss?", False),
    ],
)
def test_a_heading_lists_its_subheadings_only_if_it_names_what_is_asked(assistant, question, lists):
    """However well '8 Priorities for imaging networks' matches, its subheadings are
    priorities: a list of them does not answer a question about topics."""
    best, scored = _priorities_and_another(assistant, heading_own=0.9)
    composition = _list_answer(assistant, scored, question)

    assert (composition.method == "list") is lists
    first = "8.1 Shared reporting worklists" if lists else best.text
    assert composition.sentences[0].text == first


def test_a_heading_whose_subheadings_run_on_for_pages_heads_sections_not_a_list(
    assistant, monkeypatch
):
    """'8 Priorities for imaging networks' lists its subheadings, all on its own page. A
    heading whose subheadings run on for more than SUBHEADING_PAGES pages heads a chapter of
    sections (in the shared corpus "4. Background and conceptual framework", whose nine
    sections run from p. 35 to p. 40, was quoted as a list of headings): it lists none."""
    _, scored = _priorities_and_another(assistant, heading_own=0.9)
    heading = next(s for s in scored if s.text == "8 Priorities for imaging networks")
    listed = [s.text for s in assistant._subheadings(heading)]
    assert listed[:3] == [
        "8.1 Shared reporting worklists",
        "8.2 Joint procurement of scanners",
        "8.3 Common training for radiographers",
    ]
    # The same subheadings, held to end before the heading's own page does.
    monkeypatch.setattr(answer_module, "SUBHEADING_PAGES", -1)
    assert assistant._subheadings(heading) == []


def test_a_list_whose_anchor_is_about_something_else_does_not_answer(assistant):
    """'8 Priorities for imaging networks' may score well enough to answer "What should
    hospices focus on?" (which names nothing that a heading could name) by the model's cosine
    alone, but neither the heading nor the sentences around it use a word of that question:
    its subheadings list something else, and the best sentence answers instead."""
    best, scored = _priorities_and_another(assistant, heading_own=0.8)
    question = "What should hospices focus on?"

    def answer(about):
        return _list_answer(assistant, scored, question, about=about)

    # Without the check, the heading's subheadings answer.
    assert answer(None).method == "list"
    composition = answer(lambda text: assistant._on_topic(text, question))
    assert composition.method == "sentence"
    assert composition.sentences[0].text == best.text
    # Asked in its words, the same heading lists its priorities.
    about = lambda text: assistant._on_topic(text, "What should imaging networks prioritise?")  # noqa: E731
    assert answer(about).method == "list"


def test_a_how_many_question_prefers_the_sentence_that_counts_its_noun(passages):
    """Within KIND_MARGIN of the best, "It includes a list of 22 skills" answers "How many
    skills...?" before a closer sentence whose only number counts something else."""
    first, _ = passages
    texts = [
        "The framework draws on the top 10 skills predictions for 2022 and workshops.",
        "It was developed by the institute with partners over two years.",
        "It includes a list of 22 skills that fall into three categories.",
    ]
    ranked = _worded(first, texts, [0.9, 0.8, 0.7])[:3]

    chosen = compose_module._preferred(ranked, AnswerKind.number, "", "skills")
    assert chosen.text == texts[2]
    # Further down than KIND_MARGIN, the counting sentence is not preferred.
    far = [*ranked[:2], ranked[2].with_(score=ranked[0].score - compose_module.KIND_MARGIN - 0.01)]
    assert compose_module._preferred(far, AnswerKind.number, "", "skills").text == texts[0]
    # Without a counted noun, the best sentence holding a number answers.
    assert compose_module._preferred(ranked, AnswerKind.number).text == texts[0]


def test_a_by_how_much_question_prefers_the_sentence_that_states_a_change(passages):
    """Within KIND_MARGIN of the best, "an increase of 824 per cent" answers "By what
    percentage must senior leadership grow?" before a closer sentence giving a share reached."""
    first, _ = passages
    texts = [
        "Professional staff will need to increase to 44 per cent and senior leaders to 11 per cent.",
        "Those in a managerial role will need to rise to 24 per cent.",
        "Senior leadership roles will rise from 40 WTEs to 380 WTEs, an increase of 824 per cent.",
    ]
    ranked = _worded(first, texts, [0.9, 0.8, 0.7])[:3]

    chosen = compose_module._preferred(ranked, AnswerKind.number, "percent", change=True)
    assert chosen.text == texts[2]
    # Not asked for a change, or further down than KIND_MARGIN, the best sentence answers.
    assert compose_module._preferred(ranked, AnswerKind.number, "percent").text == texts[0]
    far = [*ranked[:2], ranked[2].with_(score=ranked[0].score - compose_module.KIND_MARGIN - 0.01)]
    assert (
        compose_module._preferred(far, AnswerKind.number, "percent", change=True).text == texts[0]
    )


def test_the_passages_sentence_with_the_rate_asked_for_joins_a_best_sentence_without_it(
    passages, monkeypatch
):
    """ "How quickly...grow?" wants a rate. The top sentence (another passage) holds no
    number; the best passage's "next 10 years" is not a rate, so that passage's sentence that
    gives one joins while within KIND_MARGIN of it (not only SECOND_MARGIN)."""
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", 0)  # see the rule alone
    first, second = passages
    texts = [
        "Coding will develop in the next 10 years through automated systems.",
        "They employ natural language processing to allocate the codes.",
        "The global market for automated coding will grow by 12 per cent per year.",
    ]
    own = [0.9, 0.2, 0.9 - (compose_module.SECOND_MARGIN + compose_module.KIND_MARGIN) / 2]
    best = _worded(first, texts, own)
    top = _scored(second, [0.95], bonus=1.0 + compose_module.KIND_MARGIN - 0.05)[0]
    top = top.with_(text="The adoption of automated systems requires trained coders.")
    scored = [top, *best]

    def answer(question: str) -> list[str]:
        of = lambda hit: best if hit is first else [top]  # noqa: E731
        return _answer(scored, AnswerKind.number, question, sentences_of=of)

    assert answer("How quickly is the market for these systems expected to grow?") == [
        texts[0],
        texts[2],
    ]
    # Any number will do for "how many": the best sentence holds one, and stands alone.
    assert answer("How many coding systems are in use?") == [texts[0]]


def _answer_fact(hit: Hit, texts: list[str], scores: list[float], question: str) -> list[str]:
    """The answer to a fact question from one passage whose first prose run is `texts`,
    scored `scores` (see `_worded`)."""
    sentences = _worded(hit, texts, scores)
    return _answer(sentences, AnswerKind.fact, question, sentences_of=lambda _: sentences)


def test_the_passages_sentence_with_a_figure_joins_the_answer_to_a_yes_or_no_question(
    passages, monkeypatch
):
    """ "Is it harder...?" is settled by a figure more often than not: the best sentence
    holds none, so the passage's sentence that gives one joins while within KIND_MARGIN."""
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", 0)  # see the rule alone
    first, _ = passages
    texts = [
        "Respondents in rural areas said that it was particularly difficult to recruit.",
        "Suitable candidates are drawn to cities and towns.",
        "Rural organisations had an average of 29% of positions vacant.",
    ]
    own = [0.9, 0.2, 0.9 - (compose_module.SECOND_MARGIN + compose_module.KIND_MARGIN) / 2]

    def answer(question: str) -> list[str]:
        return _answer_fact(first, texts, own, question)

    assert answer("Is it harder to recruit analysts in rural areas?") == [texts[0], texts[2]]
    # A question no yes or no answers gets the best sentence alone.
    assert answer("Why do rural areas find it hard to recruit analysts?") == [texts[0]]


def test_a_comparison_gets_the_figures_of_both_sides(passages, monkeypatch):
    """ "...harder in rural areas than in towns?": the figure that joins brings its
    neighbour with the other side's."""
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", 0)  # see the rule alone
    first, _ = passages
    texts = [
        "Respondents in rural areas said that it was particularly difficult to recruit.",
        "Rural organisations had an average of 29% of positions vacant.",
        "Urban organisations had an average of 16%.",
    ]
    own = [0.9, 0.9 - (compose_module.SECOND_MARGIN + compose_module.KIND_MARGIN) / 2, 0.1]

    def answer(question: str) -> list[str]:
        return _answer_fact(first, texts, own, question)

    assert answer("Is it harder to recruit analysts in rural areas than in towns?") == texts
    assert answer("Is it hard to recruit analysts in rural areas?") == texts[:2]


def test_the_passages_sentence_holding_a_list_joins_when_a_list_was_asked_for(
    passages, monkeypatch
):
    """ "What kinds of attitudes...?" and no list found: the best sentence only names the
    attitudes, so the passage's sentence that lists them inline joins within KIND_MARGIN."""
    monkeypatch.setattr(compose_module, "RUN_ON_CHARS", 0)  # see the rule alone
    first, _ = passages
    texts = [
        "Training must take into account the attitudes of staff that act as barriers.",
        "Clinicians place great importance on patient safety in every service.",
        "Barriers also include fear of change, poor previous experience with digital "
        "products, and being unprepared to engage with new systems.",
    ]
    own = [0.7, 0.2, 0.7 - (compose_module.SECOND_MARGIN + compose_module.KIND_MARGIN) / 2]
    scored = [s.with_(text=t) for s, t in zip(_scored(first, own, bonus=1.0), texts, strict=False)]

    def answer(question: str) -> list[str]:
        return _answer(scored, AnswerKind.fact, question, sentences_of=lambda hit: scored)

    assert answer("What kinds of staff attitudes hold back new technology?") == [
        texts[0],
        texts[2],
    ]
    # A question that asks for no list gets the best sentence alone.
    assert answer("Why does training need to change?") == [texts[0]]


def test_a_table_rows_name_over_its_description_may_be_long(assistant):
    """A role named with what it includes ("The C Suite (CXIO) including chief information
    officer, ... (leading practitioner)", 21 words) is still a row: its description follows."""
    reference = "Each of them is described in Table 2."
    hits = [assistant.index.hit_at(row) for row in range(assistant.index.size)]
    hit = next(h.model_copy(update={"rank": 1}) for h in hits if reference in h.passage.text)
    long_name = (
        "The network leadership team including the clinical director, the imaging manager, "
        "the PACS lead, the informatics lead and the director of operations (senior practitioner)"
    )
    assert compose_module.MAX_ROW_WORDS < len(long_name.split()) <= compose_module.MAX_NAME_WORDS
    scored = [
        s.with_(
            score=1.9 if s.text == reference else 1.0,
            own=0.9 if s.text == reference else 0.0,
            text=long_name if s.text == "Network imaging manager" else s.text,
        )
        for s in assistant._sentences(hit)
    ]
    composition = compose(
        scored,
        AnswerKind.list_,
        {},
        neighbours=assistant._neighbour,
        sentences_of=lambda h: scored if h.passage.id == hit.passage.id else [],
        question="What new roles will imaging networks need?",
    )
    assert composition.method == "list"
    assert [s.text for s in composition.sentences] == [
        long_name,
        "Imaging informatics lead",
        "Reporting radiographer",
    ]


@pytest.mark.parametrize(
    ("section", "answers"),
    [
        # An appendix holds guidance: how a survey was run, the methods, the tables.
        ("Appendix E: How was the survey sent out?", True),
        ("Annex B: Methodology", True),
        ("Results of the survey", True),
        # Lists of other documents, and the front matter, do not.
        ("8. References", False),
        ("Bibliography", False),
        ("Contents", False),
        ("Acknowledgements", False),
    ],
)
def test_a_sentence_answers_unless_its_section_lists_sources_or_contents(
    assistant, section, answers
):
    hit = assistant.index.hit_at(0)
    line = "The survey was sent to distribution lists and promoted on social media."
    passage = hit.passage.model_copy(update={"text": f"{section}\n\n{line}", "section": section})
    sentences = passage_sentences(hit.model_copy(update={"passage": passage}), boilerplate=set())
    (sentence,) = [s for s in sentences if s.text == line]

    assert sentence.role == ("prose" if answers else "label")
    assert compose_module.quotable(sentence, AnswerKind.fact) is answers


def test_a_sentence_case_heading_over_bullets_leads_into_its_list(assistant):
    # "Specific roles (skills) being hard to recruit for" over "• Policy-facing analysts"...
    # is a heading in sentence case: it leads into its list and never answers alone, while a
    # line that ends like a sentence stays prose, and so does an unfinished line over prose.
    hit = assistant.index.hit_at(0)
    text = (
        "Themes\n\nSpecific roles being hard to recruit for in most regions\n\n"
        "• Policy-facing analysts\n\n• Data warehouse roles\n\n"
        "Most teams reported vacancies in band 6 and band 7 roles.\n\n"
        "• Band 6 - 10 responses\n\n"
        "Several teams described turnover among junior analysts as\n\n"
        "Responses came from all regions of England this year."
    )
    passage = hit.passage.model_copy(update={"text": text, "section": "Themes"})
    sentences = passage_sentences(hit.model_copy(update={"passage": passage}), boilerplate=set())
    role = {s.text: s.role for s in sentences}

    assert role["Specific roles being hard to recruit for in most regions"] == "lead-in"
    assert role["Most teams reported vacancies in band 6 and band 7 roles."] == "prose"
    assert role["Several teams described turnover among junior analysts as"] == "prose"
    heading = next(s for s in sentences if s.text.startswith("Specific roles"))
    assert not compose_module.quotable(heading, AnswerKind.fact)
    assert not compose_module.quotable(heading, AnswerKind.list_)


def _sentence_starting(assistant, start: str) -> Sentence:
    """The first sentence of the generated corpus that starts with `start`."""
    for row in range(assistant.index.size):
        hit = assistant.index.hit_at(row)
        for sentence in assistant._sentences(hit):
            if sentence.text.startswith(start):
                return sentence
    pytest.fail(f"no sentence starting {start!r} in the generated corpus")


@pytest.mark.parametrize(
    ("start", "noun", "first_items"),
    [
        # The review's labelled recommendations, over a page break and the paragraphs and
        # subheadings between them; the principles (A., B., C.) listed first are not them.
        ("3 Recommendations", "recommendation", ["Recommendation 1:", "Recommendation 4:"]),
        # No item is labelled "Principle 1:": the principles are found as a plain list.
        ("3 Recommendations", "principle", []),
        # A series of another label: not what was asked for.
        ("2 Recommendations", "recommendation", []),
        # After "Recommendation 1:", the series does not start again: "Recommendation 2:" on
        # is not the list (as "Workstream 3:" pages on heads one workstream's section).
        ("Reporting radiographers take on", "recommendation", []),
    ],
)
def test_series_is_the_items_labelled_by_what_the_question_lists(
    assistant, start, noun, first_items
):
    anchor = _sentence_starting(assistant, start)
    items = compose_module._series(anchor, assistant._neighbour, assistant._sentences, noun)

    assert [s.text.split(" ", 2)[:2] for s in items[:1] + items[-1:]] == [
        item.split() for item in first_items
    ]
    assert all(s.role == "item" and s.marker == "Recommendation" for s in items)
    assert [s.number for s in items] == list(range(1, len(items) + 1))


def test_a_numbered_heading_is_its_passages_section_not_a_list_item(assistant):
    """ "4. Next steps" opens its paragraph with a number, as list items do; it is the
    passage's section heading, so it never answers, while "1. Train..." under it is an item."""
    text = "4. Next steps\n\n1. Train more reporting radiographers in every network."
    _, sentences = _written(assistant, text, "4. Next steps")

    assert [(s.text, s.role) for s in sentences] == [
        ("4. Next steps", "label"),
        ("1. Train more reporting radiographers in every network.", "item"),
    ]
    assert not compose_module.quotable(sentences[0], AnswerKind.list_)


@pytest.mark.parametrize(
    ("line", "role"),
    [
        ("The following is a summary of the key findings from the survey.", "lead-in"),
        ("See Table 2 and Figure 2 below for average team sizes by organisation type.", "lead-in"),
        ("The distribution of barriers are listed below.", "lead-in"),
        ("The following year, the networks doubled their reporting capacity.", "prose"),
    ],
)
def test_a_sentence_that_only_points_elsewhere_leads_in_and_never_answers(assistant, line, role):
    text = f"Networks were counted in 2021.\n{line}\nMore text follows here."
    _, sentences = _written(assistant, text, "Counts")
    (sentence,) = [s for s in sentences if s.text == line]

    assert sentence.role == role
    assert role == "prose" or not compose_module.quotable(sentence, AnswerKind.fact)


def test_a_tables_header_row_over_rows_with_figures_is_not_a_row(assistant):
    """ "Barrier to recruitment Count" names the columns of the rows under it, each with its
    count: the list is the rows."""
    rows = ["Specific technical skills 34", "Pay scales 26", "Banding restrictions 24"]
    text = "\n\n".join(
        [
            "Team leads were asked what stops them hiring.",
            "Table 3: Barriers to recruitment",
            "Barrier to recruitment Count",
            *rows,
            "Most barriers concern pay and skills rather than the number of applicants.",
        ]
    )
    table, sentences = _written(assistant, text, "Barriers to hiring")
    caption = next(s for s in sentences if s.text.startswith("Table 3"))

    assert _items(caption, table, sentences) == rows


@pytest.mark.parametrize("anchor", [0, 1])
def test_names_one_per_line_after_a_lead_in_are_its_list(assistant, anchor):
    """A list printed without bullets, one name per line, after a line that leads into it:
    the lines are its items, up to the first sentence; the heading over the lead-in heads
    the same list."""
    names = ["Health Education England", "NHS Digital", "Royal College of Radiologists"]
    text = "\n".join(
        [
            "Key stakeholders\n",
            "The organisations that will benefit from reading the report include the following:",
            *names,
            "Each of them took part in the workshops held for this review.",
        ]
    )
    listing, sentences = _written(assistant, text, "Key stakeholders")

    assert [s.role for s in sentences[:2]] == ["label", "lead-in"]
    assert _items(sentences[anchor], listing, sentences) == names


@pytest.mark.parametrize(
    ("line", "fact", "listed"),
    [
        ("• Health Education England – North East and North Cumbria", False, True),
        ("4. Establishing the National Imaging Academy", False, True),
        ("• Train two hundred more reporting radiographers each year", True, True),
        ("Recommendation 3: Offer flexible rotas to all radiographers.", True, True),
    ],
)
def test_an_item_that_names_rather_than_says_answers_only_in_its_list(
    assistant, line, fact, listed
):
    text = f"The review heard from these people:\n\n{line}\n\nMore text follows here."
    _, sentences = _written(assistant, text, "Contributors")
    (item,) = [s for s in sentences if s.role == "item"]

    assert compose_module.quotable(item, AnswerKind.fact) is fact
    assert compose_module.quotable(item, AnswerKind.list_) is listed


def test_what_a_pointer_points_to_answers_in_its_place(assistant):
    """ "The following is a summary of the key vacancy findings." matches the question best
    but says nothing; the sentence after it, the finding, answers in its place."""
    lines = [
        "The survey asked every team about its vacancies in March.",
        "The following is a summary of the key vacancy findings from the survey.",
        "Sixty-eight of the 118 teams said they had vacancies, 194.79 WTE in all.",
        "Most teams hold a weekly meeting to plan their reporting work.",
    ]
    _, sentences = _written(assistant, "\n".join(lines), "Vacancies")
    owns = dict(zip(lines, [0.7, 0.83, 0.55, 0.1], strict=True))
    scored = [s.with_(score=owns[s.text] + 1.0, own=owns[s.text]) for s in sentences]

    assert scored[1].role == "lead-in"
    assert _compose(scored)[0] == lines[2]
    assert lines[1] not in _compose(scored)


def test_outside_its_list_an_item_answers_a_list_question_only_as_a_sentence(assistant):
    """A lone item that names ("• Health Education England") is no answer to a list
    question whose list is not found: the prose beside it answers."""
    lines = [
        "The review makes its conclusions in its final chapter about regional training.",
        "• Health Education England",
        "More text follows here about other matters entirely.",
    ]
    _, sentences = _written(assistant, "\n\n".join(lines), "Conclusions")
    owns = dict(zip(lines, [0.6, 0.9, 0.1], strict=True))
    owns["Health Education England"] = 0.9
    scored = [
        s.with_(score=owns.get(s.text, 0.0) + 1.0, own=owns.get(s.text, 0.0)) for s in sentences
    ]
    composition = compose(
        scored,
        AnswerKind.list_,
        {},
        neighbours=lambda hit, step: None,
        sentences_of=lambda hit: sentences,
        question="What are the conclusions of the review?",
    )

    assert [s.text for s in composition.sentences] == [lines[0]]


def test_a_sentence_cut_by_its_passages_end_is_quoted_whole_from_the_next(assistant):
    """Passages overlap: one ends inside a sentence that runs over a page break, the next
    opens with it whole. The answer quotes it whole, from the passage that holds both
    pages, never the part."""
    part = "Capital bids should plan for the staff who run each scanner and work with"
    rest = "the estates team on the sites where it will stand."
    hit, sentences = _written(assistant, f"Networks were counted in 2021.\n{part}", "Bids")
    page = hit.passage.first_page
    after = hit.passage.model_copy(
        update={
            "ordinal": hit.passage.ordinal + 1,
            "text": f"{part}\n\n{rest}\n\nNetworks meet every month.",
            "first_page": page,
            "last_page": page + 1,
            "spans": [
                PageSpan(page=page, start=100, end=100 + len(part)),
                PageSpan(page=page + 1, start=0, end=len(rest) + 28),
            ],
        }
    )
    next_hit = hit.model_copy(update={"passage": after, "rank": 7})
    own = {"Networks were counted in 2021.": 0.3, part: 0.8}
    scored = [s.with_(own=own[s.text], score=own[s.text] + 1.0) for s in sentences]

    def quoted(neighbour: Hit | None) -> list[Sentence]:
        composition = compose(
            scored,
            AnswerKind.fact,
            {},
            neighbours=lambda h, step: neighbour if h is hit and step == 1 else None,
            sentences_of=lambda h: passage_sentences(h, boilerplate=set()),
        )
        return composition.sentences

    (whole,) = [s for s in quoted(next_hit) if s.text.startswith("Capital")]
    assert whole.text == f"{part} {rest}"
    assert whole.hit.passage is after and whole.hit.rank == 1
    assert {compose_module.page_at(after, o) for o in (whole.start, whole.end - 1)} == {
        page,
        page + 1,
    }
    # Without the next passage there is nothing whole to quote: the part stays as it was.
    assert part in [s.text for s in quoted(None)]


@pytest.mark.parametrize(
    ("label", "noun"),
    [
        ("Recommendation {}:", "recommendations"),
        # Bulleted, the label opening each item's text: "• Stage 1: ...".
        ("• Stage {}:", "stages"),
    ],
)
def test_a_series_labelled_by_another_noun_does_not_list_what_is_asked(assistant, label, noun):
    """Asked for jobs, the "Recommendation 1:"... under a heading that matches the question
    are recommendations, whichever mentions jobs: that one answers as a sentence, not the
    series as the list of jobs."""
    heading = "Workforce supply for new jobs"
    lines = [
        "Create new reporting radiographer jobs in every network.",
        "Fund a training academy in every imaging network.",
        "Publish vacancy rates for every network each quarter.",
    ]
    items = [f"{label.format(n)} {line}" for n, line in enumerate(lines, start=1)]
    hit, sentences = _written(assistant, "\n\n".join([heading, "\n".join(items)]), heading)
    first = items[0].removeprefix("• ")
    own = {heading: 0.8, first: 0.6}
    scored = [s.with_(own=own.get(s.text, 0.3), score=own.get(s.text, 0.3) + 1) for s in sentences]

    def answer(question: str):
        return _one_passage_list(scored, hit, sentences, question)

    jobs = answer("What new jobs should networks create?")
    assert jobs.method == "sentence" and [s.text for s in jobs.sentences][:1] == [first]
    assert len([s for s in jobs.sentences if s.text.startswith(first[:5])]) == 1
    # Asked for what labels them, the series is the list.
    listed = answer(f"What are the {noun} for networks?")
    assert listed.method == "list" and len(listed.sentences) == 3


def test_a_bullet_explained_by_a_paragraph_of_its_own_keeps_its_list_going(assistant):
    """A list whose bullets each have a paragraph of explanation under them ("• Free-text
    fields." then "For each area of work, participants were asked...") goes on after each
    paragraph; two paragraphs between bullets end it."""
    explained = "\n\n".join(
        [
            "The toolkit comprised:",
            "• Descriptions of the two future scenarios for imaging.",
            "Each scenario sets out how imaging data is used by 2030. It was written with "
            "the national team. Leads were asked to read both before they started.",
            "• A description of a typical acute trust and its imaging department.",
            "The trust has 6,000 staff and two CT scanners.",
            "• Free-text fields for comments on new jobs and skills.",
        ]
    )
    hit, sentences = _written(assistant, explained, "Workforce demand toolkit")
    lead_in = next(s for s in sentences if s.text == "The toolkit comprised:")
    assert lead_in.role == "lead-in"
    assert _items(lead_in, hit, sentences) == [
        "Descriptions of the two future scenarios for imaging.",
        "A description of a typical acute trust and its imaging department.",
        "Free-text fields for comments on new jobs and skills.",
    ]

    # Two paragraphs between bullets: the prose in between is not about the item before it.
    ended = explained.replace(
        "\n\n• A description", "\n\nThe exercise ran in the autumn.\n\n• A description"
    )
    hit, sentences = _written(assistant, ended, "Workforce demand toolkit")
    lead_in = next(s for s in sentences if s.text == "The toolkit comprised:")
    assert _items(lead_in, hit, sentences) == [
        "Descriptions of the two future scenarios for imaging."
    ]


def test_what_a_thing_is_made_of_is_the_list_after_a_line_naming_it(assistant):
    """ "What did the toolkit comprise?" is answered by the list that follows "The toolkit
    comprised:", though another list matches the question better; and "What does the clinical
    coding area of work consist of?" is not answered by the areas of work, the list that holds
    clinical coding among its siblings."""
    text = "\n\n".join(
        [
            "Areas of work for the imaging informatics workforce:",
            "\n".join(["• Clinical coding", "• Health records", "• Knowledge management"]),
            "The toolkit comprised:",
            "\n".join(
                [
                    "• Descriptions of the two future scenarios for imaging.",
                    "• A description of a typical acute trust and its imaging department.",
                    "• Free-text fields for comments on new jobs and skills.",
                ]
            ),
        ]
    )
    hit, sentences = _written(assistant, text, "Demand forecasting")
    own = {
        "Areas of work for the imaging informatics workforce:": 0.8,
        "The toolkit comprised:": 0.6,
    }
    scored = [s.with_(own=own.get(s.text, 0.3), score=own.get(s.text, 0.3) + 1) for s in sentences]
    assert set(own) <= {s.text for s in scored if s.role == "lead-in"}

    def answer(question: str):
        return _one_passage_list(scored, hit, sentences, question)

    toolkit = answer("What did the toolkit comprise?")
    assert toolkit.method == "list"
    assert toolkit.sentences[0].text.startswith("Descriptions of the two")
    assert len(toolkit.sentences) == 3
    # Asked for a list by what it lists, the better match answers, as before.
    areas = answer("What are the areas of work for the informatics workforce?")
    assert [s.text for s in areas.sentences] == [
        "Clinical coding",
        "Health records",
        "Knowledge management",
    ]
    coding = answer("What does the clinical coding area of work consist of?")
    assert "Health records" not in [s.text for s in coding.sentences]


def test_a_list_set_out_as_subheadings_lists_the_subheadings(assistant):
    """After "Three themes emerged from the review:", each theme a line of its own over its
    paragraph, the themes are the list, not every paragraph's first sentence."""
    text = "\n\n".join(
        [
            "Three themes emerged from the review:",
            "Shared asset registers across the network",
            "Networks that keep one shared register replace their scanners sooner.",
            "Joint procurement of new scanners",
            "Buying scanners together through joint procurement lowers their price.",
            "Trained radiographers from the first day",
            "New scanners need trained radiographers from their first day in service.",
        ]
    )
    hit, sentences = _written(assistant, text, "Review of replacement plans")
    lead_in = next(s for s in sentences if s.text == "Three themes emerged from the review:")
    assert _items(lead_in, hit, sentences) == [
        "Shared asset registers across the network",
        "Joint procurement of new scanners",
        "Trained radiographers from the first day",
    ]


@pytest.mark.parametrize(
    ("before", "lists"),
    [
        # A caption names the table; the lead-in under it says what its line lists.
        ("Table 4: Description of the network imaging strategy used in the review", False),
        # A sentence that says something: the lead-in leans on it ("...Three drivers:").
        ("The review of the network imaging strategy found three drivers.", True),
    ],
)
def test_a_lead_in_leans_on_the_sentence_before_it_not_on_a_caption(assistant, before, lists):
    lead_in = "Scenario A key drivers:"
    line = "Shared worklists; joint procurement; common training for radiographers."
    text = "\n\n".join([before, lead_in, line, "Networks should publish their plans each year."])
    hit, sentences = _written(assistant, text, "Strategy")
    own = {
        before: 0.8,
        lead_in: 0.2,
        line: 0.3,
        "Networks should publish their plans each year.": 0.5,
    }
    scored = [s.with_(own=own.get(s.text, 0.3), score=own.get(s.text, 0.3) + 1) for s in sentences]
    assert {s.text: s.role for s in scored}[lead_in] == "lead-in"

    answer = _one_passage_list(scored, hit, sentences, "What does the strategy review say?")

    assert (answer.method == "list") is lists, [s.text for s in answer.sentences]
