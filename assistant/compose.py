"""Composes an answer from retrieved passages: which verbatim sentences, in which order.

The recipe (no language model: every word is quoted from a cited passage):
1. Cut the top passages into sentences and say what each is: prose, a list item, a line that
   leads into a list, or a label that must never answer alone (a title, heading, signature,
   caption, a line repeated on many pages).
2. Score each sentence against the question: embedding cosine plus keyword overlap; for a date
   or number question, prefer sentences that hold one.
3. A list question gets the list itself: the items under the best-matching lead-in or heading,
   in order, followed across passages (and page breaks) while the list goes on.
4. Otherwise an excerpt of the best passage: its best sentence, with the sentence before it
   when it leans on it ("This...", "He..."), running on into the next while it stays short;
   the sentence that matches best on its own when another passage holds it; then at most two
   supporting sentences from other documents.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, takewhile

import numpy as np

from assistant.intent import (
    CHANGE_TEXT,
    COUNT_WORDS,
    AnswerKind,
    asks_about_things,
    asks_change,
    asks_yes_no,
    counted_noun,
    counts,
    holds_kind,
    kind_strength,
    list_noun,
    noun_pattern,
    number_unit,
    parts_of,
)
from index.sentences import sentence_spans
from index.types import Hit
from ingest.types import Passage

MIN_WORDS = 6  # shorter prose "sentences" are mostly headings, bullets of nouns and table cells
MIN_ITEM_WORDS = 2
KEYWORD_WEIGHT = 0.3  # weight of the share of the question's keywords a sentence contains
UNFINISHED_PENALTY = 0.05  # for sentences that do not end like one
# A date/number sentence (or the best passage's sentence with the asked-for figure or list)
# is preferred while within this of the best: 0.35 chosen on the development sets (dev,
# dev_lists, dev_fresh); 0.25 missed figures one sentence away, 0.2 lost list answers.
KIND_MARGIN = 0.35
KIND_PENALTY = 0.1  # for a date/number question, a sentence without one
EXTEND_MARGIN = 0.1  # the next sentence joins the excerpt while within this of the best
SUPPORT_MARGIN = 0.12  # supporting sentences from other documents score within this of the best
MAX_SUPPORT = 2
# The excerpt runs on into its next sentence while the whole stays within this many characters
# (three sentences at most): a sentence naming the subject is often followed by the one with
# the figure ("...the toolkit. Almost 90% of care homes are now compliant (88%...)").
RUN_ON_CHARS = 600
MAX_EXCERPT = 3
SECOND_MARGIN = 0.1  # the best passage's next-best sentence joins while within this of the best
SECOND_CHARS = 800  # and while the excerpt stays this short
LIST_MARGIN = 0.20  # a list answers a list question while within this of the best sentence
INLINE_MARGIN = 0.1  # a sentence holding a list answers a list question while within this
MAX_ITEMS = 12
MAX_LIST_PASSAGES = 8  # passages a list is followed across
MAX_SERIES_PASSAGES = 16  # and a series labelled by what is asked ("Recommendation 1:")
MAX_SERIES = 20  # items of such a series quoted
SERIES_MARGIN = 0.05  # a series' items this close to its best match answer a question on a topic
ASIDE = 2  # sentences between bulleted items: a caption or a short aside
EXPLANATION = 4  # or a paragraph of its own this long, under the item before
LOOKAHEAD = 3  # sentences after an anchor within which its list must start
DUPLICATE_COSINE = 0.92  # sentences this similar say the same thing (summary vs full report)
SUPERSEDED_PENALTY = 0.05

COMPARES = re.compile(r"\bthan\b|\bcompared (?:with|to)\b|\b(?:versus|vs)\b", re.I)
TABLE_CAPTION = re.compile(r"^Table\s*[\dA-Z]+(?:\.\d+)*\s*[:.–-]", re.I)
# Prose that sends the reader to a table for the list: "...new job roles are identified in
# Table 6C.1.", "(see Table 3)".
TABLE_REFERENCE = re.compile(
    r"\b(?:in|see|shown in|listed in|set out in|given in|detailed in)\s+Table\s*"
    r"(?P<label>\d+[A-Z]?(?:\.\d+)*)\b"
)
# A sentence that only points to what follows or to elsewhere leads into it, and never
# answers: "The following is a summary of the key vacancies findings from the survey.",
# "See Table 2 and Figure 2 below for average sizes...", "The distribution of barriers are
# listed below."
POINTER = re.compile(
    r"^(?:The following (?:is|are|was|were|shows?|sets? out|lists?|summari[sz]es?|table|"
    r"figure|section|chart|graph|pages?)\b|(?:Please )?see\b|.*\b(?:below|as follows)\W*$)",
    re.I,
)
FIGURE_CAPTION = re.compile(r"^(?:Figure|Chart|Box|Diagram)\s*[\dA-Z]+(?:\.\d+)*\s*[:.–-]", re.I)
MAX_ROW_WORDS = 12
# A row's name over its description may run longer: "The C Suite (CXIO) including chief
# information officer, ..., and director of transformation (leading practitioner)", 21 words.
MAX_NAME_WORDS = 30
MAX_DESCRIPTION = 6  # sentences of prose under a table row; more, and the table has ended
MIN_DESCRIPTION_WORDS = 3  # "Emerging, new role."
CAPTION = re.compile(r"^(Figure|Table|Chart|Box|Source|Note|Notes)\s*[\dA-Z.]*\s*[:.–-]", re.I)
FINISHED = re.compile(r"[.!?][\"')\]”’]?$")
# Sections that list sources or contents rather than say anything. (Appendices and annexes
# do say: how a survey was sent out, its methods, its tables; a third of one report's passages.)
NOT_GUIDANCE = re.compile(
    r"\b(references|bibliography|endnotes|glossary|acknowledgements|contents)\b",
    re.I,
)
# An item's marker: a bullet, "a)", "(ii)", "1.", "A." or a numbered label ("Recommendation 3:").
LABEL = re.compile(r"^(?P<word>[A-Z][a-z]+)\s+(?P<number>\d{1,2})\s*[:.–-]\s")
ENUMERATOR = re.compile(r"^\(?(?:[a-z]|[ivx]{1,4}|\d{1,2}|[A-H])[.)]\s")
# What may stand before an item's first sentence on its line: a bullet or an enumerator ("1.",
# which the sentence splitter cuts off as a sentence of its own).
MARKER_ONLY = re.compile(r"^\s*(?:[•▪◦●■‣∙*–-]|\(?(?:[a-z]|[ivx]{1,4}|\d{1,2}|[A-H])[.)])\s*$")
LEANS_BACK = re.compile(
    r"^(?:He|She|They|This|These|That|Those|Such|Their|His|Her|Its|It|However|Therefore|Thus|"
    r"Furthermore|Moreover|As a result|In addition|Additionally|Both|Each of these|So far|"
    r"(?:Of|Among|For|In) (?:these|them|those|this|that))\b"
    # ...or names what came before early on: "So far, 114 places on this programme".
    r"|^(?:\S+\s+){0,6}?(?:this|these|those|such)\s+(?!report|document|guide|guidance|review|"
    r"survey|paper|section|chapter|publication|strategy|plan\b)[a-z]"
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
SMALL_WORDS = {"and", "of", "the", "for", "in", "to", "a", "an", "on", "at", "by", "with", "&"}


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage: where it lies, what it is and how it scored."""

    hit: Hit
    start: int
    end: int
    role: str  # "prose", "item", "lead-in" or "label"
    marker: str = ""  # an item's kind of marker: "•", "a)", "Recommendation"...
    number: int | None = None  # a numbered label's number
    score: float = 0.0  # with the bonus for its passage's rank, when answering
    raw: str = ""  # the exact slice of the passage (the key of its vector)
    text: str = ""  # as quoted: the slice with its line breaks made spaces
    own: float | None = None  # its score against the question alone (without the rank bonus)

    def with_(self, **changes: object) -> Sentence:
        """Return a copy with some fields changed (a new score, or the reranked hit)."""
        # Not dataclasses.replace: it re-runs __init__, and answers copy thousands of these.
        copy = object.__new__(Sentence)
        copy.__dict__.update(self.__dict__, **changes)
        return copy


