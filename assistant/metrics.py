"""Evaluation metrics: pure functions of a ranked list of hits and a question's expected sources.

A hit is anything with `doc_id`, `first_page` and `last_page` (a `Passage`, so pass
`[hit.passage for hit in hits]`). The ranking is taken as given: ties in retrieval score are
already broken by the retriever's order, so every metric is deterministic for a given list.

Relevance of one hit, at two levels:
- document: the hit's document is one of the expected documents;
- page: the document matches and the hit's pages [first_page, last_page] include one of that
  document's expected pages. When a document's expected pages are empty (only the document is
  known, as in the imaging set), any hit on that document counts as a page match.

A *target* is what a hit can be credited for: an expected (document, page) at page level, or an
expected document at document level (a document with no expected pages is a single target).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from assistant.questions import ExpectedSource, QuestionType

Level = Literal["document", "page"]
Target = tuple[str, int | None]
ALL_TYPES = "all"


class Located(Protocol):
    """Where a retrieved passage lies: a document and a range of physical pages."""

    @property
    def doc_id(self) -> str: ...

    @property
    def first_page(self) -> int: ...

    @property
    def last_page(self) -> int: ...


def first_relevant_rank(
    hits: Sequence[Located], expected: Sequence[ExpectedSource], level: Level
) -> int | None:
    """Return the 1-based rank of the first relevant hit, or None when no hit is relevant."""
    _require_expected(expected)
    for rank, hit in enumerate(hits, start=1):
        if _targets_of(hit, expected, level):
            return rank
    return None


def recall_at_k(
    hits: Sequence[Located], expected: Sequence[ExpectedSource], k: int, level: Level
) -> float:
    """Return 1.0 when a relevant hit is in the top k, else 0.0.

    This is the "hit rate" (success@k) used for single-answer QA: one right passage is enough
    to answer, so it does not measure the fraction of expected pages found (nDCG does that).
    """
    _require_k(k)
    rank = first_relevant_rank(hits, expected, level)
    return 1.0 if rank is not None and rank <= k else 0.0


def mrr_at_k(
    hits: Sequence[Located], expected: Sequence[ExpectedSource], k: int, level: Level
) -> float:
    """Return the reciprocal rank of the first relevant hit within the top k, else 0.0."""
    _require_k(k)
    rank = first_relevant_rank(hits, expected, level)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg_at_k(
    hits: Sequence[Located], expected: Sequence[ExpectedSource], k: int, level: Level
) -> float:
    """Return nDCG@k with binary gains, in [0, 1].

    - A hit gains 1 when it covers at least one target not credited to an earlier hit, and
      then all the targets it covers count as credited. So a second hit on an already-found
      page (a tie, or an overlapping passage) gains nothing, and a passage spanning two
      expected pages gains 1, not 2.
    - The ideal DCG assumes one new target per rank, for min(number of distinct targets, k)
      ranks. A question with several correct pages therefore reaches 1.0 only when its top
      hits find them all on separate ranks; finding one of three at rank 1 gives 1/IDCG(3).
    """
    _require_k(k)
    _require_expected(expected)
    credited: set[Target] = set()
    dcg = 0.0
    for rank, hit in enumerate(hits[:k], start=1):
        covered = _targets_of(hit, expected, level)
        if covered - credited:
            dcg += 1.0 / math.log2(rank + 1)
            credited |= covered
    ideal_ranks = min(len(_all_targets(expected, level)), k)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_ranks + 1))
    return dcg / ideal


def normalise_text(text: str) -> str:
    """Return `text` case-folded with every run of whitespace made a single space."""
    return " ".join(text.split()).casefold()


def keyword_hit(passage_texts: Iterable[str], keywords: Sequence[str]) -> bool:
    """Return True when every keyword occurs in at least one of the passages.

    Matching is case-insensitive and whitespace-normalised (a line break equals a space). The
    keywords may be found in different passages: the answer is written from the whole top-k
    context, and a fact that spans a page break or two documents is split across passages.
    Out-of-scope questions have no keywords and are not scored this way (ValueError).
    """
    if not keywords:
        raise ValueError("keyword_hit needs at least one keyword")
    context = [normalise_text(text) for text in passage_texts]
    return all(any(normalise_text(kw) in text for text in context) for kw in keywords)


def fact_in_answer(answer_text: str, keywords: Sequence[str]) -> bool:
    """Return True when every keyword occurs in the answer's own text.

    The same matching as `keyword_hit` (case-insensitive, whitespace-normalised), applied to
    what the user reads rather than to the passages the answer was chosen from.
    """
    return keyword_hit([answer_text], keywords)


def is_verbatim(quotes: Iterable[tuple[str, Sequence[str]]]) -> bool:
    """Return True when every quote occurs word for word in one of the texts it cites.

    Each item is (quoted text, texts of the passages it cites). Whitespace is normalised (a
    sentence quoted across a page break joins its two lines with a space) but case is not.
    """
    return all(any(_squeeze(quote) in _squeeze(text) for text in cited) for quote, cited in quotes)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def percentile(values: Sequence[float], p: float) -> float:
    """Return the p-th percentile (0-100) of `values`, interpolating linearly between ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    return float(np.percentile(np.asarray(values, dtype=float), p))


@dataclass(frozen=True)
class QuestionScores:
    """One question's metric values, e.g. {"recall@5/page": 1.0, "mrr@5/page": 0.5}."""

    question_id: str
    type: QuestionType
    scores: dict[str, float]


def mean_by_type(results: Iterable[QuestionScores]) -> dict[str, dict[str, float]]:
    """Return each metric's mean per question type, plus the mean over all questions ("all").

    A metric is averaged over the questions that report it (out-of-scope questions report
    different metrics from answerable ones), and each group also gives `n`, its question count.
    Groups are ordered as the question types are declared, then "all".
    """
    groups: dict[str, list[QuestionScores]] = defaultdict(list)
    for result in results:
        groups[result.type.value].append(result)
        groups[ALL_TYPES].append(result)
    order = [kind.value for kind in QuestionType] + [ALL_TYPES]
    return {name: _mean_scores(groups[name]) for name in order if name in groups}


def _mean_scores(results: list[QuestionScores]) -> dict[str, float]:
    values: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for metric, value in result.scores.items():
            values[metric].append(value)
    return {"n": float(len(results))} | {
        metric: sum(found) / len(found) for metric, found in values.items()
    }


def _targets_of(hit: Located, expected: Sequence[ExpectedSource], level: Level) -> set[Target]:
    """The targets this hit covers (empty when it is not relevant)."""
    return {
        (doc, page)
        for doc, page in _all_targets(expected, level)
        if doc == hit.doc_id and (page is None or hit.first_page <= page <= hit.last_page)
    }


def _all_targets(expected: Sequence[ExpectedSource], level: Level) -> set[Target]:
    """Every target of the question: (doc, page) pairs, or (doc, None) for a whole document."""
    targets: set[Target] = set()
    for source in expected:
        if level == "document" or not source.pages:
            targets.add((source.doc, None))
        else:
            targets.update((source.doc, page) for page in source.pages)
    return targets


def _require_expected(expected: Sequence[ExpectedSource]) -> None:
    if not expected:
        raise ValueError(
            "no expected sources: retrieval metrics are undefined for out-of-scope questions"
        )


def _require_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
