"""`iga eval`: measures whether the right document and page are found, per retrieval mode.

The recipe:
1. Ask every question of a set through the assistant in each retrieval mode (dense, BM25,
   hybrid), as a user would, and through the tutorial baseline (assistant/baseline.py).
2. Score each answer's ranked passages with the pure functions of assistant/metrics.py:
   recall@1/5/10 and MRR@10 at document and page level, nDCG@10 at page level, whether the top
   five passages hold the expected keywords, and whether the not-covered decision was right.
3. Average per question type and overall; time each answer (p50/p95 per mode).
4. Optionally (`--calibrate`) set the not-covered threshold from the questions' best dense
   cosine and store it with the served index (see `choose_threshold` for the rule).
5. Write report.md, results.json (every number and every question's result) and chart.png,
   and optionally compare with an earlier results.json, question by question.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.metrics import (
    ALL_TYPES,
    QuestionScores,
    first_relevant_rank,
    keyword_hit,
    mean_by_type,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from assistant.questions import (
    QUESTIONS_DIR,
    ExpectedSource,
    Question,
    QuestionSet,
    QuestionType,
    load_question_set,
)
from assistant.types import Outcome
from index.store import IndexStoreError, current_version_dir, read_meta, write_meta
from index.types import Calibration, Hit, Mode
from ingest.errors import IgaError
from ingest.settings import Settings

if TYPE_CHECKING:  # loaded when a run starts, so that `iga --help` stays quick
    from assistant.answer import Assistant
    from assistant.baseline import BaselineIndex

BASELINE = "baseline"
DEFAULT_QUESTIONS = QUESTIONS_DIR / "dev.yaml"
CUTOFFS = (1, 5, 10)
KEYWORD_DEPTH = 5  # the passages an answer is written from
MIN_ANSWERED = 0.95  # calibration: share of answerable questions that must still be answered
WARM_UP = "How should imaging networks share reporting capacity?"


# ---------------------------------------------------------------------------------------------
# Records


class HitRecord(BaseModel):
    """One retrieved passage as the results keep it: where it is and how it scored."""

    doc: str
    pages: list[int] = Field(description="Physical pages the passage spans, first to last.")
    passage_id: str
    score: float

    # The metric functions read a hit's document and page range under these names.
    @property
    def doc_id(self) -> str:
        return self.doc

    @property
    def first_page(self) -> int:
        return self.pages[0]

    @property
    def last_page(self) -> int:
        return self.pages[-1]


class SystemResult(BaseModel):
    """How one system (a retrieval mode, or the baseline) did on one question."""

    page_rank: int | None = Field(description="Rank of the first hit on an expected page.")
    doc_rank: int | None = Field(description="Rank of the first hit on an expected document.")
    keyword_hit: bool | None = Field(description="Top passages hold every keyword (answerable).")
    outcome: Outcome
    best_dense: float | None
    seconds: float
    hits: list[HitRecord]


class QuestionResult(BaseModel):
    """One question and what every system made of it."""

    id: str
    question: str
    type: QuestionType
    expected: list[ExpectedSource]
    keywords: list[str]
    systems: dict[str, SystemResult]

    @property
    def answerable(self) -> bool:
        return self.type is not QuestionType.out_of_scope


class Latency(BaseModel):
    """Seconds per answer: median, 95th percentile, and the untimed first call (warm-up)."""

    p50: float
    p95: float
    first_call: float


class Goal(BaseModel):
    """A target the system should meet on the development set, and whether it does."""

    goal: str
    measured: str
    passed: bool


class CalibrationRun(BaseModel):
    """What `--calibrate` chose, and the decision rates measured before and after."""

    rule: str
    threshold_before: float
    source_before: str
    threshold: float
    answered_before: float
    declined_before: float
    answered_after: float
    declined_after: float


class EvalResults(BaseModel):
    """Everything one evaluation run measured: aggregates, goals and every question's result."""

    question_set: str
    questions_path: str
    created_at: dt.datetime
    index_version: str
    model: str
    passages: int
    k: int
    systems: list[str] = Field(description="The retrieval modes evaluated, then 'baseline'.")
    threshold: float = Field(description="The not-covered threshold the answers were judged by.")
    threshold_source: str
    metrics: dict[str, dict[str, dict[str, float]]] = Field(
        description="system -> question type (or 'all') -> metric -> mean; 'n' counts questions."
    )
    latency: dict[str, Latency]
    goals: list[Goal]
    calibration: CalibrationRun | None = None
    seconds: float
    questions: list[QuestionResult]


