"""Runs an evaluation: asks every question of each set, as a user would, and keeps the results.

The recipe:
1. Ask every question through the assistant in each retrieval mode (hybrid first: what users
   get), and through the tutorial baseline (assistant/baseline.py).
2. Keep, per question and system: where the right page ranked, the answer's own text, whether
   that text holds the expected fact and quotes its passages verbatim, the evidence signals and
   the decision (assistant/eval_types.py).
3. Score and aggregate (assistant/scoring.py), optionally after calibrating the not-covered
   decision on the development set (assistant/calibrate.py); the report is written by
   assistant/report.py and the command lives in assistant/cli.py.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.calibrate import (
    CALIBRATION_RULE,
    choose_weights,
    confidence,
    predicted_rates,
    ruled_in,
    ruled_out,
    store_calibration,
)
from assistant.eval_types import (
    BASELINE,
    CalibrationRun,
    EvalResults,
    EvalSuite,
    HitRecord,
    QuestionResult,
    SystemResult,
)
from assistant.metrics import fact_in_answer, first_relevant_rank, is_verbatim, keyword_hit
from assistant.questions import Question, QuestionSet
from assistant.scoring import (
    KEYWORD_DEPTH,
    aggregate,
    check_goals,
    decision_rates,
    latency_of,
)
from assistant.types import Answer, Outcome
from index.types import Calibration, Hit, Mode
from ingest.errors import IgaError
from ingest.settings import Settings

if TYPE_CHECKING:  # loaded when a run starts, so that `iga --help` stays quick
    from assistant.answer import Assistant
    from assistant.baseline import BaselineIndex

WARM_UP = "How should imaging networks share reporting capacity?"


def run_suite(
    settings: Settings,
    question_sets: Sequence[tuple[QuestionSet, Path]],
    *,
    k: int = 10,
    modes: Sequence[Mode] = tuple(Mode),
    baseline: bool = True,
    calibrate: bool = False,
    console: Console | None = None,
) -> EvalSuite:
    """Return the results of every question set, calibrating first on the development set.

    Args:
        settings: Where the served index is (`data_dir`), and the model.
        question_sets: The sets and the files they were read from; development sets first.
        k: Passages retrieved per question; the depth of MRR and nDCG.
        modes: Retrieval modes to evaluate. Hybrid, what users get, is run first, so it is
            timed with nothing cached from the other modes.
        baseline: Also build and score the tutorial baseline.
        calibrate: First choose the not-covered weights and threshold on the development set
            (never a holdout set) and store them with the index; every set then runs with them.
        console: Where to show a progress bar (none when None).
    """
    from assistant.answer import Assistant
    from assistant.baseline import BaselineIndex

    # Validate the options.
    modes = sorted(set(modes), key=lambda m: (m is not Mode.hybrid, list(Mode).index(m)))
    if not modes:
        raise IgaError("no retrieval modes to evaluate: pass --modes dense,bm25,hybrid")
    if calibrate and Mode.hybrid not in modes:
        raise IgaError("--calibrate judges hybrid answers (what users get): add hybrid to --modes")
    development = [s for s, _ in question_sets if s.role == "development"]
    if calibrate and not development:
        raise IgaError(
            "--calibrate needs a development question set: holdout sets are never used to "
            "choose settings (pass --questions with a set whose role is development)"
        )
    total = sum(len(s.questions) for s, _ in question_sets) * (len(modes) + int(baseline))
    total += len(development[0].questions) if calibrate else 0

    with _progress(console) as progress:
        task = progress.add_task("loading", total=total)

        def advance() -> None:
            progress.advance(task)

        assistant = Assistant.load(settings)
        progress.update(task, description="preparing sentence vectors")
        assistant.prepare_sentences()
        calibration_run = None
        if calibrate:
            progress.update(task, description=f"calibrating on {development[0].name}")
            assistant, calibration_run = _calibrate(assistant, development[0], k, advance=advance)
        index = None
        if baseline:
            progress.update(task, description="baseline: extracting and embedding")
            index = BaselineIndex.build(
                settings, assistant.index.meta.documents, assistant.index.embedder
            )
        runs = []
        for question_set, path in question_sets:
            started = time.perf_counter()
            results = [_question_result(q) for q in question_set.questions]
            first_calls: dict[str, float] = {}
            for mode in modes:
                progress.update(task, description=f"{question_set.name}: {mode.value}")
                first_calls[mode.value] = _ask_all(assistant, results, mode, k, advance=advance)
            if index is not None:
                progress.update(task, description=f"{question_set.name}: {BASELINE}")
                first_calls[BASELINE] = _search_all(index, results, k, advance=advance)
            runs.append(
                _results(
                    assistant,
                    question_set,
                    path,
                    results,
                    first_calls,
                    k=k,
                    seconds=time.perf_counter() - started,
                )
            )

    # Store the calibration with the index version it was measured on, with its measured rates.
    if calibration_run is not None:
        run = next(r for r in runs if r.question_set == calibration_run.question_set)
        answered, declined = decision_rates(run.questions, Mode.hybrid)
        calibration = assistant.index.meta.calibration
        assert calibration is not None
        store_calibration(
            assistant.index.folder,
            calibration.model_copy(update={"answered_rate": answered, "declined_rate": declined}),
        )
        run.calibration = calibration_run.model_copy(
            update={"answered_after": answered, "declined_after": declined}
        )
    return EvalSuite(created_at=dt.datetime.now(dt.UTC), runs=runs)


def _results(
    assistant: Assistant,
    question_set: QuestionSet,
    path: Path,
    results: list[QuestionResult],
    first_calls: dict[str, float],
    *,
    k: int,
    seconds: float,
) -> EvalResults:
    """Return one set's aggregated results."""
    systems = list(first_calls)
    metrics = {system: aggregate(results, system, k) for system in systems}
    hybrid = Mode.hybrid.value in systems
    latency = {s: latency_of(results, s, first_calls[s]) for s in systems}
    threshold, source = assistant.threshold
    return EvalResults(
        question_set=question_set.name,
        role=question_set.role,
        questions_path=str(path),
        created_at=dt.datetime.now(dt.UTC),
        index_version=assistant.index.meta.version,
        model=assistant.index.meta.model.name,
        passages=assistant.index.meta.passages,
        k=k,
        systems=systems,
        threshold=threshold,
        threshold_source=source,
        metrics=metrics,
        latency=latency,
        goals=check_goals(
            metrics,
            decision_rates(results, Mode.hybrid) if hybrid else None,
            latency[Mode.hybrid.value] if hybrid else None,
        ),
        seconds=round(seconds, 1),
        questions=results,
    )


