"""`iga build` under stress: killed mid-way, out of disk, given bad manifests or scanned files."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
import yaml
from typer.testing import CliRunner

from assistant.cli import app, stage_line
from index.build import STAGES, build_index
from index.embed import EmbeddingCache, content_key
from index.retrieve import SearchIndex
from index.sentences import sentence_spans, sentence_store_path
from index.store import current_version_dir
from ingest.chunk import embedding_text
from ingest.errors import ManifestError
from ingest.manifest import load_manifest
from ingest.pipeline import load_passages
from tests.corpus_factory import DOCUMENTS, write_pdf
from tests.pdf_factory import large_pdf, scanned_pdf

runner = CliRunner()


def _build(settings, **options):
    corpus = settings.manifest.parent
    return build_index(load_manifest(settings.manifest), settings, mirror=corpus, **options)


def _add_document(settings, doc_id: str, data: bytes) -> None:
    """Add a PDF to the settings' private corpus and its manifest."""
    corpus = settings.manifest.parent
    (corpus / f"{doc_id}.pdf").write_bytes(data)
    manifest = yaml.safe_load(settings.manifest.read_text(encoding="utf-8"))
    manifest["documents"].append(
        {
            "id": doc_id,
            "title": f"Document {doc_id}",
            "publisher": "NHS England",
            "published": "2022-01-01",
            "format": "pdf",
        }
    )
    settings.manifest.write_text(yaml.safe_dump(manifest), encoding="utf-8")