@dataclass
class Composition:
    """The chosen sentences in answer order, and how they were chosen."""

    sentences: list[Sentence] = field(default_factory=list)
    method: str = "sentence"  # "sentence" or "list"


def passage_sentences(hit: Hit, *, boilerplate: set[str]) -> list[Sentence]:
    """Return every sentence of a hit's passage, each with its role."""
    text = hit.passage.text
    sentences = []
    for start, end in sentence_spans(text):
        line_start = text.rfind("\n", 0, start) + 1
        prefix = text[line_start:start]
        first_of_paragraph = not prefix.strip() or bool(MARKER_ONLY.match(prefix))
        raw = text[start:end]
        role, marker, number = _role(raw, prefix, first_of_paragraph, hit, boilerplate)
        quoted = " ".join(raw.split())
        sentences.append(Sentence(hit, start, end, role, marker, number, 0.0, raw, quoted))
    # A line of its own that does not end like a sentence, over the items of a list, heads that
    # list, in sentence case too ("Specific roles (skills) being hard to recruit for" over
    # "• Policy-facing analysts"...): it leads into the list and never answers alone.
    for at, (line, following) in enumerate(pairwise(sentences)):
        if (
            line.role == "prose"
            and following.role == "item"
            and not FINISHED.search(line.text)
            and _whole_line(line)
        ):
            sentences[at] = line.with_(role="lead-in")
    return sentences


def _whole_line(sentence: Sentence) -> bool:
    """Return whether a sentence is a line of its own in its passage's text."""
    after = sentence.hit.passage.text[sentence.end :].lstrip(" \t")
    return _starts(sentence, "\n") and (not after or after.startswith("\n"))


def _role(
    raw: str, prefix: str, first: bool, hit: Hit, boilerplate: set[str]
) -> tuple[str, str, int | None]:
    """Return what a sentence is: its role, its item marker and its label number."""
    text = " ".join(raw.split())
    if NOT_GUIDANCE.search(hit.passage.section or ""):
        return "label", "", None
    # A marked first sentence of a paragraph is a list item, even in title case ("• Chief
    # Information Officers", "4. Establishing the NHS Digital Academy"), and even when its
    # words recur on many pages ("• Clinical coding", a heading elsewhere): running headers
    # and footers carry no bullet.
    # (A numbered heading, "4. Next steps", is the passage's section, not an item.)
    item = (
        first
        and not CAPTION.match(text)
        and "http" not in text
        and text != " ".join((hit.passage.section or "").split())
    )
    bullet = prefix.strip()
    if item and bullet:
        enumerated = ENUMERATOR.match(f"{bullet} ")
        return "item", _enumerator_kind(bullet) if enumerated else bullet, None
    if normalise(text) in boilerplate:
        return "label", "", None
    if item:
        label = LABEL.match(text)
        if label:
            return "item", label["word"], int(label["number"])
        enumerator = ENUMERATOR.match(text)
        if enumerator:
            return "item", _enumerator_kind(enumerator.group()), None
    if _is_label(text, hit):
        return "label", "", None
    if text.endswith(":") or _points_elsewhere(text):
        return "lead-in", "", None
    return "prose", "", None


def _points_elsewhere(text: str) -> bool:
    """Return whether a finished sentence only points to what follows or to elsewhere."""
    return bool(FINISHED.search(text) and POINTER.match(text))


def _enumerator_kind(marker: str) -> str:
    core = marker.strip("() .")
    if core.isdigit():
        return "1."
    if core.isupper():
        return "A."
    return "a)" if not set(core) <= set("ivx") else "i)"


def _is_label(text: str, hit: Hit) -> bool:
    """Return whether a line names or labels rather than says: a title, heading, signature,
    caption, link, a reference-list entry, or a sentence cut by a page break."""
    words = WORD.findall(text)
    if not words or text[0].islower() or "http" in text or CAPTION.match(text):
        return True
    section = hit.passage.section or ""
    if NOT_GUIDANCE.search(section) or text == section:
        return True
    if normalise(text) == normalise(hit.document.entry.title):
        return True
    if FINISHED.search(text) or text.endswith(":"):
        return False
    # Unfinished and mostly capitalised words: a heading, a title or a signature block
    # ("Chief Information Officer Health Education England").
    return _capitalised(words)


def _capitalised(words: list[str]) -> bool:
    """Return whether most of these words, small words aside, start with a capital."""
    content = [w for w in words if w.lower() not in SMALL_WORDS]
    return sum(w[0].isupper() for w in content) / max(1, len(content)) >= 0.6


def normalise(text: str) -> str:
    """Return a sentence's words, lowercased, for comparing sentences."""
    return " ".join(re.findall(r"\w+", text.lower()))


def quotable(sentence: Sentence, kind: AnswerKind) -> bool:
    """Return whether a sentence may answer on its own, for this kind of question."""
    words = word_count(sentence.text)
    if sentence.role == "prose":
        return words >= MIN_WORDS or (
            kind in (AnswerKind.number, AnswerKind.fact) and _figure_row(sentence, kind)
        )
    if sentence.role == "item":
        if kind is AnswerKind.list_:
            return words >= MIN_ITEM_WORDS
        # An item that names rather than says ("• Health Education England – North East and
        # North Cumbria", "4. Establishing the NHS Digital Academy") answers only in its list.
        return words >= MIN_WORDS and (
            bool(FINISHED.search(sentence.text)) or not _capitalised(WORD.findall(sentence.text))
        )
    if sentence.role == "label" and kind in (AnswerKind.number, AnswerKind.fact):
        return _figure_row(sentence, kind)
    if sentence.role == "label":
        # A cover or imprint line is how a report says when it was published: a full date
        # alone ("24 October 2022"), or a year with words around it, but not a title in
        # capitals with a year in it ("Data Driven Healthcare in 2030: Transformation...").
        if kind is not AnswerKind.date or sentence.hit.passage.first_page > 2:
            return False
        if kind_strength(sentence.text, kind) == 2:
            return True
        return (
            words >= 3
            and holds_kind(sentence.text, kind)
            and not _capitalised(WORD.findall(sentence.text))
        )
    return False  # a lead-in only leads into its list


def _figure_row(sentence: Sentence, kind: AnswerKind = AnswerKind.number) -> bool:
    """Return whether a line is a table row that gives a figure ("Clinical Commissioning
    Group/Commissioning Support Unit 6.5%", "Clinical informatics Band 8a 1,778 £124"): the
    fact a number question asks for is often only in a table. (A row in capitals reads as a
    label, one in lower case as prose.)"""
    return (
        sentence.role in ("label", "prose")
        and sentence.text[:1].isalpha()  # not a footnote ("1 See Appendix D") nor "← Back"
        and "http" not in sentence.text
        and "www." not in sentence.text
        and _row_like(sentence)
        and word_count(sentence.text) >= 2
        and kind_strength(sentence.text, AnswerKind.number) == 2
        and kind_strength(sentence.text, kind) == 2
        and not NOT_GUIDANCE.search(sentence.hit.passage.section or "")
    )


@functools.lru_cache(maxsize=65_536)
def word_count(text: str) -> int:
    """Return how many words a sentence has (letters, at least two)."""
    return len(WORD.findall(text))


INLINE_LIST = re.compile(
    r"(?::|\(|\b(?:include|includes|including|such as|namely|comprise|comprises))\s*"
    r"[^,;.:()]{1,60}(?:[,;]\s*[^,;.:()]{1,60})+(?:,?\s+(?:and|or)\s+[^,;.:()]{1,60})"
)


