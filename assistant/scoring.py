"""Scores evaluation results: per-question metrics, their means per type, goals, comparisons.

Pure functions of the records in assistant/eval_types.py (no model, no index), built on the
metric functions of assistant/metrics.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from assistant.eval_types import BASELINE, EvalResults, Goal, Latency, QuestionResult
from assistant.metrics import (
    ALL_TYPES,
    QuestionScores,
    mean_by_type,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from assistant.types import Outcome
from index.types import Mode

CUTOFFS = (1, 5, 10)
KEYWORD_DEPTH = 5  # the passages an answer is written from

# The targets of issue 8, met on the development set and checked on the holdout.
RETRIEVAL_TARGETS = (
    ("recall@5/page", "page recall@5", 0.90),
    ("mrr@10/page", "page MRR@10", 0.75),
)
ANSWER_TARGETS = (
    ("fact", "fact in answer (answered questions)", 0.75),
    ("verbatim", "answer text verbatim", 1.0),
)
DECISION_TARGETS = (("answerable questions answered", 0.95), ("out-of-scope declined", 0.85))
LATENCY_TARGET = 0.100  # seconds, p95 of one answer


def metric_cutoffs(k: int) -> list[int]:
    """Return the recall cutoffs reported for a retrieval depth k: 1, 5, 10 up to k, and k."""
    return sorted({c for c in CUTOFFS if c <= k} | {k})


def question_scores(result: QuestionResult, system: str, k: int) -> QuestionScores:
    """Return one question's metric values for one system.

    Answerable questions: `recall@c/<level>`, `mrr@k/<level>` (document and page), `ndcg@k/page`,
    `keyword@5` (the top passages hold the fact), `answered`, and `fact/all` (answered, with the
    fact in the answer's text). Answered answerable questions also give `fact` (the fact is in
    the answer's text: its mean is the share of answers that contain it). Out-of-scope
    questions give `declined`. Every answered question gives `verbatim`; every question gives
    `outcome`, 1.0 when the not-covered decision was right.
    """
    found = result.systems[system]
    scores: dict[str, float] = {}
    answered = found.outcome is Outcome.answered
    if result.answerable:
        for level in ("document", "page"):
            for cutoff in metric_cutoffs(k):
                scores[f"recall@{cutoff}/{level}"] = recall_at_k(
                    found.hits, result.expected, cutoff, level
                )
            scores[f"mrr@{k}/{level}"] = mrr_at_k(found.hits, result.expected, k, level)
        scores[f"ndcg@{k}/page"] = ndcg_at_k(found.hits, result.expected, k, "page")
        scores[f"keyword@{KEYWORD_DEPTH}"] = float(bool(found.keyword_hit))
        scores["answered"] = float(answered)
        scores["fact/all"] = float(answered and bool(found.fact_in_answer))
        if answered:
            scores["fact"] = float(bool(found.fact_in_answer))
    else:
        scores["declined"] = float(not answered)
    if answered and found.verbatim is not None:
        scores["verbatim"] = float(found.verbatim)
    scores["outcome"] = float(answered == result.answerable)
    return QuestionScores(question_id=result.id, type=result.type, scores=scores)


def aggregate(
    results: Sequence[QuestionResult], system: str, k: int
) -> dict[str, dict[str, float]]:
    """Return a system's mean metrics per question type and over all questions ('all')."""
    return mean_by_type(question_scores(result, system, k) for result in results)


def decision_rates(results: Iterable[QuestionResult], system: str) -> tuple[float, float]:
    """Return (share of answerable questions answered, share of out-of-scope ones declined)."""
    answered: list[bool] = []
    declined: list[bool] = []
    for result in results:
        covered = result.systems[system].outcome is Outcome.answered
        if result.answerable:
            answered.append(covered)
        else:
            declined.append(not covered)
    return share(answered), share(declined)


def share(flags: list[bool]) -> float:
    """Return the share of true flags, or NaN for none."""
    return sum(flags) / len(flags) if flags else math.nan


def latency_of(results: Sequence[QuestionResult], system: str, first_call: float) -> Latency:
    """Return a system's answer-time percentiles over the questions."""
    seconds = [result.systems[system].seconds for result in results]
    return Latency(p50=percentile(seconds, 50), p95=percentile(seconds, 95), first_call=first_call)


def check_goals(
    metrics: dict[str, dict[str, dict[str, float]]],
    rates: tuple[float, float] | None,
    latency: Latency | None = None,
) -> list[Goal]:
    """Return the goals the hybrid mode (what users get) should meet, each with pass or fail.

    Goals whose system or metric was not measured in this run are left out.
    """
    hybrid = metrics.get(Mode.hybrid.value, {}).get(ALL_TYPES)
    if hybrid is None:
        return []
    goals: list[Goal] = []
    for metric, label, target in (*RETRIEVAL_TARGETS, *ANSWER_TARGETS):
        if metric in hybrid:
            goals.append(
                Goal(
                    goal=f"hybrid {label} ≥ {target:.2f}",
                    measured=f"{hybrid[metric]:.3f}",
                    passed=hybrid[metric] >= target - 1e-9,
                )
            )
    for other in (BASELINE, Mode.dense.value, Mode.bm25.value):
        theirs = metrics.get(other, {}).get(ALL_TYPES)
        for metric, label in (("recall@5/page", "page recall@5"), ("mrr@10/page", "page MRR@10")):
            if theirs is not None and metric in hybrid and metric in theirs:
                goals.append(
                    Goal(
                        goal=f"hybrid ahead of {other} on {label}",
                        measured=f"{hybrid[metric]:.3f} vs {theirs[metric]:.3f}",
                        passed=hybrid[metric] > theirs[metric],
                    )
                )
    if rates is not None:
        for rate, (label, target) in zip(rates, DECISION_TARGETS, strict=True):
            if not math.isnan(rate):
                goals.append(
                    Goal(
                        goal=f"{label} ≥ {target:.0%}",
                        measured=f"{rate:.1%}",
                        passed=rate >= target,
                    )
                )
    if latency is not None:
        goals.append(
            Goal(
                goal=f"answer latency p95 ≤ {LATENCY_TARGET * 1000:.0f} ms",
                measured=f"{latency.p95 * 1000:.0f} ms",
                passed=latency.p95 <= LATENCY_TARGET,
            )
        )
    return goals


# ---------------------------------------------------------------------------------------------
# Comparing two runs


class RankChange(BaseModel):
    """A question whose first correct page moved, or whose answer gained or lost the fact."""

    question_id: str
    system: str
    before: int | None
    after: int | None
    what: str = Field(default="page rank", description="'page rank' or 'fact in answer'.")


class MetricDelta(BaseModel):
    """An overall metric of one system in an earlier run and in this one."""

    system: str
    metric: str
    before: float
    after: float


class Comparison(BaseModel):
    """What improved and what regressed since an earlier run of the same question set."""

    question_set: str
    before: str = Field(description="The earlier run: its date and index version.")
    improved: list[RankChange]
    regressed: list[RankChange]
    deltas: list[MetricDelta]
    only_before: list[str] = Field(description="Questions the earlier run had and this lacks.")
    only_after: list[str]


def compare_results(before: EvalResults, after: EvalResults) -> Comparison:
    """Return the per-question changes (first correct page, fact in answer) and metric deltas."""
    earlier = {q.id: q for q in before.questions}
    later = {q.id: q for q in after.questions}
    improved: list[RankChange] = []
    regressed: list[RankChange] = []
    for question_id, now in later.items():
        then = earlier.get(question_id)
        if then is None or not now.answerable:
            continue
        for system, found in now.systems.items():
            if system not in then.systems:
                continue
            old = then.systems[system]
            change = RankChange(
                question_id=question_id, system=system, before=old.page_rank, after=found.page_rank
            )
            if rank_order(change.after) < rank_order(change.before):
                improved.append(change)
            elif rank_order(change.after) > rank_order(change.before):
                regressed.append(change)
            had, has = bool(old.fact_in_answer), bool(found.fact_in_answer)
            if had != has:
                fact = RankChange(
                    question_id=question_id,
                    system=system,
                    before=int(had),
                    after=int(has),
                    what="fact in answer",
                )
                (improved if has else regressed).append(fact)
    deltas = [
        MetricDelta(system=system, metric=metric, before=old[metric], after=value)
        for system in after.systems
        if (old := before.metrics.get(system, {}).get(ALL_TYPES)) is not None
        for metric, value in after.metrics[system][ALL_TYPES].items()
        if metric != "n" and metric in old
    ]
    return Comparison(
        question_set=after.question_set,
        before=f"{before.created_at:%Y-%m-%d %H:%M} UTC, index {before.index_version}",
        improved=improved,
        regressed=regressed,
        deltas=deltas,
        only_before=sorted(set(earlier) - set(later)),
        only_after=sorted(set(later) - set(earlier)),
    )


def rank_order(rank: int | None) -> float:
    """Return a rank for sorting, with 'not found' after every rank."""
    return math.inf if rank is None else rank