# ---------------------------------------------------------------------------------------------
# Scoring


def metric_cutoffs(k: int) -> list[int]:
    """Return the recall cutoffs reported for a retrieval depth k: 1, 5, 10 up to k, and k."""
    return sorted({c for c in CUTOFFS if c <= k} | {k})


def question_scores(result: QuestionResult, system: str, k: int) -> QuestionScores:
    """Return one question's metric values for one system.

    Answerable questions: `recall@c/<level>`, `mrr@k/<level>` (document and page), `ndcg@k/page`,
    `keyword@5`. Every question: `outcome`, 1.0 when the not-covered decision was right
    (answerable answered, out-of-scope declined).
    """
    found = result.systems[system]
    scores: dict[str, float] = {}
    if result.answerable:
        for level in ("document", "page"):
            for cutoff in metric_cutoffs(k):
                scores[f"recall@{cutoff}/{level}"] = recall_at_k(
                    found.hits, result.expected, cutoff, level
                )
            scores[f"mrr@{k}/{level}"] = mrr_at_k(found.hits, result.expected, k, level)
        scores[f"ndcg@{k}/page"] = ndcg_at_k(found.hits, result.expected, k, "page")
        scores[f"keyword@{KEYWORD_DEPTH}"] = float(bool(found.keyword_hit))
    declined = found.outcome is Outcome.not_covered
    scores["outcome"] = float(declined != result.answerable)
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
    return _share(answered), _share(declined)


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else math.nan


def latency_of(results: Sequence[QuestionResult], system: str, first_call: float) -> Latency:
    """Return a system's answer-time percentiles over the questions."""
    seconds = [result.systems[system].seconds for result in results]
    return Latency(p50=percentile(seconds, 50), p95=percentile(seconds, 95), first_call=first_call)