def inline_list(text: str) -> bool:
    """Return whether a sentence holds a list in itself: "three areas: a, b and c"."""
    return bool(INLINE_LIST.search(text))


def leans_back(text: str) -> bool:
    """Return whether a sentence leans on the one before it ("He estimated...", "So far, 114
    places on this programme...")."""
    return bool(LEANS_BACK.match(text))


def score_sentences(
    sentences: Sequence[Sentence],
    vectors: dict[str, np.ndarray],
    query: np.ndarray,
    overlap: dict[str, float],
    kind: AnswerKind,
) -> list[Sentence]:
    """Return the sentences that have vectors, each scored against the question."""
    scored = []
    for sentence in sentences:
        vector = vectors.get(sentence.raw)
        if vector is None:
            continue
        score = float(vector @ query) + KEYWORD_WEIGHT * overlap.get(sentence.raw, 0.0)
        if sentence.hit.document.entry.superseded_by is not None:
            score -= SUPERSEDED_PENALTY
        if not FINISHED.search(sentence.text) and sentence.role != "item":
            score -= UNFINISHED_PENALTY
        if kind in (AnswerKind.date, AnswerKind.number) and not holds_kind(sentence.text, kind):
            score -= KIND_PENALTY
        scored.append(sentence.with_(score=score))
    return scored


def compose(
    scored: Sequence[Sentence],
    kind: AnswerKind,
    vectors: dict[str, np.ndarray],
    *,
    neighbours: Callable[[Hit, int], Hit | None],
    sentences_of: Callable[[Hit], list[Sentence]],
    subheadings: Callable[[Sentence], list[Sentence]] | None = None,
    question: str = "",
    names_another: Callable[[Sentence], bool] | None = None,
    about: Callable[[str], bool] | None = None,
    topic: Callable[[str], bool] | None = None,
    relevance: Callable[[list[Sentence]], list[float]] | None = None,
    elsewhere: Callable[[Sentence], bool] | None = None,
) -> Composition:
    """Return the sentences that answer: a list, or an excerpt plus support.

    `neighbours(hit, step)` gives the passage after (step 1) or before (step -1) a hit's passage
    in its document, and `sentences_of(hit)` a passage's sentences with their roles. The
    `question` says what a number question wants (a percentage, money: intent.number_unit)
    and what a list question lists (intent.list_noun). `names_another(heading)` says when a
    heading names another subject than the question's, so that its list does not answer, and
    `about(text)` whether a text uses a word of the question, so that a list found from an
    anchor that does not (nor do the sentences around it) does not answer. `topic(text)` says
    whether a text uses a word of the question besides what it lists, and `relevance(items)`
    how well each item matches the question: a series asked about one topic ("What are the
    recommendations on pay?") is narrowed to its items on that topic. `elsewhere(sentence)`
    says when a sentence is in another document than those the question names: no list of
    such a document answers.
    """
    unit = number_unit(question) if kind is AnswerKind.number else ""
    scored = _whole_across(_pointed_to(scored), neighbours, sentences_of)
    # (Outside its list, an item answers only as a sentence would: "Health Education
    # England" does not.)
    candidates = [s for s in scored if quotable(s, AnswerKind.fact if s.role == "item" else kind)]
    if not candidates:
        return Composition()
    ranked = sorted(candidates, key=lambda s: (-s.score, s.hit.rank, s.start))
    counted = counted_noun(question) if kind is AnswerKind.number else ""
    change = kind is AnswerKind.number and asks_change(question)
    best = _preferred(ranked, kind, unit, counted, change=change)

    # A list question gets its list, when one matches nearly as well as the best sentence;
    # but a best sentence that holds the list itself ("three areas: a, b and c") beats a list
    # found from an anchor that scores lower.
    if kind is AnswerKind.list_:
        best = next(
            (
                s
                for s in ranked[:3]
                if inline_list(s.text) and _own(s) >= _own(best) - INLINE_MARGIN
            ),
            best,
        )
        # (Lists are judged by their own scores: a list runs across passages.)
        floor: float | None = _own(best) - (0.0 if inline_list(best.text) else LIST_MARGIN)
    elif (
        kind in (AnswerKind.fact, AnswerKind.definition)
        and asks_about_things(question)
        and not inline_list(best.text)
    ):
        # "Which ICT roles are flagged...?", "What new jobs are expected...?": asked like a
        # fact, but about things in the plural. A list answers when its anchor scores at least
        # as well as the best sentence.
        floor = _own(best)
    else:
        floor = None
    if floor is not None:
        noun = list_noun(question)
        items = _best_list(
            scored,
            floor,
            neighbours,
            sentences_of,
            subheadings,
            noun=noun,
            count=asked_count(question, noun),
            parts=parts_of(question),
            question=question,
            names_another=names_another,
            about=about,
            topic=topic,
            relevance=relevance,
            elsewhere=elsewhere,
        )
        if items:
            return Composition(sentences=items, method="list")

    # The best sentence with the one before it when it leans on it, then support.
    excerpt = [best]
    previous = _previous(best, sentences_of)
    if previous is not None and leans_back(best.text):
        excerpt.insert(0, previous)
    # The excerpt grows by its closer-scoring neighbour, when that one nearly matches too; for
    # a date or number question whose best sentence holds none, by the neighbour that does.
    before = None if len(excerpt) > 1 else _adjacent(best, scored, -1)
    after = _adjacent(best, scored, 1)
    if _figure_row(best):  # the rows around a row are other records: its header may join
        before, after = (None if s is not None and _figure_row(s) else s for s in (before, after))
    near = [s for s in (before, after) if s is not None and s.score >= best.score - EXTEND_MARGIN]
    if kind in (AnswerKind.date, AnswerKind.number) and kind_strength(best.text, kind, unit) < 2:
        holding = [
            s
            for s in (after, before)
            if s is not None and kind_strength(s.text, kind, unit) == 2 and quotable(s, kind)
        ]
        near = holding[:1] or near
    if near:
        extra = max(near, key=lambda s: s.score)
        excerpt = [extra, *excerpt] if extra is before else [*excerpt, extra]
    following = None if _figure_row(excerpt[-1]) else _adjacent(excerpt[-1], scored, 1)
    if (
        following is not None
        and len(excerpt) < MAX_EXCERPT
        and quotable(following, kind)
        and not _figure_row(following)
        and sum(len(s.text) for s in [*excerpt, following]) <= RUN_ON_CHARS
    ):
        excerpt.append(following)
    chosen = list(excerpt)

    # The best passage's next-best sentence elsewhere in it, when it matches nearly as well:
    # a passage often names its subject in one sentence and gives the fact two lines on.
    quoted = {s.start for s in excerpt}
    second = max(
        (
            s
            for s in candidates
            if s.hit.passage.id == best.hit.passage.id
            and s.start not in quoted
            and not _figure_row(s)  # (a table row answers only as the best sentence)
            and (kind not in (AnswerKind.date, AnswerKind.number) or holds_kind(s.text, kind))
        ),
        key=_own,
        default=None,
    )
    # When the best sentence lacks what the question asks for, the figure ("...will develop
    # in the next 10 years" to "How quickly will the market grow?") or the things asked about
    # ("...attitudes that act as barriers" to "What kinds of attitudes...?"), the passage's
    # sentence that gives it ("grow by 12 per cent per year"; "barriers include fear of
    # change, poor previous experience, and...") joins while within KIND_MARGIN.
    margin = SECOND_MARGIN
    gives: Callable[[Sentence], bool] | None = None
    if kind in (AnswerKind.date, AnswerKind.number) and kind_strength(best.text, kind, unit) < 2:
        gives = lambda s: kind_strength(s.text, kind, unit) == 2  # noqa: E731
    elif floor is not None and not inline_list(best.text):  # a list was wanted, none found
        gives = lambda s: inline_list(s.text)  # noqa: E731
    elif (
        kind is AnswerKind.fact
        and asks_yes_no(question)
        and kind_strength(best.text, AnswerKind.number) < 2
    ):  # a yes or no question is settled by a figure more often than not
        gives = lambda s: kind_strength(s.text, AnswerKind.number) == 2  # noqa: E731
    giving = max(
        (
            s
            for s in candidates
            if gives is not None
            and s.hit.passage.id == best.hit.passage.id
            and s.start not in quoted
            and not _figure_row(s)
            and gives(s)
        ),
        key=_own,
        default=None,
    )
    if giving is not None:
        second, margin = giving, KIND_MARGIN
    if (
        second is not None
        and _own(second) >= _own(best) - margin
        and (joining := _with_antecedent(second, chosen, sentences_of))
        and sum(len(s.text) for s in [*excerpt, *joining]) <= SECOND_CHARS
        and _says_something_new(second, chosen, vectors)
    ):
        # A comparison ("harder in the countryside than in towns?") is settled by both sides'
        # figures, which a report gives in neighbouring sentences: the other joins too.
        if giving is not None and gives is not None and COMPARES.search(question):
            quoted_now = {s.start for s in [*chosen, *joining]}
            other = next(
                (
                    s
                    for s in (_adjacent(second, scored, 1), _adjacent(second, scored, -1))
                    if s is not None and s.start not in quoted_now and gives(s)
                ),
                None,
            )
            length = sum(len(s.text) for s in [*excerpt, *joining])
            if other is not None and length + len(other.text) <= SECOND_CHARS:
                joining = [*joining, other]
        chosen = sorted([*chosen, *joining], key=lambda s: s.start)  # in the passage's order

    # The passage rank bonus makes the best passage answer; when another passage holds a
    # sentence that matches better on its own, that one is quoted too: the best passage is not
    # always the right one.
    rivals = sorted(
        (
            s
            for s in candidates
            if s.hit.passage.id != best.hit.passage.id
            and _own(s) > _own(best)
            and not _figure_row(s)
        ),
        key=lambda s: -_own(s),
    )
    # (A sentence that leans on the one before it, "He estimated...", comes with that one, or
    # not at all.)
    rival = next(
        (
            joining
            for s in rivals
            if (kind not in (AnswerKind.date, AnswerKind.number) or holds_kind(s.text, kind))
            and _says_something_new(s, chosen, vectors)
            and (joining := _with_antecedent(s, chosen, sentences_of))
        ),
        None,
    )
    if rival is not None:
        chosen.extend(rival)
    supports = 0
    for sentence in ranked:
        if supports == MAX_SUPPORT:
            break
        if _own(sentence) < _own(best) - SUPPORT_MARGIN or _figure_row(sentence):
            continue
        if _same_source(sentence, chosen):
            continue
        if kind in (AnswerKind.date, AnswerKind.number) and not holds_kind(sentence.text, kind):
            continue
        if counted and not counts(sentence.text, counted):  # another number: of other things
            continue
        if not _says_something_new(sentence, chosen, vectors):
            continue
        joining = _with_antecedent(sentence, chosen, sentences_of)
        if joining:
            chosen.extend(joining)
            supports += 1
    return Composition(sentences=chosen)