def _calibrate(
    assistant: Assistant, question_set: QuestionSet, k: int, *, advance: Callable[[], None]
) -> tuple[Assistant, CalibrationRun]:
    """Return an assistant that judges by weights and a threshold calibrated on a hybrid pass,
    and a record of the calibration (its 'after' rates predicted, until measured)."""
    from index.retrieve import SearchIndex

    # Measure every question's evidence signals, and the decisions made today.
    threshold_before, source_before = assistant.threshold
    probe = [_question_result(q) for q in question_set.questions]
    _ask_all(assistant, probe, Mode.hybrid, k, advance=advance)
    answered_before, declined_before = decision_rates(probe, Mode.hybrid)

    # Choose the weights and threshold.
    # (A question declined by rule whatever the threshold takes no part in choosing it.)
    answerable = [r.systems[Mode.hybrid].signals for r in probe if r.answerable]
    out_of_scope = [r.systems[Mode.hybrid].signals for r in probe if not r.answerable]
    judged_answerable = [s for s in answerable if not ruled_out(s) and not ruled_in(s)]
    judged_out_of_scope = [s for s in out_of_scope if not ruled_out(s) and not ruled_in(s)]
    if not answerable or not out_of_scope:
        raise IgaError(
            f"calibration needs both answerable and out-of-scope questions, and set "
            f"{question_set.name!r} lacks one kind: add out-of-scope questions (type: "
            "out-of-scope), then rerun `iga eval --calibrate`"
        )
    weights, threshold = choose_weights(judged_answerable, judged_out_of_scope)
    answered, declined = predicted_rates(
        [_ruled(s, weights) for s in answerable],
        [_ruled(s, weights) for s in out_of_scope],
        threshold,
    )
    calibration = Calibration(
        threshold=threshold,
        weights=weights,
        question_set=question_set.name,
        calibrated_at=dt.datetime.now(dt.UTC),
        answered_rate=answered,
        declined_rate=declined,
    )

    # The same index and model, judging by the new calibration (stored once measured).
    index = assistant.index
    calibrated = SearchIndex(
        index.folder,
        index.meta.model_copy(update={"calibration": calibration}),
        embedder=index.embedder,
        settings=index.settings,
    )
    record = CalibrationRun(
        rule=CALIBRATION_RULE,
        question_set=question_set.name,
        weights=weights,
        threshold_before=threshold_before,
        source_before=source_before,
        threshold=threshold,
        answered_before=answered_before,
        declined_before=declined_before,
        answered_after=answered,
        declined_after=declined,
    )
    return assistant.with_index(calibrated), record