def check_goals(
    metrics: dict[str, dict[str, dict[str, float]]], rates: tuple[float, float] | None
) -> list[Goal]:
    """Return the development-set goals the hybrid mode should meet, each with pass or fail.

    Goals whose system or metric was not measured in this run are left out.
    """
    hybrid = metrics.get(Mode.hybrid.value, {}).get(ALL_TYPES)
    if hybrid is None:
        return []
    goals: list[Goal] = []
    for metric, label, target in (
        ("recall@5/page", "page recall@5", 0.90),
        ("mrr@10/page", "page MRR@10", 0.75),
        ("recall@5/document", "document recall@5", 0.97),
    ):
        if metric in hybrid:
            goals.append(
                Goal(
                    goal=f"hybrid {label} ≥ {target:.2f}",
                    measured=f"{hybrid[metric]:.3f}",
                    passed=hybrid[metric] >= target,
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
        answered, declined = rates
        for rate, label, target in (
            (answered, "answerable questions answered", 0.95),
            (declined, "out-of-scope questions declined", 0.80),
        ):
            if not math.isnan(rate):
                goals.append(
                    Goal(
                        goal=f"{label} ≥ {target:.0%}",
                        measured=f"{rate:.1%}",
                        passed=rate >= target,
                    )
                )
    return goals


# ---------------------------------------------------------------------------------------------
# Calibration


CALIBRATION_RULE = (
    "A question is answered when its best passage's dense cosine is at least the threshold. "
    f"Among thresholds that keep at least {MIN_ANSWERED:.0%} of answerable questions answered, "
    "take the one that declines the most out-of-scope questions: the lowest answerable score that "
    "must stay answered. Since every threshold in the gap below that score gives the same rates "
    "on the set, it is placed mid-gap, halfway to the next lower score of any question."
)


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


def store_calibration(folder: Path, calibration: Calibration) -> None:
    """Write the calibration into an index version's metadata (the version it was measured on)."""
    write_meta(folder, read_meta(folder).model_copy(update={"calibration": calibration}))


def predicted_rates(
    answerable: Sequence[float], out_of_scope: Sequence[float], threshold: float
) -> tuple[float, float]:
    """Return the (answered, declined) shares a threshold gives, judging by best cosine alone."""
    return (
        _share([score >= threshold for score in answerable]),
        _share([score < threshold for score in out_of_scope]),
    )


def _best_dense(result: QuestionResult, system: str) -> float:
    best = result.systems[system].best_dense
    return -1.0 if best is None else best  # no passage at all: as far from covered as can be


# ---------------------------------------------------------------------------------------------
# The run


def run_evaluation(
    settings: Settings,
    question_set: QuestionSet,
    *,
    questions_path: Path,
    k: int = 10,
    modes: Sequence[Mode] = tuple(Mode),
    baseline: bool = True,
    calibrate: bool = False,
    console: Console | None = None,
) -> EvalResults:
    """Return the results of asking every question in each mode (and of the baseline).

    Args:
        settings: Where the served index is (`data_dir`), and the model.
        question_set: The questions, with where their answers are.
        questions_path: Where the set was read from (recorded in the results).
        k: Passages retrieved per question; the depth of MRR and nDCG.
        modes: Retrieval modes to evaluate. Hybrid, what users get, is run first, so it is
            timed with nothing cached from the other modes.
        baseline: Also build and score the tutorial baseline.
        calibrate: First set the not-covered threshold from a hybrid pass and store it with the
            index; the evaluation then runs with it.
        console: Where to show a progress bar (none when None).
    """
    from assistant.answer import Assistant
    from assistant.baseline import BaselineIndex

    # Validate the options.
    started = time.perf_counter()
    modes = sorted(set(modes), key=lambda m: (m is not Mode.hybrid, list(Mode).index(m)))
    if not modes:
        raise IgaError("no retrieval modes to evaluate: pass --modes dense,bm25,hybrid")
    if calibrate and Mode.hybrid not in modes:
        raise IgaError("--calibrate judges hybrid answers (what users get): add hybrid to --modes")
    questions = question_set.questions
    passes = len(modes) + int(baseline) + int(calibrate)

    with _progress(console) as progress:
        task = progress.add_task("loading", total=passes * len(questions))

        def advance() -> None:
            progress.advance(task)

        assistant = Assistant.load(settings)
        results = [_question_result(q) for q in questions]

        # Time answers as `iga serve` gives them, with every sentence's vector computed once.
        progress.update(task, description="preparing sentence vectors")
        assistant.prepare_sentences()

        # Calibrate on a hybrid pass first, so that everything after runs as users will see it.
        calibration_run = None
        if calibrate:
            progress.update(task, description="calibrating")
            assistant, calibration_run = _calibrate(assistant, question_set, k, advance=advance)

        # Ask every question in every mode, then the baseline.
        first_calls: dict[str, float] = {}
        for mode in modes:
            progress.update(task, description=mode.value)
            first_calls[mode.value] = _ask_all(assistant, results, mode, k, advance=advance)
        if baseline:
            progress.update(task, description="baseline: extracting and embedding")
            index = BaselineIndex.build(
                settings, assistant.index.meta.documents, assistant.index.embedder
            )
            progress.update(task, description=BASELINE)
            first_calls[BASELINE] = _search_all(index, results, k, advance=advance)

    # Store the calibration with the index version it was measured on, with its measured rates.
    calibration = assistant.index.meta.calibration
    if calibration_run is not None and calibration is not None:
        answered, declined = decision_rates(results, Mode.hybrid)
        store_calibration(
            assistant.index.folder,
            calibration.model_copy(update={"answered_rate": answered, "declined_rate": declined}),
        )
        calibration_run = calibration_run.model_copy(
            update={"answered_after": answered, "declined_after": declined}
        )

    # Aggregate.
    systems = [m.value for m in modes] + ([BASELINE] if baseline else [])
    metrics = {system: aggregate(results, system, k) for system in systems}
    rates = decision_rates(results, Mode.hybrid) if Mode.hybrid in modes else None
    threshold_now, source_now = assistant.threshold
    return EvalResults(
        question_set=question_set.name,
        questions_path=str(questions_path),
        created_at=dt.datetime.now(dt.UTC),
        index_version=assistant.index.meta.version,
        model=assistant.index.meta.model.name,
        passages=assistant.index.meta.passages,
        k=k,
        systems=systems,
        threshold=threshold_now,
        threshold_source=source_now,
        metrics=metrics,
        latency={s: latency_of(results, s, first_calls[s]) for s in systems},
        goals=check_goals(metrics, rates),
        calibration=calibration_run,
        seconds=round(time.perf_counter() - started, 1),
        questions=results,
    )


def _calibrate(
    assistant: Assistant, question_set: QuestionSet, k: int, *, advance: Callable[[], None]
) -> tuple[Assistant, CalibrationRun]:
    """Return an assistant that judges by a threshold calibrated on a hybrid pass, and a record
    of the calibration (its 'after' rates predicted from the cosines, until measured)."""
    from assistant.answer import Assistant
    from index.retrieve import SearchIndex

    # Measure the best dense cosine of every question, and the decisions made today.
    threshold_before, source_before = assistant.threshold
    probe = [_question_result(q) for q in question_set.questions]
    _ask_all(assistant, probe, Mode.hybrid, k, advance=advance)
    answered_before, declined_before = decision_rates(probe, Mode.hybrid)

    # Choose the threshold.
    answerable = [_best_dense(r, Mode.hybrid) for r in probe if r.answerable]
    out_of_scope = [_best_dense(r, Mode.hybrid) for r in probe if not r.answerable]
    threshold = choose_threshold(answerable, out_of_scope)
    answered, declined = predicted_rates(answerable, out_of_scope, threshold)
    calibration = Calibration(
        threshold=threshold,
        question_set=question_set.name,
        calibrated_at=dt.datetime.now(dt.UTC),
        answered_rate=answered,
        declined_rate=declined,
    )

    # The same index and model, judging by the new threshold (stored once measured).
    index = assistant.index
    calibrated = SearchIndex(
        index.folder,
        index.meta.model_copy(update={"calibration": calibration}),
        embedder=index.embedder,
        settings=index.settings,
    )
    record = CalibrationRun(
        rule=CALIBRATION_RULE,
        threshold_before=threshold_before,
        source_before=source_before,
        threshold=threshold,
        answered_before=answered_before,
        declined_before=declined_before,
        answered_after=answered,
        declined_after=declined,
    )
    return Assistant(calibrated, glossary=assistant.glossary, settings=assistant.settings), record


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    )


def _question_result(question: Question) -> QuestionResult:
    return QuestionResult(
        id=question.id,
        question=question.question,
        type=question.type,
        expected=list(question.expected),
        keywords=list(question.keywords),
        systems={},
    )


def _ask_all(
    assistant: Assistant,
    results: list[QuestionResult],
    mode: Mode,
    k: int,
    *,
    advance: Callable[[], None],
) -> float:
    """Answer every question in one mode, filling in its results; return the warm-up's seconds."""
    # The first call pays one-off costs (BM25's compilation, torch's first pass): time it apart.
    started = time.perf_counter()
    assistant.answer(WARM_UP, mode=mode, k=k)
    first_call = time.perf_counter() - started
    for result in results:
        started = time.perf_counter()
        answer = assistant.answer(result.question, mode=mode, k=k)
        seconds = time.perf_counter() - started
        result.systems[mode.value] = _system_result(
            result, answer.hits, answer.outcome, answer.evidence.best_dense, seconds
        )
        advance()
    return first_call


def _search_all(
    index: BaselineIndex, results: list[QuestionResult], k: int, *, advance: Callable[[], None]
) -> float:
    """Search every question with the baseline, which answers everything; return the warm-up's seconds."""
    started = time.perf_counter()
    index.search(WARM_UP, k=k)
    first_call = time.perf_counter() - started
    for result in results:
        started = time.perf_counter()
        hits = index.search(result.question, k=k)
        seconds = time.perf_counter() - started
        best = hits[0].score if hits else None
        result.systems[BASELINE] = _system_result(result, hits, Outcome.answered, best, seconds)
        advance()
    return first_call


def _system_result(
    result: QuestionResult,
    hits: list[Hit],
    outcome: Outcome,
    best_dense: float | None,
    seconds: float,
) -> SystemResult:
    """Return what a system's hits and decision score on a question."""
    passages = [hit.passage for hit in hits]
    answerable = result.answerable
    return SystemResult(
        page_rank=first_relevant_rank(passages, result.expected, "page") if answerable else None,
        doc_rank=first_relevant_rank(passages, result.expected, "document") if answerable else None,
        keyword_hit=(
            keyword_hit([p.text for p in passages[:KEYWORD_DEPTH]], result.keywords)
            if answerable
            else None
        ),
        outcome=outcome,
        best_dense=best_dense,
        seconds=round(seconds, 5),
        hits=[
            HitRecord(
                doc=hit.passage.doc_id,
                pages=list(range(hit.passage.first_page, hit.passage.last_page + 1)),
                passage_id=hit.passage.id,
                score=round(hit.score, 5),
            )
            for hit in hits
        ],
    )


# ---------------------------------------------------------------------------------------------
# Comparing two runs


class RankChange(BaseModel):
    """A question whose first correct page moved, in one system."""

    question_id: str
    system: str
    before: int | None
    after: int | None


class MetricDelta(BaseModel):
    """An overall metric of one system in an earlier run and in this one."""

    system: str
    metric: str
    before: float
    after: float


class Comparison(BaseModel):
    """What improved and what regressed since an earlier run."""

    before: str = Field(description="The earlier run: its date and index version.")
    improved: list[RankChange]
    regressed: list[RankChange]
    deltas: list[MetricDelta]
    only_before: list[str] = Field(description="Questions the earlier run had and this lacks.")
    only_after: list[str]


def load_results(path: Path) -> EvalResults:
    """Return the results saved in a results.json, or raise IgaError naming the file."""
    try:
        return EvalResults.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IgaError(
            f"no results file at {path}: pass the results.json of an earlier run"
        ) from None
    except ValidationError as exc:
        raise IgaError(
            f"{path} is not an `iga eval` results.json ({exc.error_count()} problems, first: "
            f"{exc.errors()[0]['msg']}); pass the results.json of an earlier run"
        ) from None


def compare_results(before: EvalResults, after: EvalResults) -> Comparison:
    """Return the per-question rank changes (first correct page) and overall metric deltas."""
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
            change = RankChange(
                question_id=question_id,
                system=system,
                before=then.systems[system].page_rank,
                after=found.page_rank,
            )
            if _rank_order(change.after) < _rank_order(change.before):
                improved.append(change)
            elif _rank_order(change.after) > _rank_order(change.before):
                regressed.append(change)
    deltas = [
        MetricDelta(system=system, metric=metric, before=old[metric], after=value)
        for system in after.systems
        if (old := before.metrics.get(system, {}).get(ALL_TYPES)) is not None
        for metric, value in after.metrics[system][ALL_TYPES].items()
        if metric != "n" and metric in old
    ]
    return Comparison(
        before=f"{before.created_at:%Y-%m-%d %H:%M} UTC, index {before.index_version}",
        improved=improved,
        regressed=regressed,
        deltas=deltas,
        only_before=sorted(set(earlier) - set(later)),
        only_after=sorted(set(later) - set(earlier)),
    )


def _rank_order(rank: int | None) -> float:
    return math.inf if rank is None else rank


# ---------------------------------------------------------------------------------------------
# Writing the report


def write_outputs(results: EvalResults, folder: Path, comparison: Comparison | None = None) -> None:
    """Write report.md, results.json and chart.png into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(results.model_dump_json(indent=2), encoding="utf-8")
    write_chart(results, folder / "chart.png")
    (folder / "report.md").write_text(render_report(results, comparison), encoding="utf-8")


def chart_metrics(k: int) -> list[str]:
    """Return the page-level metrics the chart compares: recall at each cutoff, then MRR."""
    return [f"recall@{c}/page" for c in metric_cutoffs(k)] + [f"mrr@{k}/page"]


def write_chart(results: EvalResults, path: Path) -> None:
    """Write a bar chart of every system's page recall and MRR (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = chart_metrics(results.k)
    width = 0.8 / len(results.systems)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    for i, system in enumerate(results.systems):
        overall = results.metrics[system].get(ALL_TYPES, {})
        values = [overall.get(name, 0.0) for name in names]
        positions = [j + (i - (len(results.systems) - 1) / 2) * width for j in range(len(names))]
        bars = axes.bar(positions, values, width, label=system)
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    axes.set_xticks(range(len(names)), [_label(name) for name in names])
    axes.set_ylim(0, 1.15)
    axes.set_ylabel("mean over answerable questions")
    axes.set_title(f"Finding the right page: {results.question_set} set, k={results.k}")
    axes.legend(loc="upper left", ncol=len(results.systems), fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _label(metric: str) -> str:
    """'recall@5/page' -> 'page recall@5'; 'keyword@5' and 'outcome' read as they are."""
    name, _, level = metric.partition("/")
    name = name.replace("mrr", "MRR").replace("ndcg", "nDCG")
    return f"{level} {name}" if level else name


def render_report(results: EvalResults, comparison: Comparison | None = None) -> str:
    """Return the Markdown report: goals, overall and per-type tables, misses, calibration."""
    answerable = sum(q.answerable for q in results.questions)
    lines = [
        f"# Evaluation: {results.question_set} question set",
        "",
        f"{len(results.questions)} questions ({answerable} answerable, "
        f"{len(results.questions) - answerable} out of scope) from `{results.questions_path}`, "
        f"asked of index `{results.index_version}` ({results.passages} passages, model "
        f"{results.model}) on {results.created_at:%Y-%m-%d %H:%M} UTC; {results.k} passages per "
        f"question; not-covered threshold {results.threshold:.3f} ({results.threshold_source}). "
        f"Run took {results.seconds:.0f} s.",
        "",
        "Retrieval metrics are means over answerable questions; a page counts when a passage "
        "spans one of the question's expected pages. `keyword@5`: the top five passages hold "
        "every expected keyword. `outcome`: the not-covered decision was right (answerable "
        "questions answered, out-of-scope ones declined); the baseline answers everything.",
        "",
    ]

    # Goals.
    if results.goals:
        lines += [
            "## Goals (set for the dev set)",
            "",
            "| goal | measured | result |",
            "|---|---|---|",
        ]
        lines += [
            f"| {g.goal} | {g.measured} | {'pass' if g.passed else '**FAIL**'} |"
            for g in results.goals
        ]
        lines.append("")

    # Overall.
    lines += ["## Overall", "", "![page recall and MRR per system](chart.png)", ""]
    overall = {s: results.metrics[s].get(ALL_TYPES, {}) for s in results.systems}
    names = [m for m in _metric_order(results.k) if any(m in v for v in overall.values())]
    lines += _table(
        ["metric", *results.systems],
        [[_label(m), *(_number(overall[s].get(m)) for s in results.systems)] for m in names],
    )
    rates = {s: decision_rates(results.questions, s) for s in results.systems}
    lines += [
        f"| answerable answered | {' | '.join(_percent(rates[s][0]) for s in results.systems)} |",
        f"| out-of-scope declined | {' | '.join(_percent(rates[s][1]) for s in results.systems)} |",
        "| latency p50 (ms) | "
        + " | ".join(f"{results.latency[s].p50 * 1000:.0f}" for s in results.systems)
        + " |",
        "| latency p95 (ms) | "
        + " | ".join(f"{results.latency[s].p95 * 1000:.0f}" for s in results.systems)
        + " |",
        "| first call (ms) | "
        + " | ".join(f"{results.latency[s].first_call * 1000:.0f}" for s in results.systems)
        + " |",
        "",
        "Latency is the wall time of one `Assistant.answer` call (search, then choosing the "
        "answer's sentences, whose vectors are prepared beforehand as `iga serve` does) for the "
        "modes, and of one search for the baseline, after an untimed first call (shown apart).",
        "",
    ]

    # Per question type.
    lines += ["## By question type", ""]
    columns = [m for m in _metric_order(results.k) if m in overall.get(results.systems[0], {})]
    for system in results.systems:
        groups = results.metrics[system]
        lines += [f"### {system}", ""]
        lines += _table(
            ["type", "n", *(_label(m) for m in columns)],
            [
                [group, f"{values['n']:.0f}", *(_number(values.get(m)) for m in columns)]
                for group, values in groups.items()
            ],
        )
        lines.append("")

    # Calibration.
    if results.calibration:
        c = results.calibration
        lines += [
            "## Not-covered threshold calibration",
            "",
            c.rule,
            "",
            "| | threshold | answerable answered | out-of-scope declined |",
            "|---|---|---|---|",
            f"| before | {c.threshold_before:.3f} ({c.source_before}) | {c.answered_before:.1%} "
            f"| {c.declined_before:.1%} |",
            f"| after | {c.threshold:.3f} (calibrated, stored with the index) | "
            f"{c.answered_after:.1%} | {c.declined_after:.1%} |",
            "",
        ]

    # Misses and wrong decisions, for the reader looking for what to fix.
    lines += _misses(results)
    if comparison is not None:
        lines += ["## Compared with an earlier run", "", *comparison_lines(comparison), ""]
    return "\n".join(lines)


def _metric_order(k: int) -> list[str]:
    names = []
    for level in ("document", "page"):
        names += [f"recall@{c}/{level}" for c in metric_cutoffs(k)] + [f"mrr@{k}/{level}"]
    return [*names, f"ndcg@{k}/page", f"keyword@{KEYWORD_DEPTH}", "outcome"]


def _misses(results: EvalResults) -> list[str]:
    """Return the report's section on questions the main mode gets wrong."""
    main = Mode.hybrid.value if Mode.hybrid.value in results.systems else results.systems[0]
    lines = [f"## Where {main} misses", ""]
    missed = [
        q for q in results.questions if q.answerable and _rank_order(q.systems[main].page_rank) > 5
    ]
    if missed:
        lines += [
            "Answerable questions without a correct page in the top 5 (first correct page's "
            "rank per system; `-` = not in the top k):",
            "",
        ]
        lines += _table(
            ["question", "type", "expected", *results.systems, f"{main} top 3"],
            [
                [
                    q.id,
                    q.type.value,
                    "; ".join(
                        f"{e.doc} p. {', '.join(map(str, e.pages)) or 'any'}" for e in q.expected
                    ),
                    *(_rank(q.systems[s].page_rank) for s in results.systems),
                    "; ".join(f"{h.doc} p. {_pages(h.pages)}" for h in q.systems[main].hits[:3]),
                ]
                for q in missed
            ],
        )
    else:
        lines.append("Every answerable question has a correct page in the top 5.")
    lines.append("")
    wrong = [
        q
        for q in results.questions
        if (q.systems[main].outcome is Outcome.not_covered) == q.answerable
    ]
    if wrong:
        lines += [f"Wrong not-covered decisions ({main}, threshold {results.threshold:.3f}):", ""]
        lines += _table(
            ["question", "type", "decision", "best dense cosine"],
            [
                [
                    q.id,
                    q.type.value,
                    q.systems[main].outcome.value,
                    _number(q.systems[main].best_dense),
                ]
                for q in wrong
            ],
        )
        lines.append("")
    return lines


def comparison_lines(comparison: Comparison) -> list[str]:
    """Return a comparison as Markdown lines: rank changes per question, then metric deltas."""
    lines = [f"Earlier run: {comparison.before}.", ""]
    for title, changes in (("Improved", comparison.improved), ("Regressed", comparison.regressed)):
        lines.append(f"{title} ({len(changes)}, rank of the first correct page):")
        lines += [
            f"- {c.question_id} [{c.system}]: {_rank(c.before)} -> {_rank(c.after)}"
            for c in changes
        ] or ["- none"]
        lines.append("")
    if comparison.only_before or comparison.only_after:
        lines += [
            f"Questions only in the earlier run: {', '.join(comparison.only_before) or 'none'}; "
            f"only in this one: {', '.join(comparison.only_after) or 'none'}.",
            "",
        ]
    changed = [d for d in comparison.deltas if abs(d.after - d.before) > 1e-9]
    lines.append("Overall metrics that changed:")
    lines += [
        f"- {d.system} {_label(d.metric)}: {d.before:.3f} -> {d.after:.3f} ({d.after - d.before:+.3f})"
        for d in changed
    ] or ["- none"]
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"


def _rank(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def _pages(pages: list[int]) -> str:
    """A hit's pages as a range: '14' or '14-15'."""
    return str(pages[0]) if len(pages) == 1 else f"{pages[0]}-{pages[-1]}"


# ---------------------------------------------------------------------------------------------
# The command


def eval_command(
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="Question set YAML (default: the bundled dev set).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for report.md, results.json, chart.png (default: DATA_DIR/eval/<time>).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Passages retrieved per question.")] = 10,
    modes: Annotated[
        str, typer.Option("--modes", help="Retrieval modes to evaluate, comma-separated.")
    ] = "dense,bm25,hybrid",
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Skip the tutorial baseline.")
    ] = False,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="An earlier results.json: show what improved and what regressed.",
            dir_okay=False,
        ),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Set the not-covered threshold from these questions and store it with the index.",
        ),
    ] = False,
    data_dir: cli.DataDir = None,
    manifest: cli.ManifestPath = None,
) -> None:
    """Measure whether the right document and page are found, per retrieval mode and baseline."""
    cli.reports_errors(_evaluate)(
        questions=questions,
        out=out,
        k=k,
        modes=modes,
        baseline=not no_baseline,
        compare=compare,
        calibrate=calibrate,
        settings=cli.make_settings(data_dir, manifest),
    )


