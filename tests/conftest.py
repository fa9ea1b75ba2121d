"""Shared fixtures: a generated guidance corpus, built once per session with the real model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.corpus_factory import FACTS, OUT_OF_SCOPE, Fact, write_corpus

# The CLI's rich consoles take their width from COLUMNS once, when created (at import), and
# pytest-xdist's workers set COLUMNS=80: the width a test asks for (CliRunner's env) would be
# ignored and its output wrapped. Without COLUMNS at import, they read it at each print.
os.environ.pop("COLUMNS", None)

SHARED_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """The real development documents in ../shared/corpus; skips when absent."""
    if not (SHARED_CORPUS / "manifest.yaml").exists():
        pytest.skip(f"real corpus not found at {SHARED_CORPUS}")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def generated_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of generated PDF/HTML guidance documents with their manifest.yaml."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder)
    return folder


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory: pytest.TempPathFactory, generated_corpus: Path):
    """Settings of a data dir holding an index built from the generated corpus (session-wide)."""
    from index.build import build_index
    from ingest.manifest import load_manifest
    from ingest.settings import Settings

    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data_dir, manifest=generated_corpus / "manifest.yaml")
    report = build_index(load_manifest(settings.manifest), settings, mirror=generated_corpus)
    assert report.published and not report.failed, report
    return settings


@pytest.fixture(scope="module")
def assistant(built_settings):
    """An Assistant over the session's built index, loaded once per test module."""
    from assistant.answer import Assistant

    return Assistant.load(built_settings)


@pytest.fixture
def fresh_settings(tmp_path: Path, generated_corpus: Path):
    """Settings of an empty data dir, with a private copy of the generated corpus."""
    from ingest.settings import Settings

    corpus = tmp_path / "corpus"
    shutil.copytree(generated_corpus, corpus)
    return Settings(data_dir=tmp_path / "data", manifest=corpus / "manifest.yaml")


@pytest.fixture(scope="session")
def corpus_facts() -> list[Fact]:
    """Questions the generated corpus answers, with the document and page that answer them."""
    return FACTS


@pytest.fixture(scope="session")
def out_of_scope_questions() -> list[str]:
    return OUT_OF_SCOPE