def _ruled(signals: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Return the confidence a threshold is compared with, a rule's verdict as -inf or inf."""
    if ruled_out(signals):
        return -math.inf
    return math.inf if ruled_in(signals) else confidence(signals, weights)


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
        # Each mode asks the same questions: a vector remembered from the last mode would
        # leave the encoding out of this one's time (in sets of up to 64 questions).
        assistant.index.embedder.forget_queries()
        started = time.perf_counter()
        answer = assistant.answer(result.question, mode=mode, k=k)
        seconds = time.perf_counter() - started
        result.systems[mode.value] = answer_result(result, answer, seconds)
        advance()
    return first_call


def answer_result(result: QuestionResult, answer: Answer, seconds: float) -> SystemResult:
    """Return what an answer scores on a question: retrieval, decision and the answer's text."""
    answered = answer.outcome is Outcome.answered
    text = " ".join(s.text for s in answer.sentences) if answered else ""
    cited = {c.number: c for c in answer.citations}
    record = _system_result(
        result, answer.hits, answer.outcome, answer.evidence.best_dense, seconds
    )
    return record.model_copy(
        update={
            "answer": text,
            "confidence": answer.evidence.confidence,
            "signals": answer.evidence.signals,
            "fact_in_answer": (
                fact_in_answer(text, result.keywords) if answered and result.answerable else None
            ),
            "verbatim": (
                is_verbatim(
                    (s.text, [cited[n].text for n in s.citations if n in cited])
                    for s in answer.sentences
                )
                if answered
                else None
            ),
            "cited_pages": [f"{c.doc_id} {c.page_text}" for c in answer.citations]
            if answered
            else [],
        }
    )


def _search_all(
    index: BaselineIndex, results: list[QuestionResult], k: int, *, advance: Callable[[], None]
) -> float:
    """Search every question with the baseline, which answers everything with its top chunk;
    return the warm-up's seconds."""
    started = time.perf_counter()
    index.search(WARM_UP, k=k)
    first_call = time.perf_counter() - started
    for result in results:
        index.embedder.forget_queries()  # the baseline encodes each question itself
        started = time.perf_counter()
        hits = index.search(result.question, k=k)
        seconds = time.perf_counter() - started
        best = hits[0].score if hits else None
        record = _system_result(result, hits, Outcome.answered, best, seconds)
        text = hits[0].passage.text if hits else ""
        result.systems[BASELINE] = record.model_copy(
            update={
                "answer": text,
                "confidence": best,
                "fact_in_answer": fact_in_answer(text, result.keywords)
                if result.answerable
                else None,
                "verbatim": True,
            }
        )
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
