"""Expands UK imaging shorthand in questions both ways: "CDC" <-> "community diagnostic centre"."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.errors import IgaError

DEFAULT_GLOSSARY = Path(__file__).with_name("glossary.yaml")


class GlossaryError(IgaError):
    """The glossary file is missing, unreadable or has an invalid term."""


class Term(BaseModel):
    """An abbreviation and what it stands for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abbreviation: str = Field(min_length=1, description="Matched as a whole word, case-sensitive.")
    meanings: list[str] = Field(min_length=1, description="Matched in any case, with plurals.")


class Expansion(BaseModel):
    """A question with its shorthand expanded: what was added, and the text each retriever gets."""

    question: str
    added: list[str] = Field(description="Abbreviations and meanings the question did not contain.")
    keyword_query: str = Field(description="The question plus every added term (for BM25).")
    dense_query: str = Field(
        description="The question plus the meanings of its abbreviations (for the embedder, which "
        "knows 'community diagnostic centre' far better than 'CDC')."
    )


class Glossary(BaseModel):
    """The terms the assistant expands in questions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: list[Term] = Field(default_factory=list)

    def expand(self, question: str) -> Expansion:
        """Return the question with its abbreviations and their meanings expanded both ways."""
        # Find abbreviations (longest first, so "IR(ME)R" is not read as "IR") and meanings.
        abbreviated: dict[str, Term] = {}
        if self.terms:
            for match in self._abbreviation_pattern.finditer(question):
                abbreviated.setdefault(
                    match.group("abbr"), self._by_abbreviation[match.group("abbr")]
                )
        present = {
            meaning
            for term, patterns in self._meaning_patterns
            for meaning, pattern in zip(term.meanings, patterns, strict=True)
            if pattern.search(question)
        }

        # Add what the question lacks: meanings for abbreviations, abbreviations for meanings.
        meanings = [
            term.meanings
            for term in abbreviated.values()
            if not present.intersection(term.meanings)
        ]
        abbreviations = [
            term.abbreviation
            for term in self.terms
            if term.abbreviation not in abbreviated and present.intersection(term.meanings)
        ]
        added = list(dict.fromkeys([m for group in meanings for m in group] + abbreviations))
        # The embedder gets one spelling of each meaning: variants add nothing to a vector.
        spelled_out = [group[0] for group in meanings]
        return Expansion(
            question=question,
            added=added,
            keyword_query=" ".join([question, *added]),
            dense_query=f"{question} ({'; '.join(spelled_out)})" if spelled_out else question,
        )

    def meanings_of(self, word: str) -> list[str]:
        """Return the meanings of a word that is one of the abbreviations (in any case), or its
        plural ("CDCs"), as questions write them."""
        folded = word.casefold()
        term = self._by_folded_abbreviation.get(folded)
        if term is None and folded.endswith("s"):
            term = self._by_folded_abbreviation.get(folded[:-1])
        return list(term.meanings) if term is not None else []

    @cached_property
    def _by_folded_abbreviation(self) -> dict[str, Term]:
        return {term.abbreviation.casefold(): term for term in self.terms}

    @cached_property
    def _by_abbreviation(self) -> dict[str, Term]:
        return {term.abbreviation: term for term in self.terms}

    @cached_property
    def _abbreviation_pattern(self) -> re.Pattern[str]:
        names = sorted(self._by_abbreviation, key=len, reverse=True)
        choices = "|".join(re.escape(name) for name in names)
        return re.compile(rf"(?<![\w&])(?P<abbr>{choices})s?(?![\w&])")

    @cached_property
    def _meaning_patterns(self) -> list[tuple[Term, list[re.Pattern[str]]]]:
        return [(term, [_meaning_pattern(m) for m in term.meanings]) for term in self.terms]


def _meaning_pattern(meaning: str) -> re.Pattern[str]:
    """Return a case-insensitive pattern for a phrase, plural or not, however it is spaced."""
    words = r"\s+".join(re.escape(word) for word in meaning.split())
    return re.compile(rf"(?<!\w){words}(?:s|es)?(?!\w)", re.IGNORECASE)


def load_glossary(path: Path | None = None) -> Glossary:
    """Return the glossary at `path`, or the packaged one; errors name the file and the term."""
    path = path or DEFAULT_GLOSSARY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlossaryError(
            f"glossary {path} not found: give an existing file with --glossary, or leave it out "
            "to use the packaged one"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GlossaryError(f"glossary {path} cannot be read: {exc}") from None
    try:
        glossary = Glossary.model_validate(data or {})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise GlossaryError(f"glossary {path}: {where}: {problem['msg']}") from None
    seen: set[str] = set()
    for term in glossary.terms:
        if term.abbreviation in seen:
            raise GlossaryError(f"glossary {path}: {term.abbreviation!r} is listed twice")
        seen.add(term.abbreviation)
    return glossary
