"""`iga eval` end to end on the generated corpus, plus its pure parts: threshold rule, chunking."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from assistant.baseline import CHUNK_CHARS, OVERLAP_CHARS, chunk_pages
from assistant.calibrate import answers, choose_threshold, choose_weights, confidence
from assistant.cli import app
from assistant.eval_types import BASELINE, EvalResults, EvalSuite
from assistant.metrics import ALL_TYPES
from assistant.scoring import compare_results, metric_cutoffs
from index.store import current_version_dir, read_meta
from ingest.settings import Settings
from tests.corpus_factory import FACTS, OUT_OF_SCOPE

K = 5


def _write_questions(path: Path) -> Path:
    """Write a question set from the generated corpus's facts: two types, plus out of scope."""
    questions = [
        {
            "id": f"fact-{number}",
            "question": fact.question,
            "type": "numeric" if number % 2 else "factual",
            "expected": [{"doc": fact.doc_id, "pages": [fact.page]}],
            "answer": fact.phrase,
            "keywords": [fact.phrase],
        }
        for number, fact in enumerate(FACTS, start=1)
    ]
    questions += [
        {"id": f"oos-{number}", "question": text, "type": "out-of-scope"}
        for number, text in enumerate(OUT_OF_SCOPE, start=1)
    ]
    path.write_text(yaml.safe_dump({"name": "generated", "questions": questions}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def evaluated(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """One calibrating run on a private copy of the session's data dir (the shared one is left
    as it is): returns the copy's settings, the questions file, the output folder and the CLI's
    output."""
    folder = tmp_path_factory.mktemp("eval")
    data_dir = folder / "data"
    shutil.copytree(built_settings.data_dir, data_dir)
    questions = _write_questions(folder / "questions.yaml")
    out = folder / "out"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--data-dir",
            str(data_dir),
            "--questions",
            str(questions),
            "--out",
            str(out),
            "--k",
            str(K),
            "--calibrate",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = built_settings.model_copy(update={"data_dir": data_dir})
    return settings, questions, out, result.output


def _results(out: Path) -> EvalResults:
    suite = EvalSuite.model_validate_json((out / "results.json").read_text(encoding="utf-8"))
    assert len(suite.runs) == 1
    return suite.runs[0]


def test_eval_writes_report_results_and_chart(evaluated) -> None:
    _, _, out, output = evaluated
    results = _results(out)
    report = (out / "report.md").read_text(encoding="utf-8")

    assert (out / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert results.systems == ["hybrid", "dense", "bm25", BASELINE]
    assert len(results.questions) == len(FACTS) + len(OUT_OF_SCOPE)
    assert all(set(q.systems) == set(results.systems) for q in results.questions)
    assert "### Goals" in report and "| metric | hybrid | dense | bm25 | baseline |" in report
    assert "### Not-covered calibration" in report and "### Worst answers (hybrid)" in report
    assert "Report:" in output
    # The summary: a table per system, fitting an 80-column terminal.
    assert "overall: hybrid" in output and f"overall: {BASELINE}" in output
    assert max(len(line) for line in output.splitlines()) <= 80


def test_eval_aggregates_agree_with_per_question_ranks(evaluated) -> None:
    results = _results(evaluated[2])

    for system in results.systems:
        groups: dict[str, list] = {}
        for question in results.questions:
            groups.setdefault(question.type.value, []).append(question)
            groups.setdefault(ALL_TYPES, []).append(question)
        for group, questions in groups.items():
            reported = results.metrics[system][group]
            answerable = [q.systems[system] for q in questions if q.answerable]
            expected = {"n": len(questions)}
            expected["outcome"] = _mean(
                (q.systems[system].outcome.value == "answered") == q.answerable for q in questions
            )
            if answerable:
                for level, ranks in (
                    ("page", [r.page_rank for r in answerable]),
                    ("document", [r.doc_rank for r in answerable]),
                ):
                    for cutoff in metric_cutoffs(K):
                        expected[f"recall@{cutoff}/{level}"] = _mean(
                            r is not None and r <= cutoff for r in ranks
                        )
                    expected[f"mrr@{K}/{level}"] = _mean(1 / r if r else 0.0 for r in ranks)
                expected["keyword@5"] = _mean(bool(r.keyword_hit) for r in answerable)
            for metric, value in expected.items():
                assert reported[metric] == pytest.approx(value), (system, group, metric)


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values)


def test_eval_finds_the_generated_facts(evaluated) -> None:
    hybrid = _results(evaluated[2]).metrics["hybrid"][ALL_TYPES]

    assert hybrid["recall@5/page"] == 1.0
    assert hybrid["recall@1/document"] >= 0.8


def test_eval_compare_reports_improvement_and_metric_delta(evaluated, tmp_path: Path) -> None:
    settings, questions, out, _ = evaluated
    suite = json.loads((out / "results.json").read_text(encoding="utf-8"))
    old = suite["runs"][0]
    first = old["questions"][0]
    first["systems"]["hybrid"]["page_rank"] = None  # then: missed; now: found
    old["metrics"]["hybrid"][ALL_TYPES]["recall@1/page"] -= 0.25
    (tmp_path / "old.json").write_text(json.dumps(suite), encoding="utf-8")

    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--data-dir",
            str(settings.data_dir),
            "--questions",
            str(questions),
            "--out",
            str(tmp_path / "out"),
            "--k",
            str(K),
            "--modes",
            "hybrid",
            "--no-baseline",
            "--compare",
            str(tmp_path / "old.json"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Improved (1," in result.output
    assert f"{first['id']} [hybrid] page rank: - -> 1" in result.output
    assert "Regressed (0," in result.output
    assert "hybrid page recall@1:" in result.output and "(+0.250)" in result.output
    assert "Compared with an earlier run" in (tmp_path / "out" / "report.md").read_text()


def test_compare_reports_a_regression(evaluated) -> None:
    before = _results(evaluated[2])
    question = before.questions[0]
    worse = question.model_copy(deep=True)
    worse.systems["dense"].page_rank = None
    after = before.model_copy(update={"questions": [worse, *before.questions[1:]]})

    comparison = compare_results(before, after)

    assert [(c.question_id, c.system, c.after) for c in comparison.regressed] == [
        (question.id, "dense", None)
    ]
    assert comparison.improved == []


def test_eval_calibrate_stores_threshold_with_served_index(
    evaluated, built_settings: Settings
) -> None:
    settings, _, out, output = evaluated
    calibration = read_meta(current_version_dir(settings.index_root)).calibration
    run = _results(out).calibration

    assert calibration is not None and run is not None
    assert calibration.question_set == "generated"
    assert calibration.threshold == run.threshold
    assert calibration.answered_rate == run.answered_after
    assert _results(out).threshold_source == "calibrated"
    assert "Calibrated on generated: threshold" in output
    assert read_meta(current_version_dir(built_settings.index_root)).calibration is None


@pytest.mark.parametrize(
    ("answerable", "out_of_scope", "threshold"),
    [
        pytest.param(
            [0.3] + [0.6] * 19, [0.2, 0.25], 0.45, id="one-of-twenty-may-drop-mid-gap-below-0.6"
        ),
        pytest.param([0.3] + [0.6] * 9, [0.2, 0.25], 0.275, id="none-of-ten-may-drop"),
        pytest.param([0.6, 0.7], [0.65], 0.6, id="nothing-below-keeps-the-lowest"),
    ],
)
def test_choose_threshold_declines_most_while_answering_95_percent(
    answerable: list[float], out_of_scope: list[float], threshold: float
) -> None:
    chosen = choose_threshold(answerable, out_of_scope)

    assert chosen == pytest.approx(threshold)
    assert sum(s >= chosen for s in answerable) / len(answerable) >= 0.95


def test_choose_threshold_needs_out_of_scope_questions() -> None:
    with pytest.raises(Exception, match="out-of-scope"):
        choose_threshold([0.5, 0.6], [])


def test_baseline_chunks_are_fixed_windows_within_each_page() -> None:
    pages = ["a" * 2500, "", "b" * 300]

    passages = chunk_pages("doc", pages)

    first_page = [p for p in passages if p.first_page == 1]
    assert [len(p.text) for p in first_page] == [CHUNK_CHARS, CHUNK_CHARS, 900]
    assert [p.spans[0].start for p in first_page] == [0, 800, 1600]
    assert CHUNK_CHARS - OVERLAP_CHARS == 800
    assert [(p.first_page, p.last_page, p.text) for p in passages[3:]] == [(3, 3, "b" * 300)]


def test_answer_scores_count_the_fact_only_among_answered_questions() -> None:
    from assistant.eval_types import QuestionResult, SystemResult
    from assistant.questions import ExpectedSource, QuestionType
    from assistant.scoring import question_scores
    from assistant.types import Outcome

    def result(outcome: Outcome, fact: bool | None, kind=QuestionType.numeric) -> QuestionResult:
        system = SystemResult(
            page_rank=None,
            doc_rank=None,
            keyword_hit=False,
            outcome=outcome,
            best_dense=0.5,
            fact_in_answer=fact,
            verbatim=True if outcome is Outcome.answered else None,
            seconds=0.01,
            hits=[],
        )
        expected = [] if kind is QuestionType.out_of_scope else [ExpectedSource(doc="d", pages=[1])]
        keywords = [] if kind is QuestionType.out_of_scope else ["x"]
        return QuestionResult(
            id="q",
            question="?",
            type=kind,
            expected=expected,
            keywords=keywords,
            systems={"s": system},
        )

    right = question_scores(result(Outcome.answered, True), "s", 5).scores
    wrong = question_scores(result(Outcome.answered, False), "s", 5).scores
    declined = question_scores(result(Outcome.not_covered, None), "s", 5).scores
    oos = question_scores(result(Outcome.answered, None, QuestionType.out_of_scope), "s", 5).scores

    assert (right["fact"], right["fact/all"], right["answered"]) == (1.0, 1.0, 1.0)
    assert (wrong["fact"], wrong["fact/all"]) == (0.0, 0.0)
    assert "fact" not in declined and declined["fact/all"] == 0.0 and declined["answered"] == 0.0
    assert oos["declined"] == 0.0 and oos["outcome"] == 0.0 and "fact" not in oos
    assert right["verbatim"] == 1.0 and "verbatim" not in declined


def test_choose_weights_adds_a_signal_only_when_it_declines_more() -> None:
    # Dense cosine alone cannot separate these; coverage can.
    answerable = [{"dense": 0.5, "coverage": 0.9}, {"dense": 0.6, "coverage": 0.8}] * 10
    out_of_scope = [{"dense": 0.55, "coverage": 0.1}, {"dense": 0.58, "coverage": 0.2}]

    weights, threshold = choose_weights(answerable, out_of_scope)

    assert weights.get("coverage", 0) > 0
    assert all(confidence(s, weights) >= threshold for s in answerable)
    assert all(confidence(s, weights) < threshold for s in out_of_scope)
    simple, _ = choose_weights(
        [{"dense": 0.8, "coverage": 0.5}] * 20, [{"dense": 0.2, "coverage": 0.5}]
    )
    assert simple == {}


@pytest.mark.parametrize(
    ("signals", "given"),
    [
        ({"dense": 0.3}, False),  # below the threshold
        ({"dense": 0.3, "listed": 1.0}, True),  # a bare list question answered by its list
        ({"dense": 0.3, "listed": 0.0}, False),
        ({"dense": 0.9, "listed": 1.0, "years": 0.0}, False),  # a declining rule wins
        ({"dense": 0.9, "figure": 0.0}, False),
        ({"dense": 0.9}, True),
    ],
)
def test_rules_answer_or_decline_whatever_the_threshold(signals, given) -> None:
    assert answers(signals, confidence(signals, {}), 0.5) is given


def test_calibration_refuses_a_holdout_set(evaluated, tmp_path: Path) -> None:
    settings, questions, _, _ = evaluated
    holdout = tmp_path / "holdout.yaml"
    data = yaml.safe_load(questions.read_text(encoding="utf-8")) | {"role": "holdout"}
    holdout.write_text(yaml.safe_dump(data), encoding="utf-8")

    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--data-dir",
            str(settings.data_dir),
            "--questions",
            str(holdout),
            "--calibrate",
            "--modes",
            "hybrid",
            "--no-baseline",
            "--out",
            str(tmp_path / "out"),
        ],
    )

    assert result.exit_code == 1
    assert "holdout sets are never used to choose settings" in " ".join(result.output.split())