def _whole_across(
    scored: Sequence[Sentence],
    neighbours: Callable[[Hit, int], Hit | None],
    sentences_of: Callable[[Hit], list[Sentence]],
) -> list[Sentence]:
    """Return the sentences, each one cut off by the end of its passage ("...working with
    educational providers in") replaced by the whole sentence that opens the next passage,
    where the passages overlap, across the page break ("...in developing specialist health
    modules...", pp. 12-13), scored as the part was."""
    whole: list[Sentence] = []
    for sentence in scored:
        text = sentence.hit.passage.text
        cut = (
            sentence.role == "prose"
            and not text[sentence.end :].strip()
            and not FINISHED.search(sentence.text)
        )
        after = neighbours(sentence.hit, 1) if cut else None
        opening = next(iter(sentences_of(after)), None) if after is not None else None
        if (
            opening is not None
            and opening.start == 0
            and len(opening.text) > len(sentence.text)
            and opening.text.startswith(sentence.text)
        ):
            hit = opening.hit.model_copy(update={"rank": sentence.hit.rank})
            sentence = opening.with_(hit=hit, score=sentence.score, own=_own(sentence))
        whole.append(sentence)
    return whole


def _pointed_to(scored: Sequence[Sentence]) -> list[Sentence]:
    """Return the sentences, each prose sentence that follows a line pointing to it ("The
    following is a summary of the key vacancies findings from the survey.") scored at least
    as well as that line: the line matches the question, what it points to answers it."""
    pointers = [s for s in scored if s.role == "lead-in" and _points_elsewhere(s.text)]
    if not pointers:
        return list(scored)
    lifted: dict[tuple[str, int], Sentence] = {}
    for pointer in pointers:
        after = _adjacent_any(pointer, scored, 1)
        if after is not None and after.role == "prose" and _own(after) < _own(pointer):
            gain = _own(pointer) - _own(after)
            lifted[(after.hit.passage.id, after.start)] = after.with_(
                score=after.score + gain, own=_own(pointer)
            )
    return [lifted.get((s.hit.passage.id, s.start), s) for s in scored]


def _with_antecedent(
    sentence: Sentence, chosen: list[Sentence], sentences_of: Callable[[Hit], list[Sentence]]
) -> list[Sentence] | None:
    """Return a sentence ready to be quoted: with the sentence before it when it leans on that
    one ("He estimated that there were ~10,000...") and that one is not quoted yet; None when
    it leans on something that cannot be quoted (a heading, or another passage)."""
    if not leans_back(sentence.text):
        return [sentence]
    previous = _previous(sentence, sentences_of)
    if previous is None:
        return None
    if normalise(previous.text) in {normalise(s.text) for s in chosen}:
        return [sentence]  # quoted already (or its copy in an overlapping passage)
    return [previous, sentence]


def _own(sentence: Sentence) -> float:
    return sentence.score if sentence.own is None else sentence.own


SUPPORT_FROM = "document"  # support comes from other documents ("document") or passages


def _same_source(sentence: Sentence, chosen: list[Sentence]) -> bool:
    """Return whether a sentence comes from a source already quoted (a document, or a passage)."""
    if SUPPORT_FROM == "document":
        return sentence.hit.passage.doc_id in {s.hit.passage.doc_id for s in chosen}
    return sentence.hit.passage.id in {s.hit.passage.id for s in chosen}


def _preferred(
    ranked: list[Sentence],
    kind: AnswerKind,
    unit: str = "",
    counted: str = "",
    *,
    change: bool = False,
) -> Sentence:
    """Return the best sentence, or for a date or number question the best that holds one
    (a full date before a bare year; for "how many <things>", a number of those things
    first; for "by how much", a change: "an increase of 824 per cent", not "increase to 11
    per cent") while it scores within KIND_MARGIN of the best."""
    if kind in (AnswerKind.date, AnswerKind.number):
        close = [s for s in ranked if s.score >= ranked[0].score - KIND_MARGIN]
        if counted:
            counting = next((s for s in close if counts(s.text, counted)), None)
            if counting is not None:
                return counting
        if change:
            changing = next(
                (
                    s
                    for s in close
                    if kind_strength(s.text, kind, unit) == 2 and CHANGE_TEXT.search(s.text)
                ),
                None,
            )
            if changing is not None:
                return changing
        for strength in (2, 1):
            for sentence in close:
                if kind_strength(sentence.text, kind, unit) >= strength:
                    return sentence
    return ranked[0]