def _remove_document(settings, doc_id: str) -> None:
    """Take a document out of the settings' manifest (its file stays)."""
    manifest = yaml.safe_load(settings.manifest.read_text(encoding="utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d["id"] != doc_id]
    settings.manifest.write_text(yaml.safe_dump(manifest), encoding="utf-8")


def _change_every_document(settings) -> None:
    corpus = settings.manifest.parent
    for document in DOCUMENTS:
        write_pdf(corpus / f"{document['id']}.pdf", document | {"title": document["title"] + "!"})


# ---------------------------------------------------------------------------------------------
# Killed builds


def _start_build(settings, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "assistant.cli",
        "build",
        "--data-dir",
        str(settings.data_dir),
        "--manifest",
        str(settings.manifest),
        "--mirror",
        str(settings.manifest.parent),
    ]
    with log.open("wb") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)


def _wait_for(process: subprocess.Popen, log: Path, moment: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 240
    while not moment():
        output = log.read_text(errors="replace")
        assert process.poll() is None, f"the build ended before the moment to kill it:\n{output}"
        assert "another build is running" not in output, output
        assert time.monotonic() < deadline, f"the moment never came:\n{output}"
        time.sleep(0.005)


def _kill_and_check_nothing_remains(process: subprocess.Popen) -> None:
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    alive = tree
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    assert not alive, f"processes of the killed build remain: {alive}"


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _extracting(process: subprocess.Popen) -> Callable[[], bool]:
    return lambda: bool(psutil.Process(process.pid).children())


def test_build_killed_while_extracting_embedding_or_publishing_leaves_nothing_behind(
    fresh_settings, tmp_path
):
    # A long document keeps the parser child alive long enough to be caught.
    _add_document(fresh_settings, "long-report", large_pdf(pages=60))
    builds = fresh_settings.index_root / "builds"
    embeddings = fresh_settings.data_dir / "embeddings"
    moments: Iterator[tuple[str, Callable[[subprocess.Popen], Callable[[], bool]]]] = iter(
        [
            ("extraction", _extracting),
            ("embedding", lambda _: lambda: any(embeddings.glob("*.sqlite"))),
            ("publishing", lambda _: lambda: any(builds.glob(".tmp-*"))),
        ]
    )
    for number, (name, moment) in enumerate(moments):
        if number:  # each kill leaves work to do for the next build
            _change_every_document(fresh_settings)
            shutil.rmtree(embeddings, ignore_errors=True)
        if number == 1:  # the long document has served its purpose: not embedding it saves time
            _remove_document(fresh_settings, "long-report")
        log = tmp_path / f"build-{name}.log"
        process = _start_build(fresh_settings, log)
        _wait_for(process, log, moment(process))
        _kill_and_check_nothing_remains(process)

    # The next build starts at once, takes the lock and clears what the killed one left.
    log = tmp_path / "build-last.log"
    last = _start_build(fresh_settings, log)
    assert last.wait(timeout=600) == 0, log.read_text()
    output = log.read_text()
    assert "another build is running" not in output
    assert re.search(r"^Index version \S+ published", output, re.MULTILINE), output
    assert not list(builds.glob(".tmp-*"))
    assert SearchIndex.load(fresh_settings).search("network board", k=1)


def test_staging_left_by_a_killed_build_is_removed_by_a_no_change_build(fresh_settings):
    first = _build(fresh_settings)
    abandoned = fresh_settings.index_root / "builds" / ".tmp-20260101T000000000000Z"
    (abandoned / "bm25").mkdir(parents=True)
    (abandoned / "dense.faiss").write_bytes(b"half written")

    again = _build(fresh_settings)
    assert not again.published and again.version == first.version
    assert not abandoned.exists()


# ---------------------------------------------------------------------------------------------
# A full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted for the test (needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of `folder` until only about `leave` bytes are free."""
    free = shutil.disk_usage(folder).free
    with (folder / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


@pytest.mark.parametrize("leave", [pytest.param(48_000, id="48kB"), pytest.param(0, id="0kB")])
def test_full_disk_is_one_clear_line_and_the_served_index_stays(fresh_settings, small_disk, leave):
    settings = fresh_settings.model_copy(update={"data_dir": small_disk / "data"})
    first = _build(settings)
    _change_every_document(settings)
    _fill(small_disk, leave)

    result = runner.invoke(
        app,
        [
            "build",
            "--data-dir",
            str(settings.data_dir),
            "--manifest",
            str(settings.manifest),
            "--mirror",
            str(settings.manifest.parent),
        ],
        env={"COLUMNS": "200"},
    )
    output = result.output
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), "".join(
        traceback.format_exception(*result.exc_info)
    )
    assert "Traceback" not in output
    if "disk full in" in output:
        (line,) = [line for line in output.splitlines() if "disk full in" in line]
        assert str(small_disk) in line and "while writing" in line and "free" in line
    else:  # the fetch itself could not copy the files: each document says so
        assert "No space left on device" in output, output
    assert current_version_dir(settings.index_root).name == first.version
    assert not list((settings.index_root / "builds").glob(".tmp-*"))
    (small_disk / "filler").unlink()
    assert SearchIndex.load(settings).search("network board", k=1)


# ---------------------------------------------------------------------------------------------
# Bad manifests


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda path: path.write_bytes("documents:\n  - id: caf\xe9\n".encode("latin-1")),
            "not UTF-8",
            id="latin-1",
        ),
        pytest.param(lambda path: path.mkdir(), "is a folder", id="directory"),
    ],
)
def test_unreadable_manifest_is_named_without_a_traceback(tmp_path, make, expected):
    path = tmp_path / "manifest.yaml"
    make(path)
    with pytest.raises(ManifestError, match=expected) as caught:
        load_manifest(path)
    assert str(path) in str(caught.value)

    result = runner.invoke(
        app,
        ["build", "--manifest", str(path), "--data-dir", str(tmp_path / "data")],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 1
    assert expected in result.output and str(path) in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------
# What a build reports and stores


def test_document_without_a_text_layer_is_a_build_warning(fresh_settings):
    _add_document(fresh_settings, "scanned-report", scanned_pdf(pages=6))
    report = _build(fresh_settings)
    assert report.published
    assert (
        "scanned-report: 6 of 6 pages have no text layer: not searchable; OCR is not done"
        in report.warnings
    )
    assert not [w for w in report.warnings if w.startswith("network-guide-2021")]


def test_build_stores_every_sentence_vector_as_embedded_alone(fresh_settings):
    report = _build(fresh_settings)
    passages = [p for doc_id in sorted(report.added) for p in load_passages(fresh_settings, doc_id)]
    sentences = list(
        dict.fromkeys(p.text[a:b] for p in passages for a, b in sentence_spans(p.text))
    )
    assert report.sentences == len(sentences) == report.sentences_embedded > 0

    index = SearchIndex.load(fresh_settings)
    store = EmbeddingCache(
        sentence_store_path(fresh_settings.data_dir, index.embedder.info),
        index.embedder.info.dimension,
    )
    try:
        stored = store.get_many([content_key(s) for s in sentences])
    finally:
        store.close()
    assert len(stored) == len(sentences)
    # Each vector is the sentence encoded on its own, not a slice of its passage's encoding
    # (those sit at cosine ~0.75). In bf16 a vector moves a little with its batch's padding
    # (0.9990 seen), in fp32 it does not.
    sample = sentences[:: max(1, len(sentences) // 5)]
    alone = index.embedder.encode_passages(sample)
    for sentence, vector in zip(sample, alone, strict=True):
        assert float(np.dot(stored[content_key(sentence)], vector)) > 0.995

    # A rebuild with new passages embeds only the sentences it has not seen.
    _change_every_document(fresh_settings)
    again = _build(fresh_settings)
    assert again.published and 0 < again.sentences_embedded < again.sentences


def test_build_with_sentences_in_context_embeds_each_passage_once(fresh_settings):
    settings = fresh_settings.model_copy(update={"sentences_in_context": True})
    report = _build(settings)
    passages = [p for doc_id in sorted(report.added) for p in load_passages(settings, doc_id)]
    sentences = {p.text[a:b] for p in passages for a, b in sentence_spans(p.text)}
    # Every sentence pooled from its passage's pass: none embedded on its own.
    assert report.sentences == len(sentences) > 0 and report.sentences_embedded == 0
    assert report.embedded == len({embedding_text(p) for p in passages})

    index = SearchIndex.load(settings)
    store = EmbeddingCache(
        sentence_store_path(settings.data_dir, index.embedder.info), index.embedder.info.dimension
    )
    try:
        assert len(store.get_many([content_key(s) for s in sentences])) == len(sentences)
    finally:
        store.close()
    assert index.search("network board", k=1)


def test_build_prints_its_stages_within_80_columns(fresh_settings):
    result = runner.invoke(
        app,
        [
            "build",
            "--data-dir",
            str(fresh_settings.data_dir),
            "--manifest",
            str(fresh_settings.manifest),
            "--mirror",
            str(fresh_settings.manifest.parent),
        ],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    start = result.output.index("Stages: ")
    block = result.output[start:].rstrip().splitlines()
    assert all(len(line) <= 80 for line in block), block
    text = " ".join(block)
    for stage in STAGES:
        assert f"{stage} " in text
    assert "Prepared" not in result.output  # sentences are part of the build now
    meta = SearchIndex.load(fresh_settings).meta
    assert list(meta.build_stages) == list(STAGES)


def test_stage_line_wraps_whole_items_at_the_width():
    line = stage_line({stage: 123.4 for stage in STAGES}, width=60)
    rows = line.splitlines()
    assert len(rows) > 1 and all(len(row) <= 60 for row in rows)
    assert line.count("123.4 s") == len(STAGES)


def test_extraction_child_dies_with_its_parent(tmp_path):
    """The parser child of a killed process is killed by the kernel, not left to init."""
    script = tmp_path / "parent.py"
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(large_pdf(pages=400))
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from ingest.extract import extract_document\n"
        "from ingest.types import DocumentFormat\n"
        f"extract_document(Path({str(pdf)!r}), doc_id='long', fmt=DocumentFormat.pdf)\n",
        encoding="utf-8",
    )
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    parent = subprocess.Popen([sys.executable, str(script)], env=env)
    deadline = time.monotonic() + 60
    while not psutil.Process(parent.pid).children():
        assert parent.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    (child,) = psutil.Process(parent.pid).children()
    _kill_and_check_nothing_remains(parent)
    assert not _running(child)
