"""Metric functions, checked against values worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import pytest

from assistant.metrics import (
    QuestionScores,
    fact_in_answer,
    first_relevant_rank,
    is_verbatim,
    keyword_hit,
    mean_by_type,
    mrr_at_k,
    ndcg_at_k,
    normalise_text,
    percentile,
    recall_at_k,
)
from assistant.questions import ExpectedSource, QuestionType

# Discounts 1/log2(rank + 1) for ranks 1-3, used in the hand-worked nDCG values below.
D1, D2, D3 = 1.0, 1 / math.log2(3), 0.5


class H(NamedTuple):
    """A hit: a passage of `doc_id` spanning pages first_page..last_page."""

    doc_id: str
    first_page: int
    last_page: int


def at(doc: str, page: int, last: int | None = None) -> H:
    return H(doc, page, page if last is None else last)


def expect(**pages: list[int]) -> list[ExpectedSource]:
    """`expect(a=[3], b=[])`: document a on page 3, document b on unknown pages."""
    return [ExpectedSource(doc=doc, pages=found) for doc, found in pages.items()]


# --- first_relevant_rank ---


@pytest.mark.parametrize(
    ("hits", "expected", "level", "rank"),
    [
        pytest.param([at("a", 1), at("a", 3)], expect(a=[3]), "page", 2, id="second-hit"),
        pytest.param([at("a", 2, 4)], expect(a=[3]), "page", 1, id="span-covers-page"),
        pytest.param([at("a", 4, 6)], expect(a=[3]), "page", None, id="span-misses-page"),
        pytest.param([at("a", 9)], expect(a=[3]), "page", None, id="right-doc-wrong-page"),
        pytest.param([at("a", 9)], expect(a=[3]), "document", 1, id="document-level"),
        pytest.param([at("a", 9)], expect(a=[]), "page", 1, id="unknown-pages-doc-counts"),
        pytest.param([at("x", 3), at("b", 5)], expect(a=[3], b=[5]), "page", 2, id="other-doc"),
        pytest.param([at("x", 3), at("y", 3)], expect(a=[3]), "page", None, id="no-relevant"),
        pytest.param([], expect(a=[3]), "page", None, id="no-hits"),
    ],
)
def test_first_relevant_rank(
    hits: list[H], expected: list[ExpectedSource], level: str, rank: int | None
) -> None:
    assert first_relevant_rank(hits, expected, level) == rank


# --- recall_at_k and mrr_at_k ---


@pytest.mark.parametrize(
    ("k", "recall", "mrr"),
    [
        pytest.param(5, 1.0, 1 / 3, id="k-above-rank"),
        pytest.param(3, 1.0, 1 / 3, id="k-equals-rank"),
        pytest.param(2, 0.0, 0.0, id="k-below-rank"),
    ],
)
def test_recall_and_mrr_depend_on_k(k: int, recall: float, mrr: float) -> None:
    hits = [at("x", 1), at("a", 9), at("a", 3), at("a", 3)]

    assert recall_at_k(hits, expect(a=[3]), k, "page") == recall
    assert mrr_at_k(hits, expect(a=[3]), k, "page") == pytest.approx(mrr)


def test_recall_is_hit_rate_not_fraction_of_pages_found() -> None:
    # One of three correct pages found: success@k is 1, whatever the other two.
    assert recall_at_k([at("a", 23)], expect(a=[3, 23, 24]), 5, "page") == 1.0


def test_no_relevant_hit_scores_zero() -> None:
    hits = [at("x", 1), at("y", 2)]

    assert recall_at_k(hits, expect(a=[3]), 5, "page") == 0.0
    assert mrr_at_k(hits, expect(a=[3]), 5, "page") == 0.0
    assert ndcg_at_k(hits, expect(a=[3]), 5, "page") == 0.0


# --- ndcg_at_k ---


@pytest.mark.parametrize(
    ("hits", "expected", "k", "level", "value"),
    [
        pytest.param([at("a", 3)], expect(a=[3]), 5, "page", 1.0, id="one-target-at-rank-1"),
        pytest.param(
            [at("x", 1), at("x", 2), at("a", 3)],
            expect(a=[3]),
            5,
            "page",
            D3,
            id="one-target-at-rank-3",
        ),
        pytest.param(
            [at("a", 3), at("a", 3)],
            expect(a=[3, 7]),
            5,
            "page",
            D1 / (D1 + D2),
            id="tie-two-hits-same-page-second-gains-nothing",
        ),
        pytest.param(
            [at("a", 3), at("a", 7)],
            expect(a=[3, 7]),
            5,
            "page",
            1.0,
            id="two-pages-found-on-two-ranks",
        ),
        pytest.param(
            [at("a", 23), at("x", 1), at("a", 3)],
            expect(a=[3, 23, 24]),
            5,
            "page",
            (D1 + D3) / (D1 + D2 + D3),
            id="several-correct-pages-two-of-three-found",
        ),
        pytest.param(
            [at("a", 3, 4), at("a", 4)],
            expect(a=[3, 4]),
            5,
            "page",
            D1 / (D1 + D2),
            id="one-passage-spanning-two-correct-pages-gains-once",
        ),
        pytest.param(
            [at("a", 2)],
            expect(a=[1, 2, 3]),
            1,
            "page",
            1.0,
            id="ideal-capped-at-k",
        ),
        pytest.param(
            [at("x", 1), at("x", 2), at("a", 3)],
            expect(a=[3]),
            2,
            "page",
            0.0,
            id="k-below-first-relevant-rank",
        ),
        pytest.param(
            [at("a", 9), at("a", 3), at("b", 1)],
            expect(a=[3], b=[5]),
            3,
            "document",
            (D1 + D3) / (D1 + D2),
            id="document-level-two-documents",
        ),
        pytest.param(
            [at("a", 9), at("a", 10)],
            expect(a=[]),
            5,
            "page",
            1.0,
            id="unknown-pages-one-target-per-document",
        ),
        pytest.param([], expect(a=[3]), 5, "page", 0.0, id="no-hits"),
    ],
)
def test_ndcg_at_k(
    hits: list[H], expected: list[ExpectedSource], k: int, level: str, value: float
) -> None:
    assert ndcg_at_k(hits, expected, k, level) == pytest.approx(value)


@pytest.mark.parametrize(
    "metric",
    [
        pytest.param(lambda e: first_relevant_rank([at("a", 1)], e, "page"), id="rank"),
        pytest.param(lambda e: recall_at_k([at("a", 1)], e, 5, "page"), id="recall"),
        pytest.param(lambda e: mrr_at_k([at("a", 1)], e, 5, "page"), id="mrr"),
        pytest.param(lambda e: ndcg_at_k([at("a", 1)], e, 5, "page"), id="ndcg"),
    ],
)
def test_out_of_scope_question_is_not_scored_by_retrieval_metrics(
    metric: Callable[[list[ExpectedSource]], object],
) -> None:
    with pytest.raises(ValueError, match="out-of-scope"):
        metric([])


@pytest.mark.parametrize(
    "metric",
    [
        pytest.param(recall_at_k, id="recall"),
        pytest.param(mrr_at_k, id="mrr"),
        pytest.param(ndcg_at_k, id="ndcg"),
    ],
)
def test_k_below_one_is_rejected(metric: Callable[..., float]) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric([at("a", 3)], expect(a=[3]), 0, "page")


# --- keyword_hit ---


@pytest.mark.parametrize(
    ("passages", "keywords", "hit"),
    [
        pytest.param(["around 4,200 reporting radiographers"], ["4,200"], True, id="one-passage"),
        pytest.param(
            ["Pay scales 26", "Banding restrictions 24"],
            ["pay scales", "banding"],
            True,
            id="split-across-passages",
        ),
        pytest.param(["Pay scales 26"], ["pay scales", "banding"], False, id="one-keyword-missing"),
        pytest.param(
            ["the shortfall of\n around  17,750 WTE"],
            ["SHORTFALL OF AROUND"],
            True,
            id="case-and-whitespace",
        ),
        pytest.param([], ["13,025"], False, id="no-passages"),
    ],
)
def test_keyword_hit(passages: list[str], keywords: list[str], hit: bool) -> None:
    assert keyword_hit(passages, keywords) is hit


def test_keyword_hit_needs_keywords() -> None:
    with pytest.raises(ValueError, match="at least one keyword"):
        keyword_hit(["text"], [])


def test_normalise_text_folds_case_and_whitespace() -> None:
    assert normalise_text("  Data\n Driven\tFUTURE ") == "data driven future"


# --- percentile ---


@pytest.mark.parametrize(
    ("values", "p", "result"),
    [
        pytest.param([4.0, 1.0, 3.0, 2.0], 50, 2.5, id="median-of-even-count"),
        pytest.param([1.0, 2.0, 3.0, 4.0], 0, 1.0, id="p0-is-min"),
        pytest.param([1.0, 2.0, 3.0, 4.0], 100, 4.0, id="p100-is-max"),
        pytest.param([10.0, 20.0], 95, 19.5, id="linear-interpolation"),
        pytest.param([7.0], 95, 7.0, id="single-value"),
    ],
)
def test_percentile(values: list[float], p: float, result: float) -> None:
    assert percentile(values, p) == pytest.approx(result)


@pytest.mark.parametrize(
    ("values", "p", "says"),
    [
        pytest.param([], 50, "no values", id="empty"),
        pytest.param([1.0], 101, "between 0 and 100", id="p-above-100"),
        pytest.param([1.0], -1, "between 0 and 100", id="p-below-0"),
    ],
)
def test_percentile_rejects_bad_input(values: list[float], p: float, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        percentile(values, p)


# --- mean_by_type ---


def test_mean_by_type_groups_and_averages_reported_metrics() -> None:
    results = [
        QuestionScores("q-1", QuestionType.factual, {"recall": 1.0, "mrr": 0.5}),
        QuestionScores("q-2", QuestionType.out_of_scope, {"declined": 1.0}),
        QuestionScores("q-3", QuestionType.factual, {"recall": 0.0, "mrr": 0.0}),
    ]

    means = mean_by_type(results)

    assert list(means) == ["factual", "out-of-scope", "all"]
    assert means["factual"] == {"n": 2.0, "recall": 0.5, "mrr": 0.25}
    assert means["out-of-scope"] == {"n": 1.0, "declined": 1.0}
    assert means["all"] == {"n": 3.0, "recall": 0.5, "mrr": 0.25, "declined": 1.0}


def test_mean_by_type_of_nothing_is_empty() -> None:
    assert mean_by_type([]) == {}


@pytest.mark.parametrize(
    ("answer", "keywords", "expected"),
    [
        pytest.param("About 13,025 staff work here.", ["13,025"], True, id="number-present"),
        pytest.param("About 13,000 staff work here.", ["13,025"], False, id="close-is-not-equal"),
        pytest.param(
            "From 8 March\nto 8 April 2022.", ["8 march", "8 April 2022"], True, id="case-and-lines"
        ),
        pytest.param(
            "From 8 March onwards.", ["8 March", "8 April 2022"], False, id="every-keyword"
        ),
    ],
)
def test_fact_in_answer_needs_every_keyword_in_the_answer_text(answer, keywords, expected):
    assert fact_in_answer(answer, keywords) is expected


@pytest.mark.parametrize(
    ("quotes", "expected"),
    [
        pytest.param([("A fact.", ["Intro. A fact. More."])], True, id="substring"),
        pytest.param([("cut at the\nbreak", ["cut at the\n\nbreak here"])], True, id="whitespace"),
        pytest.param([("A Fact.", ["Intro. A fact. More."])], False, id="case-matters"),
        pytest.param([("A fact.", ["Intro."]), ("Intro.", ["Intro."])], False, id="each-quote"),
        pytest.param([("Two.", ["One.", "Two."])], True, id="any-cited-passage"),
    ],
)
def test_is_verbatim_checks_each_quote_against_its_cited_passages(quotes, expected):
    assert is_verbatim(quotes) is expected
