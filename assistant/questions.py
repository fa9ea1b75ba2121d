"""Evaluation question sets: the schema, and a loader whose errors name the question and field."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
)

from ingest.errors import IgaError
from ingest.types import SLUG
from ingest.yamlfile import load_yaml_model

QUESTIONS_DIR = Path(__file__).parent / "question_sets"
MAX_KEYWORDS = 3


class QuestionSetError(IgaError):
    """A question set is missing, unreadable, or has an invalid question."""


class QuestionType(StrEnum):
    """What kind of question it is; metrics are reported per type."""

    factual = "factual"
    numeric = "numeric"
    date = "date"
    definition = "definition"
    list_ = "list"
    paraphrase = "paraphrase"
    multi_document = "multi-document"
    out_of_scope = "out-of-scope"


class ExpectedSource(BaseModel):
    """A document that answers the question, and the physical pages where the answer is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc: str = Field(description="Manifest id of the document.")
    pages: list[PositiveInt] = Field(
        default_factory=list,
        description="Physical 1-based pages, as a PDF viewer counts them (not printed labels). "
        "Empty when only the document is known: any passage of it then counts as the right page.",
    )

    @field_validator("doc")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a manifest document id (a lowercase slug)")
        return value

    @field_validator("pages")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("lists a page more than once")
        return sorted(value)


class Question(BaseModel):
    """One evaluation question with where its answer is and how to recognise it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Unique slug, e.g. 'aw-01'.")
    question: str = Field(min_length=1)
    type: QuestionType
    expected: list[ExpectedSource] = Field(
        default_factory=list, description="Empty exactly when the question is out of scope."
    )
    answer: str = Field(default="", description="Short expected answer; empty when out of scope.")
    keywords: list[str] = Field(
        default_factory=list,
        description="1-3 strings a correct passage contains (case-insensitive, whitespace "
        "normalised); empty when out of scope.",
    )

    # Field validators run in declaration order, so `type` is already in `info.data` below
    # (absent only when it was itself invalid, which is reported on its own).

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                "must be a lowercase slug (letters, digits, '.', '_', '-'), e.g. 'aw-01'"
            )
        return value

    @field_validator("expected")
    @classmethod
    def _expected_fits_type(
        cls, value: list[ExpectedSource], info: ValidationInfo
    ) -> list[ExpectedSource]:
        kind = info.data.get("type")
        if kind is None:
            return value
        if kind is QuestionType.out_of_scope:
            if value:
                raise ValueError("must be empty for an out-of-scope question")
            return value
        if not value:
            raise ValueError("must list at least one document for an answerable question")
        docs = [source.doc for source in value]
        repeated = sorted({doc for doc in docs if docs.count(doc) > 1})
        if repeated:
            raise ValueError(f"lists document {repeated[0]!r} more than once; merge its pages")
        if kind is QuestionType.multi_document and len(docs) < 2:
            raise ValueError("a multi-document question must list at least two documents")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_fits_type(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        if kind is QuestionType.out_of_scope and value.strip():
            raise ValueError("must be empty for an out-of-scope question")
        if kind is not None and kind is not QuestionType.out_of_scope and not value.strip():
            raise ValueError("must be given for an answerable question")
        return value.strip()

    @field_validator("keywords")
    @classmethod
    def _keywords_fit_type(cls, value: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("type")
        if kind is None:
            return value
        if kind is QuestionType.out_of_scope:
            if value:
                raise ValueError("must be empty for an out-of-scope question")
            return value
        if not 1 <= len(value) <= MAX_KEYWORDS:
            raise ValueError(
                f"an answerable question needs 1-{MAX_KEYWORDS} keywords, got {len(value)}"
            )
        if any(not keyword.strip() for keyword in value):
            raise ValueError("contains a blank keyword")
        return [keyword.strip() for keyword in value]

    @property
    def answerable(self) -> bool:
        """False for out-of-scope questions, which the assistant should decline."""
        return self.type is not QuestionType.out_of_scope

    @property
    def doc_ids(self) -> set[str]:
        return {source.doc for source in self.expected}


class QuestionSet(BaseModel):
    """A named list of questions; ids are unique."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    role: Literal["development", "holdout"] = Field(
        default="development",
        description="A holdout set is never used to choose settings: `iga eval --calibrate` "
        "refuses it, and reports show it beside the development set.",
    )
    questions: list[Question] = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, value: list[Question]) -> list[Question]:
        first_seen: dict[str, int] = {}
        for number, question in enumerate(value, start=1):
            if question.id in first_seen:
                raise ValueError(
                    f"question id {question.id!r} appears more than once "
                    f"(#{first_seen[question.id]} and #{number})"
                )
            first_seen[question.id] = number
        return value

    @property
    def doc_ids(self) -> set[str]:
        """Every document some question expects."""
        return {doc for question in self.questions for doc in question.doc_ids}


def bundled_set_names() -> list[str]:
    """The names of the question sets shipped in QUESTIONS_DIR, e.g. ['dev', 'holdout']."""
    return sorted(path.stem for path in QUESTIONS_DIR.glob("*.yaml"))


def resolve_question_set(path: Path) -> Path:
    """Return `path`, or the bundled set it names ('holdout') when it is a bare name, not a file."""
    if path.exists() or path.suffix or path.parent != Path():
        return path
    bundled = QUESTIONS_DIR / f"{path.name}.yaml"
    return bundled if bundled.is_file() else path


def load_question_set(path: Path, *, known_docs: set[str] | None = None) -> QuestionSet:
    """Return the validated question set at `path`, or raise QuestionSetError saying what is wrong.

    `path` may also be the name of a bundled set ('dev', 'holdout'). With `known_docs` (e.g. the
    manifest's ids), every expected document must be one of them.
    """
    path = resolve_question_set(path)
    question_set = load_yaml_model(
        path,
        QuestionSet,
        list_key="questions",
        label="question",
        error=QuestionSetError,
        what="question set",
        hint=f"Bundled sets are in {QUESTIONS_DIR} (give a name instead of a path: "
        f"{', '.join(bundled_set_names())}).",
    )

    # Check document ids against the corpus, when one is given.
    if known_docs is not None:
        _check_known_docs(path, question_set, known_docs)
    return question_set


def _check_known_docs(path: Path, question_set: QuestionSet, known_docs: set[str]) -> None:
    """Raise QuestionSetError listing every expected document that is not in `known_docs`."""
    lines = [
        f"  question {question.id!r}, field 'expected.{index}.doc': unknown document {source.doc!r}"
        for question in question_set.questions
        for index, source in enumerate(question.expected)
        if source.doc not in known_docs
    ]
    if lines:
        header = f"{path}: questions expect documents the manifest does not list"
        footer = "  Fix the ids, or add the documents to the manifest."
        raise QuestionSetError("\n".join([header, *lines, footer]))