def headed_by(
    items: Sequence[Sentence], noun: str, sentences_of: Callable[[Hit], list[Sentence]]
) -> bool:
    """Return whether a list names `noun` where it starts: in its first item's label
    ("Recommendation 1: ..."), in the heading over it, or in the line leading into it
    ("The key findings from this survey are:")."""
    if not items or not noun:
        return False
    first, names = items[0], noun_pattern(noun)
    before = [s for s in sentences_of(first.hit) if s.end <= first.start]
    lead = before[-1].text if before and before[-1].role in ("lead-in", "prose") else ""
    return bool(
        names.search(first.marker)
        or names.search(head_noun(first.hit.passage.section or ""))
        or (lead and names.search(lead))
    )


def _previous(sentence: Sentence, sentences_of: Callable[[Hit], list[Sentence]]) -> Sentence | None:
    """Return the prose sentence just before this one in its passage, if there is one."""
    before = [s for s in sentences_of(sentence.hit) if s.end <= sentence.start]
    if before and before[-1].role == "prose":
        return before[-1]
    return None


def _adjacent(sentence: Sentence, scored: Sequence[Sentence], step: int) -> Sentence | None:
    """Return the scored prose sentence just after (step 1) or before (-1) this one in its
    passage, if there is one."""
    beside = _adjacent_any(sentence, scored, step)
    return beside if beside is not None and beside.role == "prose" else None


def _says_something_new(
    sentence: Sentence, chosen: list[Sentence], vectors: dict[str, np.ndarray]
) -> bool:
    words = normalise(sentence.text)
    for other in chosen:
        if normalise(other.text) == words:
            return False
        a, b = vectors.get(sentence.raw), vectors.get(other.raw)
        if a is not None and b is not None and float(a @ b) >= DUPLICATE_COSINE:
            return False
    return True


def _best_list(
    scored: Sequence[Sentence],
    floor: float,
    neighbours: Callable[[Hit, int], Hit | None],
    sentences_of: Callable[[Hit], list[Sentence]],
    subheadings: Callable[[Sentence], list[Sentence]] | None = None,
    *,
    noun: str = "",
    count: int | None = None,
    names_another: Callable[[Sentence], bool] | None = None,
    about: Callable[[str], bool] | None = None,
    topic: Callable[[str], bool] | None = None,
    relevance: Callable[[list[Sentence]], list[float]] | None = None,
    elsewhere: Callable[[Sentence], bool] | None = None,
    parts: str = "",
    question: str = "",
) -> list[Sentence]:
    """Return the items of the list that best matches the question, or [] when none does.

    A list is found from its anchor: a lead-in line ("... are:") or an item, scored against the
    question. Its items are those of the same marker that follow the lead-in (or surround the
    item), in order, across the passages of the document while the list goes on.
    """
    # A lead-in is short and leans on the sentence before it: it scores as the better of the
    # two (lead_in_score).
    leaning = lead_in_score(scored)

    # A lead-in or heading that names what the question lists ("What themes...?": "Five key
    # themes emerged:"), or the thing whose parts it asks for ("The toolkit comprised:"),
    # scores as if LIST_MARGIN better.
    names = noun_pattern(noun or parts) if noun or parts else None

    # The score of the sentence after each one, for headings (which the sentence under them
    # introduces); only needed when headings can list their subheadings.
    following: dict[tuple[str, int], float] = {}
    by_passage: dict[str, list[Sentence]] = {}
    for sentence in scored if subheadings is not None else ():
        by_passage.setdefault(sentence.hit.passage.id, []).append(sentence)
    for pid, group in by_passage.items():
        group.sort(key=lambda s: s.start)
        for first, second in pairwise(group):
            following[(pid, first.start)] = _own(second)

    def anchor_score(sentence: Sentence) -> float:
        named = (
            LIST_MARGIN
            if names
            and (
                sentence.marker.lower() == noun  # "Recommendation 4:" to "...recommendations?"
                if sentence.role == "item"
                else names.search(
                    head_noun(sentence.text) if _is_heading(sentence) else sentence.text
                )
            )
            else 0.0
        )
        if _is_heading(sentence) and subheadings is not None:
            # A heading is introduced by the sentence under it ("Priorities for the health
            # records staff group" then "...provided an indication of the priorities..."): it
            # scores as the better of the two.
            after = following.get((sentence.hit.passage.id, sentence.start), -1.0)
            return max(_own(sentence), after) + named
        if sentence.role != "lead-in":
            return _own(sentence) + named
        return leaning(sentence) + named

    scores = [(anchor_score(s), s) for s in scored if _may_anchor(s)]
    anchors = [
        s
        for score, s in sorted(scores, key=lambda p: (-p[0], p[1].hit.rank, p[1].start))
        if score >= floor
    ]
    for anchor in anchors:
        if names_another is not None and _is_heading(anchor) and names_another(anchor):
            continue
        # (A list in another document than the one the question names answers another
        # question: "the guide's recommendations" are not the review's.)
        if elsewhere is not None and elsewhere(anchor):
            continue
        # An anchor that shares no word with the question, nor does the sentence before or
        # after it, heads a list about something else ("Priorities for the health records
        # staff group" to "What are the recommendations of the ... report?").
        if about is not None and not about(_context(anchor, scored)):
            continue
        # A labelled item ("Recommendation 3:") answers a question that does not ask for the
        # series by its label ("What does HEE recommend about pay?") as a sentence, not with
        # every other item of its series.
        if anchor.role == "item" and anchor.number is not None and anchor.marker.lower() != noun:
            continue
        # What a thing is made of follows a line that names it ("The toolkit comprised:").
        if parts and (anchor.role == "item" or not noun_pattern(parts).search(anchor.text)):
            continue
        # Items labelled by what is asked ("Recommendation 1:") after the anchor are its list;
        # else a heading over headings one level down lists them ("Priorities for ...": each
        # priority a heading over its paragraphs), when it names what the question lists, or
        # the question names nothing ("What should networks prioritise?").
        items = _series(anchor, neighbours, sentences_of, noun) if noun else []
        if (
            not items
            and subheadings
            and _is_heading(anchor)
            and (names is None or names.search(head_noun(anchor.text)))
        ):
            items = subheadings(anchor)
        items = items or _list_items(anchor, neighbours, sentences_of, names_another)
        # A series labelled by another noun than the one asked for lists those things:
        # "Recommendation 8:"... do not list the new jobs a question asks about (one of them
        # may say, as a sentence).
        if noun and _labelled_otherwise(items, noun):
            continue
        # A list that holds what the question names as an item holds its siblings ("Clinical
        # coding" among the areas of work, to "What does the clinical coding area of work
        # consist of?"), not its parts.
        if parts and any(_named_in(item.text, question) for item in items):
            continue
        # A series labelled by what is asked ("Recommendation 1:"...), asked about one topic,
        # answers with its items on that topic, however few.
        narrowed = False
        if topic is not None and len(items) > 1 and labelled_by(items, noun):
            on_topic = _on_the_topic(items, topic, relevance)
            narrowed, items = len(on_topic) < len(items), on_topic
        # (A list whose items repeat is a table's cells: "– link", "– link".)
        if len({normalise(item.text) for item in items}) < len(items):
            continue
        # A lead-in over one line of items run together ("Key Drivers:" then "Austerity;
        # political instability; reduced healthcare investment; ..."): that line is its list.
        if len(items) < 2 and anchor.role == "lead-in":
            line = _next_line(anchor, sentences_of)
            if line is not None and _run_together(line.text):
                return [line]
        if narrowed or (len(items) >= 2 and count in (None, len(items))):
            return items[:MAX_ITEMS]
    return []


def lead_in_score(scored: Sequence[Sentence]) -> Callable[[Sentence], float]:
    """Return how a lead-in scores among these sentences: as the better of its own score and
    that of the prose sentence just before it in its passage, which it leans on ("A survey was
    undertaken... Five key themes emerged:"). Not a caption or a heading before it: "Table
    5.1: Description of the Data Driven Future..." names a whole table, and the "Key
    Drivers:" under it lists only drivers."""
    ending_at = {(s.hit.passage.id, s.end): _own(s) for s in scored if s.role == "prose"}

    def score(sentence: Sentence) -> float:
        end = len(sentence.hit.passage.text[: sentence.start].rstrip())
        return max(_own(sentence), ending_at.get((sentence.hit.passage.id, end), -1.0))

    return score