def _evaluate(
    *,
    questions: Path | None,
    out: Path | None,
    k: int,
    modes: str,
    baseline: bool,
    compare: Path | None,
    calibrate: bool,
    settings: Settings,
) -> None:
    console = cli.console

    # Read the options and the question set, checking its documents against the index.
    wanted = _parse_modes(modes)
    folder = current_version_dir(settings.index_root)
    if folder is None:
        raise IndexStoreError(
            f"no index in {settings.index_root}: build one with `iga build` before `iga eval`"
        )
    path = questions or DEFAULT_QUESTIONS
    question_set = load_question_set(path, known_docs=set(read_meta(folder).documents))
    earlier = load_results(compare) if compare else None
    out = out or settings.data_dir / "eval" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    # Run, compare and write.
    console.print(
        f"Evaluating {len(question_set.questions)} questions ({question_set.name}) in "
        f"{', '.join(m.value for m in wanted)}{' and the baseline' if baseline else ''}"
    )
    results = run_evaluation(
        settings,
        question_set,
        questions_path=path,
        k=k,
        modes=wanted,
        baseline=baseline,
        calibrate=calibrate,
        console=console,
    )
    comparison = compare_results(earlier, results) if earlier else None
    write_outputs(results, out, comparison)

    # Show the headline numbers.
    _print_summary(console, results)
    if comparison is not None:
        console.print("\n".join(comparison_lines(comparison)), highlight=False, markup=False)
    console.print(f"Report: {out / 'report.md'} (results.json, chart.png beside it)")


