"""The index stage with the real model, real FAISS and real bm25s, on the generated corpus."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from index.build import build_index
from index.embed import Embedder
from index.retrieve import SearchIndex
from index.store import BuildLocked, IndexStoreError, build_lock, current_version_dir
from index.types import Mode, SearchFilters
from ingest.manifest import load_manifest
from ingest.tokens import BUNDLED_MODEL_SHA256, ModelError, ModelSpec, resolve_model
from tests.corpus_factory import DOCUMENTS, write_pdf

TOTAL = len(DOCUMENTS) + 1  # the generated PDFs and one HTML page


@pytest.fixture(scope="module")
def index(built_settings) -> SearchIndex:
    return SearchIndex.load(built_settings)


def _build(settings, mirror: Path, **options):
    return build_index(load_manifest(settings.manifest), settings, mirror=mirror, **options)


@pytest.mark.parametrize("mode", [Mode.dense, Mode.bm25, Mode.hybrid])
def test_question_retrieves_known_passage_first(index, corpus_facts, mode):
    for fact in corpus_facts:
        top = index.search(fact.question, k=5, mode=mode)[0]
        assert (top.passage.doc_id, top.passage.first_page) == (fact.doc_id, fact.page), (
            fact.question,
            mode,
            top.passage.text[:120],
        )
        assert fact.phrase in top.passage.text


@pytest.mark.parametrize("mode", [Mode.bm25, Mode.hybrid])
def test_acronym_only_query_is_found(index, mode):
    top = index.search("TAT", k=3, mode=mode)[0]
    assert top.passage.doc_id in ("network-guide-2021", "pacs-guide-2019")
    assert "(TAT)" in top.passage.text


def test_hits_carry_document_pages_section_and_ranks(index):
    hits = index.search("Who chairs the imaging network board?", k=5)
    top = hits[0]
    assert top.document.entry.title == "Diagnostic imaging network implementation guide"
    assert top.document.entry.published.year == 2021
    assert top.passage.section == "2 Network governance"
    assert top.dense_rank is not None and top.bm25_rank is not None
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        pytest.param(SearchFilters(doc_ids=["pacs-guide-2019"]), {"pacs-guide-2019"}, id="doc"),
        pytest.param(
            SearchFilters(publishers=["Independent review"]), {"diagnostics-review-2020"}, id="pub"
        ),
        pytest.param(
            SearchFilters(year_from=2021),
            {"network-guide-2021", "turnaround-page-2023", "equipment-guide-2022"},
            id="since",
        ),
        pytest.param(
            SearchFilters(year_to=2019, year_from=2019), {"pacs-guide-2019"}, id="year-range"
        ),
    ],
)
@pytest.mark.parametrize("mode", [Mode.dense, Mode.bm25, Mode.hybrid])
def test_filters_restrict_hits(index, filters, allowed, mode):
    hits = index.search("networks plan services together", k=10, mode=mode, filters=filters)
    assert hits
    assert {h.passage.doc_id for h in hits} <= allowed


def test_filter_matching_nothing_returns_no_hits(index):
    assert index.search("four weeks", filters=SearchFilters(doc_ids=["no-such-doc"])) == []


def test_query_does_not_reload_model_or_files(index, monkeypatch):
    import faiss
    import sentence_transformers

    def refuse(*args, **kwargs):
        raise AssertionError("a query must not reload the model or index files")

    monkeypatch.setattr(faiss, "read_index", refuse)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    monkeypatch.setattr(Path, "open", refuse)
    assert index.search("network board", k=3)


def test_rebuild_reembeds_only_changed_document(fresh_settings):
    corpus = fresh_settings.manifest.parent
    first = _build(fresh_settings, corpus)
    assert first.published and len(first.added) == TOTAL and first.embedded == first.passages

    # Change one sentence of one document.
    document = dict(DOCUMENTS[1])
    pages = [list(p) for p in document["pages"]]
    heading, paragraphs = pages[1][0]
    pages[1][0] = (heading, [paragraphs[0].replace("ten years", "twelve years"), *paragraphs[1:]])
    write_pdf(corpus / f"{document['id']}.pdf", document | {"pages": pages})

    second = _build(fresh_settings, corpus)
    assert second.changed == ["diagnostics-review-2020"]
    assert sorted(second.unchanged) == [
        "equipment-guide-2022",
        "network-guide-2021",
        "pacs-guide-2019",
        "turnaround-page-2023",
        "workforce-review-2017",
    ]
    changed_doc = SearchIndex.load(fresh_settings).meta.documents["diagnostics-review-2020"]
    assert 1 <= second.embedded <= changed_doc.passages
    assert second.passages == first.passages


def test_removed_document_drops_out(fresh_settings):
    corpus = fresh_settings.manifest.parent
    _build(fresh_settings, corpus)
    manifest = load_manifest(fresh_settings.manifest)
    kept = [e for e in manifest.documents if e.id != "pacs-guide-2019"]
    fresh_settings.manifest.write_text(
        yaml.safe_dump({"documents": [e.model_dump(mode="json") for e in kept]})
    )
    report = _build(fresh_settings, corpus)
    assert report.removed == ["pacs-guide-2019"] and report.embedded == 0
    index = SearchIndex.load(fresh_settings)
    assert "pacs-guide-2019" not in index.meta.documents
    assert all(
        h.passage.doc_id != "pacs-guide-2019"
        for h in index.search("picture archiving and communication systems", k=20)
    )


def test_unchanged_rebuild_publishes_nothing(fresh_settings):
    corpus = fresh_settings.manifest.parent
    first = _build(fresh_settings, corpus)
    second = _build(fresh_settings, corpus)
    assert not second.published and second.version == first.version
    assert len(second.unchanged) == TOTAL and second.embedded == 0


def test_killed_build_leaves_previous_index_serving(fresh_settings):
    corpus = fresh_settings.manifest.parent
    first = _build(fresh_settings, corpus)

    # Change every document so the next build has real work, then kill it mid-way.
    for document in DOCUMENTS:
        write_pdf(corpus / f"{document['id']}.pdf", document | {"title": document["title"] + "!"})
    env = os.environ | {"IGA_DATA_DIR": str(fresh_settings.data_dir)}
    command = [
        sys.executable,
        "-c",
        "from assistant.cli import main; main()",
        "build",
        "--manifest",
        str(fresh_settings.manifest),
        "--mirror",
        str(corpus),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    builds = fresh_settings.index_root / "builds"
    deadline = time.monotonic() + 120
    while not list(builds.glob(".tmp-*")):
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    # The previous version is still the served one, loads and answers.
    assert current_version_dir(fresh_settings.index_root).name == first.version
    index = SearchIndex.load(fresh_settings)
    assert index.search("Who chairs the imaging network board?", k=1)[0].passage.doc_id == (
        "network-guide-2021"
    )

    # The next build takes the lock the dead process held and completes.
    again = _build(fresh_settings, corpus)
    assert again.published and again.version != first.version
    assert not list(builds.glob(".tmp-*"))


def test_second_build_is_refused_while_one_runs(fresh_settings):
    with build_lock(fresh_settings.index_root), pytest.raises(BuildLocked, match="another build"):
        _build(fresh_settings, fresh_settings.manifest.parent)


def test_lock_left_by_dead_process_is_taken_over(fresh_settings):
    root = fresh_settings.index_root
    root.mkdir(parents=True)
    (root / "build.lock").write_text("999999")  # a pid that holds no lock
    with build_lock(root):
        assert (root / "build.lock").read_text() == str(os.getpid())


def test_query_with_a_different_model_is_refused(built_settings, tmp_path):
    other = tmp_path / "other-model"
    other.symlink_to(resolve_model("all-MiniLM-L6-v2").path, target_is_directory=True)
    settings = built_settings.model_copy(update={"model": str(other)})
    with pytest.raises(IndexStoreError, match="iga build --force"):
        SearchIndex.load(settings)


def test_corrupted_index_file_gives_clear_error(built_settings, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built_settings.data_dir, data)
    settings = built_settings.model_copy(update={"data_dir": data})
    (current_version_dir(settings.index_root) / "dense.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexStoreError, match=r"damaged.*iga build --force"):
        SearchIndex.load(settings)


def test_missing_index_says_how_to_build(tmp_path):
    from ingest.settings import Settings

    with pytest.raises(IndexStoreError, match="iga build"):
        SearchIndex.load(Settings(data_dir=tmp_path))


def test_wrong_weights_hash_is_refused():
    bundled = resolve_model("all-MiniLM-L6-v2")
    assert bundled.expected_sha256 == BUNDLED_MODEL_SHA256
    tampered = ModelSpec(name=bundled.name, path=bundled.path, expected_sha256="0" * 64)
    with pytest.raises(ModelError, match="do not match the published sha256"):
        Embedder(tampered)


def test_index_of_an_older_format_is_refused_then_rewritten_by_build(built_settings, tmp_path):
    import json

    data = tmp_path / "data"
    shutil.copytree(built_settings.data_dir, data)
    settings = built_settings.model_copy(update={"data_dir": data})
    meta_path = current_version_dir(settings.index_root) / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["format"]  # as written before the format was recorded
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexStoreError, match=r"older version.*iga build"):
        SearchIndex.load(settings)

    report = _build(settings, settings.manifest.parent)
    assert report.published and report.embedded == 0
    assert SearchIndex.load(settings).search("network board", k=1)