def _named_in(item: str, question: str) -> bool:
    """Return whether every word of a list item is a word of the question."""
    words = set(re.findall(r"[a-z0-9]+", item.lower()))
    return bool(words) and words <= set(re.findall(r"[a-z0-9]+", question.lower()))


def _next_line(
    sentence: Sentence, sentences_of: Callable[[Hit], list[Sentence]]
) -> Sentence | None:
    """Return the sentence just after this one in its passage, if there is one."""
    return next((s for s in sentences_of(sentence.hit) if s.start >= sentence.end), None)


def _run_together(text: str) -> bool:
    """Return whether a line is items separated by semicolons: three or more, each short."""
    parts = [p for p in text.rstrip(".").split(";") if p.strip()]
    return len(parts) >= 3 and all(word_count(p) <= MAX_ROW_WORDS for p in parts)


def _context(sentence: Sentence, scored: Sequence[Sentence]) -> str:
    """Return a sentence's text with those just before and after it in its passage."""
    before = _adjacent_any(sentence, scored, -1)
    after = _adjacent_any(sentence, scored, 1)
    return " ".join(s.text for s in (before, sentence, after) if s is not None)


def _adjacent_any(sentence: Sentence, scored: Sequence[Sentence], step: int) -> Sentence | None:
    """Return the scored sentence just after (step 1) or before (-1) this one in its passage,
    whatever its role, if there is one."""
    same = [s for s in scored if s.hit.passage.id == sentence.hit.passage.id]
    if step > 0:
        return min(
            (s for s in same if s.start >= sentence.end), key=lambda s: s.start, default=None
        )
    return max((s for s in same if s.end <= sentence.start), key=lambda s: s.start, default=None)


HEAD_ENDS = re.compile(
    r"\b(?:in|for|of|on|to|within|across|by|from|with|at|about|among|between)\b", re.I
)


def head_noun(heading: str) -> str:
    """Return a heading up to its first preposition, where its head noun is: "Vacancies in
    data professional roles" heads sections on vacancies, not a list of roles; "New job roles
    in information management" heads roles. (Captions and lead-ins name what their list holds
    anywhere: "Table 6: Responses to barriers to hiring" lists barriers.)"""
    return HEAD_ENDS.split(heading, maxsplit=1)[0]


def _may_anchor(sentence: Sentence) -> bool:
    """Return whether a list can be found from this sentence: a lead-in, an item, a heading or
    a table's caption.

    (Prose followed closely by a list was tried as an anchor too: on the development set it
    answered list questions with the wrong lists, fact in answer 0.500 -> 0.489.)"""
    heading = sentence.role == "label" and _is_heading(sentence)
    return (
        sentence.role in ("lead-in", "item")
        or heading
        or _is_table_caption(sentence)
        or bool(FIGURE_CAPTION.match(sentence.text))
        or (sentence.role == "prose" and bool(TABLE_REFERENCE.search(sentence.text)))
    )


def _is_table_caption(sentence: Sentence) -> bool:
    return bool(TABLE_CAPTION.match(sentence.text))


def _is_heading(sentence: Sentence) -> bool:
    """Return whether a sentence is its passage's section heading."""
    return sentence.text == (sentence.hit.passage.section or "")


def _starts(sentence: Sentence, after: str) -> bool:
    """Return whether a sentence starts its passage, or follows `after` ("\\n": a line,
    "\\n\\n": a paragraph), spaces aside."""
    before = sentence.hit.passage.text[: sentence.start].rstrip(" \t")
    return sentence.start == 0 or before.endswith(after)


def _series(
    anchor: Sentence,
    neighbours: Callable[[Hit, int], Hit | None],
    sentences_of: Callable[[Hit], list[Sentence]],
    noun: str,
) -> list[Sentence]:
    """Return the items labelled by what a list question asks for that follow a heading or
    lead-in ("Recommendation 1:", "Recommendation 2:"... under "3. Recommendations", to
    "What are the recommendations...?"), in order, or [].

    They are the list even when other items come first (the principles the recommendations
    rest on) and when they run over many pages with paragraphs between them. The series must
    start at 1: "Workstream 3:" pages on heads one workstream's section, not a list.
    """
    if anchor.role == "item":
        return []
    passages = [anchor.hit, *_passages_from(anchor.hit, neighbours, 1, MAX_SERIES_PASSAGES)]
    up_to_anchor = sum(s.start <= anchor.start for s in sentences_of(anchor.hit))
    sequence = _in_order(passages, sentences_of)[up_to_anchor:]
    first = next(
        (
            i
            for i in range(len(sequence))
            if sequence[i].role == "item"
            and sequence[i].number == 1
            and sequence[i].marker.lower() == noun
        ),
        None,
    )
    if first is None:
        return []
    items = _run(sequence, first - 1, sequence[first].marker, lead_in=True)
    return items[:MAX_SERIES] if len(items) >= 2 else []


def _labelled_otherwise(items: Sequence[Sentence], noun: str) -> bool:
    """Return whether these are two or more items labelled by a word other than the noun,
    numbered, as their marker ("Recommendation 8:", "Recommendation 9:" for "job") or at the
    start of bulleted items' text ("• Stage 1: ...", "• Stage 2: ..." for "reason")."""
    if len(items) < 2 or not all(s.role == "item" for s in items):
        return False
    if all(s.number is not None for s in items):
        labels = {s.marker.lower() for s in items}
    else:
        # (A bullet is the marker; the label opens the text: "• Stage 3: Demand...".)
        labels = {m["word"].lower() if (m := LABEL.match(s.text)) else "" for s in items}
    return len(labels) == 1 and (label := labels.pop()).isalpha() and label != noun


def labelled_by(items: Sequence[Sentence], noun: str) -> bool:
    """Return whether every one of these is an item labelled by the noun, numbered
    ("Recommendation 3:" for "recommendation")."""
    return bool(items and noun) and all(
        s.role == "item" and s.number is not None and s.marker.lower() == noun for s in items
    )


def _on_the_topic(
    items: list[Sentence],
    topic: Callable[[str], bool],
    relevance: Callable[[list[Sentence]], list[float]] | None,
) -> list[Sentence]:
    """Return the items of a labelled series that are about what the question asks besides
    the series ("...on leadership?": those whose text, label aside, uses "leadership" or a
    word of its family), or when none uses such a word, those that match the question nearly
    as well as the best ("...on pay?": "To review the financial reward structures..."). All
    of them when the question asks about nothing else, or every item is about it."""
    if topic(""):  # the question asks for the series and nothing else
        return items
    chosen = [item for item in items if topic(LABEL.sub("", item.text, count=1))]
    if not chosen and relevance is not None:
        scores = relevance(items)
        best = max(scores)
        chosen = [
            item for item, score in zip(items, scores, strict=True) if score >= best - SERIES_MARGIN
        ]
    return chosen or items


def _passages_from(
    hit: Hit, neighbours: Callable[[Hit, int], Hit | None], step: int, count: int
) -> list[Hit]:
    """Return up to `count` passages after (step 1) or before (-1) a hit's in its document,
    nearest first."""
    found: list[Hit] = []
    for _ in range(count):
        nearest = neighbours(found[-1] if found else hit, step)
        if nearest is None:
            break
        found.append(nearest)
    return found