def _parse_modes(text: str) -> list[Mode]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return [Mode(name) for name in names]
    except ValueError:
        raise IgaError(
            f"unknown retrieval mode in --modes {text!r}: choose from "
            f"{', '.join(m.value for m in Mode)}"
        ) from None


def _print_summary(console: Console, results: EvalResults) -> None:
    from rich.table import Table

    table = Table(title=f"{results.question_set}: overall (answerable questions)")
    table.add_column("metric")
    for system in results.systems:
        table.add_column(system, justify="right")
    for metric in [
        *chart_metrics(results.k),
        f"ndcg@{results.k}/page",
        f"keyword@{KEYWORD_DEPTH}",
        "outcome",
    ]:
        table.add_row(
            _label(metric),
            *(_number(results.metrics[s][ALL_TYPES].get(metric)) for s in results.systems),
        )
    table.add_row(
        "latency p50 / p95 (ms)",
        *(
            f"{results.latency[s].p50 * 1000:.0f} / {results.latency[s].p95 * 1000:.0f}"
            for s in results.systems
        ),
    )
    console.print(table)
    if results.calibration:
        c = results.calibration
        console.print(
            f"Calibrated not-covered threshold {c.threshold_before:.3f} -> {c.threshold:.3f}: "
            f"answered {c.answered_before:.1%} -> {c.answered_after:.1%}, declined "
            f"{c.declined_before:.1%} -> {c.declined_after:.1%}"
        )
    for goal in results.goals:
        mark = "[green]pass[/]" if goal.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {goal.goal}: {goal.measured}", highlight=False)


# Imported last: cli.py registers `eval_command` from this module, so whichever of the two is
# imported first, the other finds what it needs. The options above name `cli.` lazily (they are
# strings until typer reads them).
from assistant import cli  # noqa: E402
