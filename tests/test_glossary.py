"""The glossary: UK imaging shorthand expanded both ways, and a file users can edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.glossary import DEFAULT_GLOSSARY, GlossaryError, load_glossary


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


@pytest.mark.parametrize(
    ("question", "added"),
    [
        pytest.param("Where should CDCs be located?", "community diagnostic centre", id="plural"),
        pytest.param("What is the TAT?", "turnaround time", id="acronym"),
        pytest.param(
            "What does IR(ME)R require?",
            "Ionising Radiation (Medical Exposure) Regulations",
            id="brackets",
        ),
        pytest.param("How many community diagnostic centres?", "CDC", id="spelled-out-plural"),
        pytest.param("Picture Archiving and Communication System rules", "PACS", id="any-case"),
    ],
)
def test_question_is_expanded_both_ways(glossary, question, added):
    expansion = glossary.expand(question)
    assert added in expansion.added
    assert expansion.keyword_query.startswith(question)
    assert added in expansion.keyword_query


def test_abbreviation_meaning_goes_to_the_dense_query_once(glossary):
    expansion = glossary.expand("CDC opening hours")
    assert expansion.dense_query == "CDC opening hours (community diagnostic centre)"
    assert "community diagnostic center" in expansion.keyword_query  # spelling variants for BM25


def test_longest_abbreviation_wins(glossary):
    expansion = glossary.expand("IR(ME)R")
    assert "interventional radiology" not in expansion.added


def test_abbreviation_must_match_case_and_whole_word(glossary):
    assert glossary.expand("what is ai in radiology? cdc said").added == []
    assert glossary.expand("ACTIVE PACSMAN").added == []


def test_nothing_added_when_both_forms_are_present(glossary):
    expansion = glossary.expand("community diagnostic centre (CDC) staffing")
    assert expansion.added == []
    assert expansion.dense_query == expansion.keyword_query == expansion.question


def test_packaged_glossary_lists_the_common_imaging_terms(glossary):
    abbreviations = {t.abbreviation for t in glossary.terms}
    assert {
        "CDC",
        "TAT",
        "GIRFT",
        "PACS",
        "RIS",
        "IR(ME)R",
        "CT",
        "MRI",
        "ICB",
        "RCR",
    } <= abbreviations
    assert DEFAULT_GLOSSARY.name == "glossary.yaml"


def test_user_glossary_is_read(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text("terms:\n  - abbreviation: XR\n    meanings: [plain film radiography]\n")
    assert load_glossary(path).expand("XR backlog").added == ["plain film radiography"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("terms:\n  - abbreviation: X\n", "terms.0.meanings", id="missing-meanings"),
        pytest.param("terms: [", "cannot be read", id="bad-yaml"),
        pytest.param(
            "terms:\n  - {abbreviation: X, meanings: [a]}\n  - {abbreviation: X, meanings: [b]}\n",
            "listed twice",
            id="duplicate",
        ),
    ],
)
def test_invalid_glossary_names_file_and_term(tmp_path: Path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GlossaryError, match=message) as raised:
        load_glossary(path)
    assert str(path) in str(raised.value)


def test_missing_glossary_says_what_to_do(tmp_path: Path):
    with pytest.raises(GlossaryError, match="not found"):
        load_glossary(tmp_path / "absent.yaml")


def test_meanings_of_an_abbreviation_in_the_plural(glossary):
    """Questions write "CDCs": its meanings are the CDC's, so the index is not said to lack
    a word it spells out."""
    assert glossary.meanings_of("CDCs") == glossary.meanings_of("CDC")
    assert any("community diagnostic" in m.lower() for m in glossary.meanings_of("cdcs"))
    assert glossary.meanings_of("Scans") == []