def _in_order(passages: list[Hit], sentences_of: Callable[[Hit], list[Sentence]]) -> list[Sentence]:
    """Return the sentences of consecutive passages in document order. A passage starts with
    the last sentences of the one before it: those are skipped. (A sentence printed twice,
    such as a table's cell repeated in two rows, is kept.)"""
    sequence: list[Sentence] = []
    before: set[str] = set()
    for hit in passages:
        sentences = sentences_of(hit)
        keys = [normalise(s.text) for s in sentences]
        overlap = next((i for i, key in enumerate(keys) if not _carried(key, before)), len(keys))
        sequence += sentences[overlap:]
        before = set(keys)
    return sequence


def _list_items(
    anchor: Sentence,
    neighbours: Callable[[Hit, int], Hit | None],
    sentences_of: Callable[[Hit], list[Sentence]],
    names_another: Callable[[Sentence], bool] | None = None,
) -> list[Sentence]:
    """Return the items of the list an anchor belongs to (or leads into), in document order."""
    # The passages the list may run across, in order: the anchor's, and those after it (and,
    # for an item anchor, before it, since the list may have started earlier).
    passages = [anchor.hit, *_passages_from(anchor.hit, neighbours, 1, MAX_LIST_PASSAGES)]
    if anchor.role == "item":
        earlier = _passages_from(anchor.hit, neighbours, -1, MAX_LIST_PASSAGES)
        passages = [*reversed(earlier), *passages]

    # Walk the sentences in order, keeping the items of the anchor's kind of marker.
    sequence = _in_order(passages, sentences_of)
    # The anchor itself, or its copy in a neighbour's overlap (kept once, where first seen).
    anchor_key = (anchor.hit.passage.doc_id, normalise(anchor.text))
    at = next(
        (
            i
            for i, s in enumerate(sequence)
            if (s.hit.passage.doc_id, normalise(s.text)) == anchor_key
        ),
        None,
    )
    if at is None:
        return []
    leads = anchor.role != "item"  # a lead-in or a heading: the list follows it
    if anchor.role == "prose":  # it names the table that holds the list: the table's rows
        label = TABLE_REFERENCE.search(anchor.text)
        if label is None:
            return []
        caption = re.compile(rf"^Table\s*{re.escape(label['label'])}\s*[:.–-]")
        after = next(
            (i for i in range(at + 1, len(sequence)) if caption.match(sequence[i].text)), None
        )
        if after is None:
            # A table is often printed before the paragraph that names it.
            earlier = _passages_from(anchor.hit, neighbours, -1, MAX_LIST_PASSAGES)
            sequence = _in_order([*reversed(earlier), anchor.hit], sentences_of)
            after = next(
                (i for i in reversed(range(len(sequence))) if caption.match(sequence[i].text)),
                None,
            )
        at = after
        # (A caption of a family, "...job roles in IT education and training", when the
        # question names a sibling's subject, lists another table than the one asked for.)
        if at is None or (names_another is not None and names_another(sequence[at])):
            return []
        return _table_rows(sequence, at)
    if not leads:
        return _run(sequence, at, anchor.marker, lead_in=False)
    if FIGURE_CAPTION.match(anchor.text):
        return _figure_items(sequence, at)
    for offset, sentence in enumerate(sequence[at + 1 : at + 1 + LOOKAHEAD], start=at + 1):
        if sentence.role == "item":
            return _run(sequence, offset - 1, sentence.marker, lead_in=True)
    if _is_table_caption(anchor):
        return _table_rows(sequence, at)
    # A heading whose first line leads into a list ("5. Key stakeholders", then "...include
    # the following:") heads that list.
    following = sequence[at + 1] if at + 1 < len(sequence) else None
    if _is_heading(anchor) and following is not None and following.role == "lead-in":
        return _list_items(following, neighbours, sentences_of, names_another)
    if anchor.role != "lead-in":
        return []
    unmarked = _unmarked_items(sequence, at)
    if len(unmarked) >= 2:
        return unmarked
    # Names one per line, their bullets lost or never printed ("...will benefit from reading
    # the main report include...the following:" then "Health Education England", "NHSX"...).
    if anchor.text.endswith(":"):
        names = list(takewhile(lambda s: _row_like(s, MAX_NAME_WORDS), sequence[at + 1 :]))
        if len(names) >= 2:
            return names[:MAX_ITEMS]
    count = stated_count(anchor.text)
    return _paragraphs_after(sequence, at, count) if count else []


PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _unmarked_items(sequence: list[Sentence], at: int) -> list[Sentence]:
    """Return the items of a list whose bullets extraction lost: after a lead-in ("...care
    homes and providers, we:"), each paragraph that starts in lower case ("built
    relationships with...", "demonstrated how to comply..."), up to the first that does not
    or that ends the list with a full stop. (Sentence splitting runs such paragraphs together,
    as it does a sentence cut by a page break: each is cut out of the passage here.)"""
    items: list[Sentence] = []
    for sentence in sequence[at + 1 :]:
        text = sentence.hit.passage.text
        start = sentence.start
        for piece in [*PARAGRAPH_BREAK.finditer(text, sentence.start, sentence.end), None]:
            end = piece.start() if piece else sentence.end
            raw = text[start:end].strip()
            if raw:
                if not raw[0].islower():
                    return items
                left = text.index(raw, start)
                items.append(
                    sentence.with_(
                        start=left,
                        end=left + len(raw),
                        role="item",
                        marker="",
                        raw=raw,
                        text=" ".join(raw.split()),
                    )
                )
                if FINISHED.search(raw) or len(items) == MAX_ITEMS:
                    return items
            start = piece.end() if piece else end
    return items


def _carried(key: str, before: set[str]) -> bool:
    """Return whether a sentence (normalised) was carried over from the passage before: one of
    its sentences, or the end of one (the overlap may start within a sentence)."""
    return key in before or any(b.endswith(key) for b in before)


def _figure_items(sequence: list[Sentence], at: int) -> list[Sentence]:
    """Return the items of the list a figure's caption names. A figure's words are often
    extracted where the page ends, after the text that flows around it ("Figure 4.1:
    Workstreams of ..." then a paragraph, then "1. Supporting our senior leaders"): the
    first list of two items or more that starts later on the caption's page is the figure's."""
    page = _page_of(sequence[at])
    for offset in range(at + 1, len(sequence)):
        sentence = sequence[offset]
        if _page_of(sentence) != page:
            break
        if sentence.role == "item":
            items = _run(sequence, offset - 1, sentence.marker, lead_in=True)
            if len(items) >= 2:
                return items
    return []


def _page_of(sentence: Sentence) -> int:
    """Return the page a sentence starts on."""
    return page_at(sentence.hit.passage, sentence.start)


def page_at(passage: Passage, offset: int) -> int:
    """Return the page a passage-text offset lies on (its page slices are joined by a blank line)."""
    starts = []
    position = 0
    for span in passage.spans:
        starts.append(position)
        position += span.end - span.start + 2
    return passage.spans[bisect_right(starts, offset) - 1].page


