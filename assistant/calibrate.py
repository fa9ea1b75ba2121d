"""Calibrates the not-covered decision on a development set: signal weights and a threshold.

An answer's evidence is summed up by a few signals (`Evidence.signals`, assistant/types.py):
the best passage's dense cosine, the best answer sentence's cosine, the share of the
question's rarer words that the evidence contains, how far the dense and keyword rankings
agree, the share of its specialist words that the index uses, and the share of what it names
that the evidence mentions. Their weighted sum is the answer's confidence; below the threshold,
the guidance is taken not to cover the question. Two rules decline whatever the confidence
(`ruled_out`); one answers whatever it (`ruled_in`). Calibration picks the weights from a small grid and the threshold for them by
CALIBRATION_RULE, on development questions only (never on a holdout set).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from index.store import read_meta, write_meta
from index.types import Calibration
from ingest.errors import IgaError

MIN_ANSWERED = 0.95  # share of answerable questions that must still be answered

# The grid the weights are chosen from. The dense cosine always counts with weight 1, so the
# threshold stays on its familiar scale; the other signals add to it.
WEIGHT_GRID: dict[str, tuple[float, ...]] = {
    "sentence": (0.0, 0.5, 1.0),
    "coverage": (0.0, 0.1, 0.2, 0.3, 0.4),
    "agreement": (0.0, 0.05, 0.1),
    "known": (0.0, 0.1, 0.2, 0.3),
    "named": (0.0, 0.1, 0.2, 0.3),
}

CALIBRATION_RULE = (
    "A question is answered when its confidence (the best passage's dense cosine plus weighted "
    "evidence signals) is at least the threshold. For each weighting in a small grid, among "
    f"thresholds that keep at least {MIN_ANSWERED:.0%} of answerable questions answered, take "
    "the one that declines the most out-of-scope questions: the lowest answerable confidence "
    "that must stay answered, placed mid-gap below it. The weighting that declines the most wins; "
    "ties go to the widest gap between the answered and the declined, then to the simplest. "
    "Questions declined by rule whatever the threshold (the evidence never mentions a year the "
    "question names, or the answer to a date or number question gives none), or answered by "
    "rule (a list question that asks for nothing but what its list is headed by), take no "
    "part in choosing it."
)


def ruled_out(signals: Mapping[str, float]) -> bool:
    """Return whether the evidence fails a rule that declines whatever the threshold: it never
    mentions a year the question names (signal 'years' below 1), or the answer to a date or
    number question gives no date or number in a sentence about the question (signal 'figure'
    0)."""
    return signals.get("years", 1.0) < 1.0 or signals.get("figure", 1.0) < 1.0


def ruled_in(signals: Mapping[str, float]) -> bool:
    """Return whether the evidence passes the rule that answers whatever the threshold: a
    list question that asks for nothing but what the answer's list, or the section it quotes
    the opening of, is headed by ("What are the recommendations?" under a filter, answered
    by "Recommendation 1: ..."; "What are the next steps?" by its section), or whose
    answer is the series its noun labels, narrowed to items that use every other word it
    asks about ("What are the recommendations about leadership?": Recommendations 5 and 6);
    signal 'listed' 1. Short questions embed poorly, so their cosines say little; the
    heading or label says what the list is. A rule that declines (`ruled_out`) still wins."""
    return signals.get("listed", 0.0) >= 1.0 and not ruled_out(signals)


def answers(signals: Mapping[str, float], confidence: float, threshold: float) -> bool:
    """Return whether evidence with these signals and confidence is given as an answer."""
    return not ruled_out(signals) and (confidence >= threshold or ruled_in(signals))


def choose_threshold(
    answerable: Sequence[float],
    out_of_scope: Sequence[float],
    *,
    min_answered: float = MIN_ANSWERED,
) -> float:
    """Return the not-covered threshold that declines the most out-of-scope questions while
    keeping at least `min_answered` of the answerable ones answered (see CALIBRATION_RULE)."""
    if not answerable or not out_of_scope:
        raise IgaError(
            "calibration needs both answerable and out-of-scope questions in the question set: "
            "add out-of-scope questions (type: out-of-scope), then rerun `iga eval --calibrate`"
        )
    scores = sorted(answerable)
    may_drop = math.floor(len(scores) * (1 - min_answered) + 1e-9)
    lowest_kept = scores[may_drop]
    below = max((s for s in [*answerable, *out_of_scope] if s < lowest_kept), default=lowest_kept)
    return (lowest_kept + below) / 2


def confidence(signals: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Return the evidence confidence: dense cosine plus the weighted other signals."""
    return signals.get("dense", -1.0) + sum(
        weight * signals.get(name, 0.0) for name, weight in weights.items()
    )


def choose_weights(
    answerable: Sequence[Mapping[str, float]],
    out_of_scope: Sequence[Mapping[str, float]],
    *,
    grid: Mapping[str, Sequence[float]] = WEIGHT_GRID,
    min_answered: float = MIN_ANSWERED,
) -> tuple[dict[str, float], float]:
    """Return the weights and threshold that decline the most out-of-scope questions while
    answering at least `min_answered` of the answerable ones (see CALIBRATION_RULE)."""
    best: tuple[tuple[float, float, float], dict[str, float], float] | None = None
    names = list(grid)
    for values in itertools.product(*(grid[name] for name in names)):
        weights = {n: v for n, v in zip(names, values, strict=True) if v}
        kept = [confidence(s, weights) for s in answerable]
        dropped = [confidence(s, weights) for s in out_of_scope]
        threshold = choose_threshold(kept, dropped, min_answered=min_answered)
        declined = sum(c < threshold for c in dropped) / len(dropped)
        # The gap between the lowest answered and the highest declined, relative to the spread
        # of the scores, so weightings on different scales compare fairly.
        spread = (max(kept + dropped) - min(kept + dropped)) or 1.0
        above = min((c for c in kept if c >= threshold), default=threshold)
        below = max((c for c in [*kept, *dropped] if c < threshold), default=threshold)
        key = (declined, (above - below) / spread, -sum(values))
        if best is None or key > best[0]:
            best = (key, weights, threshold)
    assert best is not None
    return best[1], best[2]


def predicted_rates(
    answerable: Sequence[float], out_of_scope: Sequence[float], threshold: float
) -> tuple[float, float]:
    """Return the (answered, declined) shares a threshold gives these confidences."""
    answered = [score >= threshold for score in answerable]
    declined = [score < threshold for score in out_of_scope]
    return (
        sum(answered) / len(answered) if answered else math.nan,
        sum(declined) / len(declined) if declined else math.nan,
    )


def store_calibration(folder: Path, calibration: Calibration) -> None:
    """Write the calibration into an index version's metadata (the version it was measured on)."""
    write_meta(folder, read_meta(folder).model_copy(update={"calibration": calibration}))
