"""The records an evaluation run keeps: every question's result, aggregates, goals, calibration.

They are what `results.json` holds, what the report is rendered from and what `--compare`
reads back, so they are defined once here and shared by scoring, calibration and reporting.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from assistant.questions import ExpectedSource, QuestionType
from assistant.types import Outcome
from ingest.errors import IgaError

BASELINE = "baseline"


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
    confidence: float | None = Field(
        default=None, description="The combined evidence score the not-covered decision used."
    )
    signals: dict[str, float] = Field(
        default_factory=dict, description="The evidence signals behind `confidence`."
    )
    answer: str = Field(default="", description="The answer's own text, without citations.")
    fact_in_answer: bool | None = Field(
        default=None, description="Answered answerable questions: every keyword is in `answer`."
    )
    verbatim: bool | None = Field(
        default=None, description="Answered: every sentence is a verbatim quote of its passage."
    )
    cited_pages: list[str] = Field(
        default_factory=list, description="'doc p. N' of each citation, in answer order."
    )
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
    """A target the system should meet, and whether it does on this question set."""

    goal: str
    measured: str
    passed: bool


class CalibrationRun(BaseModel):
    """What `--calibrate` chose, and the decision rates measured before and after."""

    rule: str
    question_set: str
    weights: dict[str, float] = Field(default_factory=dict)
    threshold_before: float
    source_before: str
    threshold: float
    answered_before: float
    declined_before: float
    answered_after: float
    declined_after: float


class EvalResults(BaseModel):
    """Everything one evaluation run of one question set measured."""

    question_set: str
    role: str = Field(default="development", description="'development' or 'holdout'.")
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


class EvalSuite(BaseModel):
    """One `iga eval` run: a result per question set, development first, then holdout."""

    created_at: dt.datetime
    runs: list[EvalResults] = Field(min_length=1)

    def run(self, name: str) -> EvalResults | None:
        """Return the run of the question set with this name, if it was evaluated."""
        return next((r for r in self.runs if r.question_set == name), None)


def load_results(path: Path) -> EvalSuite:
    """Return the results saved in a results.json, or raise IgaError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IgaError(
            f"no results file at {path}: pass the results.json of an earlier run"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IgaError(
            f"cannot read {path} ({exc}): pass the results.json of an earlier run"
        ) from None
    try:
        return EvalSuite.model_validate_json(text)
    except ValidationError:
        pass
    try:  # a results.json of one set, as earlier versions wrote
        single = EvalResults.model_validate_json(text)
    except ValidationError as exc:
        raise IgaError(
            f"{path} is not an `iga eval` results.json ({exc.error_count()} problems, first: "
            f"{exc.errors()[0]['msg']}); pass the results.json of an earlier run"
        ) from None
    return EvalSuite(created_at=single.created_at, runs=[single])