def _table_rows(sequence: list[Sentence], at: int) -> list[Sentence]:
    """Return the rows of the table a caption names, as text extraction leaves them. Two rows
    at least, and the longer of two readings:

    - rows of short cells: lines that do not end like sentences ("Specific technical skills
      34"), one paragraph each, up to the first sentence, heading or caption after them;
    - rows that describe: a short line ("Data engineer (practitioner)") with prose under it
      ("Core skills and emphasis on ... ."), where the short lines with none under them (the
      header row) and those printed in many rows (link cells: "GDS DDaT DHCI") are not rows;
      a heading before the first of them is a bold header cell ("Job role"), not the end.
    """
    after = sequence[at + 1 :]
    rows = list(takewhile(_row_like, after))
    # A header row ("Barrier to recruitment Count") over rows that each give a figure
    # ("Specific technical skills 34") names the columns: it is not a row.
    if len(rows) >= 3 and all(_has_figure(r) for r in rows[1:]) and not _has_figure(rows[0]):
        rows = rows[1:]
    described: list[Sentence] = []
    cells: Counter[str] = Counter()
    prose = 0
    i = 0
    while i < len(after) and len(described) < MAX_ITEMS:
        sentence = after[i]
        if CAPTION.match(sentence.text):
            break
        if _is_heading(sentence):
            if described:
                break  # the section after the table
            i += 1  # a bold header cell ("Job role") that extraction took for a heading
            continue
        i += 1
        if not _row_like(sentence, MAX_NAME_WORDS):
            prose += 1
            if prose > MAX_DESCRIPTION:
                break  # the table has ended: this is the text after it
            continue
        prose = 0
        # A cell's text may run on to a second line ("AI and machine learning engineer" then
        # "(senior practitioner ...) aka knowledge engineer"): one row, quoted whole.
        while i < len(after) and _row_like(after[i]) and _continues_cell(sentence, after[i]):
            sentence = _joined(sentence, after[i])
            i += 1
        cells[normalise(sentence.text)] += 1
        # (A name starts with a letter or a digit, a description with a capital: "(leading
        # practitioner)" and "knowledge and emotional intelligence." go on with other cells.)
        following = after[i] if i < len(after) else None
        if (
            following is not None
            and sentence.text[:1].isalnum()
            and following.text[:1].isupper()
            and FINISHED.search(following.text)
            and word_count(following.text) >= MIN_DESCRIPTION_WORDS
        ):
            described.append(sentence)
    # A cell printed in many rows ("DHCI", the links) is a column's value, not a row's name.
    described = [name for name in described if cells[normalise(name.text)] == 1]
    best = max((rows, described), key=len)  # (rows on a tie)
    return best[:MAX_ITEMS] if len(best) >= 2 else []


def _has_figure(sentence: Sentence) -> bool:
    return kind_strength(sentence.text, AnswerKind.number) == 2


def _continues_cell(cell: Sentence, line: Sentence) -> bool:
    """Return whether a line goes on with the cell before it: the next line of the same
    paragraph of the same passage."""
    text = cell.hit.passage.text
    between = text[cell.end : line.start]
    return line.hit is cell.hit and not between.strip() and between.count("\n") == 1


def _joined(first: Sentence, second: Sentence) -> Sentence:
    """Return one sentence spanning two neighbours of the same passage."""
    raw = first.hit.passage.text[first.start : second.end]
    return first.with_(end=second.end, raw=raw, text=" ".join(raw.split()))


def _row_like(sentence: Sentence, max_words: int = MAX_ROW_WORDS) -> bool:
    """Return whether a sentence reads like a table cell: a short line of its own that does
    not end like a sentence, nor lead into something."""
    return (
        _starts(sentence, "\n")
        and not _is_heading(sentence)
        and not CAPTION.match(sentence.text)
        and not FINISHED.search(sentence.text)
        and not sentence.text.endswith(":")
        and word_count(sentence.text) <= max_words
    )


COUNT = re.compile(r"\b(" + "|".join(COUNT_WORDS) + r"|\d{1,2})\b", re.IGNORECASE)


def asked_count(question: str, noun: str) -> int | None:
    """Return how many things a list question says there are ("What are the three domains
    of...?": 3), in words, just before the noun it lists; None when it does not say."""
    if not noun:
        return None
    stem = re.escape(noun[:-1] if noun.endswith("y") else noun)
    words = "|".join(COUNT_WORDS)
    match = re.search(rf"\b({words})\s+(?:[\w-]+\s+)?{stem}", question, re.IGNORECASE)
    return COUNT_WORDS[match.group(1).lower()] if match else None


def stated_count(text: str) -> int | None:
    """Return how many things a lead-in says follow ("Five key themes emerged:"), 2 to 12."""
    match = COUNT.search(text)
    if match is None:
        return None
    word = match.group(1).lower()
    count = COUNT_WORDS.get(word) or int(word)
    return count if 2 <= count <= MAX_ITEMS else None


def _paragraphs_after(sequence: list[Sentence], at: int, count: int) -> list[Sentence]:
    """Return the first sentence of each of the `count` paragraphs after a lead-in: a list
    set out as paragraphs with run-in headings rather than bullets; or, when a line of its
    own comes first ("Five key themes emerged:" then "Remote working is possible and becoming
    more accepted" over its paragraph), each such line: a list set out as subheadings. Stops
    at a heading or another lead-in, and gives nothing unless all `count` are found."""
    after = sequence[at + 1 :]
    subheadings = bool(after) and _paragraph_line(after[0])
    firsts: list[Sentence] = []
    for sentence in after:
        if sentence.role == "lead-in" or _is_heading(sentence):
            break
        if _starts(sentence, "\n\n"):
            if subheadings and not _paragraph_line(sentence):
                continue  # the paragraph under a subheading
            if not subheadings and sentence.role == "label":
                break
            firsts.append(sentence)
            if len(firsts) == count:
                return firsts
    return []


def _paragraph_line(sentence: Sentence) -> bool:
    """Return whether a sentence is a short paragraph of its own that does not end like a
    sentence: a subheading over the paragraph after it."""
    after = sentence.hit.passage.text[sentence.end :]
    return (
        _starts(sentence, "\n\n")
        and (not after.strip() or bool(PARAGRAPH_BREAK.match(after)))
        and not FINISHED.search(sentence.text)
        and not sentence.text.endswith(":")
        and word_count(sentence.text) <= MAX_ROW_WORDS
    )


def _run(sequence: list[Sentence], at: int, marker: str, *, lead_in: bool) -> list[Sentence]:
    """Return the run of items with this marker around position `at` (after it for a lead-in).

    Bulleted items must follow each other, allowing a caption or a short aside between them;
    numbered labels ("Recommendation 4:") may have paragraphs between them, and stop when the
    numbering does.
    """
    numbered = marker[:1].isupper() and marker not in ("A.",)
    gap_limit = 12 if numbered else ASIDE
    reach = gap_limit if numbered else max(ASIDE, EXPLANATION)

    def explains(gap: list[int]) -> bool:
        # One paragraph of its own under an item ("• Free-text fields." then "For each area
        # of work, participants were asked to..."): the list goes on after it.
        ordered = [sequence[i] for i in sorted(gap)]
        return _starts(ordered[0], "\n\n") and not any(_starts(s, "\n\n") for s in ordered[1:])

    def collect(indices: range) -> list[Sentence]:
        found: list[Sentence] = []
        gap: list[int] = []
        for i in indices:
            sentence = sequence[i]
            if sentence.role == "item" and sentence.marker == marker:
                if len(gap) > gap_limit and not explains(gap):
                    break
                found.append(sentence)
                gap = []
            elif sentence.role == "item" or (not numbered and sentence.role == "lead-in"):
                break  # another list begins
            else:
                gap.append(i)
                if len(gap) > reach:
                    break
        return found

    if lead_in:
        items = collect(range(at + 1, len(sequence)))
    else:
        before = collect(range(at - 1, -1, -1))[::-1]
        items = [*before, sequence[at], *collect(range(at + 1, len(sequence)))]
    items = [s for s in items if s.role == "item"]
    if numbered:
        items = _consecutive_numbers(items)
    # One sentence per item: its first, which carries the point.
    first_of_item: list[Sentence] = []
    paragraphs: set[tuple[str, int]] = set()
    for item in items:
        key = (item.hit.passage.id, item.hit.passage.text.rfind("\n", 0, item.start))
        if key not in paragraphs:
            paragraphs.add(key)
            first_of_item.append(item)
    return first_of_item


def _consecutive_numbers(items: list[Sentence]) -> list[Sentence]:
    """Return the longest run of numbered items counting up by one."""
    best: list[Sentence] = []
    run: list[Sentence] = []
    for item in items:
        if run and item.number == (run[-1].number or 0) + 1:
            run.append(item)
        else:
            run = [item]
        if len(run) > len(best):
            best = list(run)
    return best
