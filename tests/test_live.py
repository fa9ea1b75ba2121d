"""Live reload: serving processes switch to a newly published index version between questions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from gradio_client import Client

from assistant.answer import Assistant
from assistant.live import LiveAssistant
from index.build import build_index
from index.store import builds_dir
from ingest.manifest import load_manifest
from ingest.settings import Settings
from tests.test_app import free_port

ROOT = Path(__file__).resolve().parents[1]
REMOVED = "network-guide-2021"  # the document a rebuild drops
QUESTION = "Who chairs the imaging network board?"  # answered from REMOVED only


def build(settings: Settings) -> str:
    report = build_index(
        load_manifest(settings.manifest), settings, mirror=settings.manifest.parent
    )
    assert report.published and not report.failed, report
    return str(report.version)


def drop_document(settings: Settings, doc_id: str) -> None:
    manifest = yaml.safe_load(settings.manifest.read_text(encoding="utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d["id"] != doc_id]
    settings.manifest.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


def cited(answer: dict) -> set[str]:
    return {c["doc_id"] for c in answer["citations"]}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Return every file under a folder with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_live_assistant_swaps_versions_and_old_ones_keep_answering(fresh_settings):
    first = build(fresh_settings)
    live = LiveAssistant(fresh_settings, Assistant.load(fresh_settings))
    before = live.current()
    assert before is not None and before.answer(QUESTION).index_version == first

    # A new version appears: the next check loads it in the background and swaps it in.
    drop_document(fresh_settings, REMOVED)
    second = build(fresh_settings)
    assert live.check()
    assert live.wait_loaded(60)
    after = live.current()
    assert after is not None and after is not before and live.version == second
    answer = after.answer(QUESTION)
    assert answer.index_version == second
    assert REMOVED not in {c.doc_id for c in answer.citations}
    assert not live.check()  # nothing new since

    # A third build prunes the first version's folder (keep_versions=2); an answer still in
    # progress on it, which holds the old Assistant, finishes from what it loaded.
    build_index(
        load_manifest(fresh_settings.manifest),
        fresh_settings,
        mirror=fresh_settings.manifest.parent,
        force=True,
    )
    assert not (builds_dir(fresh_settings.index_root) / first).exists()
    late = before.answer(QUESTION)
    assert late.index_version == first and REMOVED in {c.doc_id for c in late.citations}
    live.close()


def test_live_assistant_keeps_serving_when_a_new_version_cannot_load(fresh_settings):
    first = build(fresh_settings)
    live = LiveAssistant(fresh_settings, Assistant.load(fresh_settings))
    # A pointer naming a version that is not there: refused, remembered, the old one answers.
    (fresh_settings.index_root / "CURRENT").write_text("20990101T000000000000Z")
    assert live.check() and live.wait_loaded(30)
    assert live.version == first and live.problem is not None
    assert "20990101T000000000000Z" in live.problem and "iga build --force" in live.problem
    assert not live.check()  # not retried until the pointer changes again
    current = live.current()
    assert current is not None and current.answer(QUESTION).index_version == first
    live.close()


@pytest.fixture
def two_servers(fresh_settings) -> Iterator[tuple[Settings, list[str]]]:
    """Two `iga serve` processes on one data dir, each on its own port."""
    build(fresh_settings)
    urls, processes = [], []
    for _ in range(2):
        port = free_port()
        command = [sys.executable, "-c", "from assistant.cli import main; main()"]
        command += ["serve", "--port", str(port)]
        command += ["--data-dir", str(fresh_settings.data_dir)]
        command += ["--manifest", str(fresh_settings.manifest)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}/")
    try:
        for url, process in zip(urls, processes, strict=True):
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, f"iga serve for {url} exited"
                try:
                    if httpx.get(url + "version", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"iga serve did not start at {url}"
                time.sleep(0.5)
        yield fresh_settings, urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def wait_for_version(url: str, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(url + "version", timeout=5).json()["version"] != version:
        assert time.monotonic() < deadline, f"{url} did not switch to {version}"
        time.sleep(0.25)


def test_two_serve_processes_share_a_data_dir_and_follow_a_rebuild(two_servers):
    settings, urls = two_servers
    clients = [Client(url, verbose=False) for url in urls]
    first = httpx.get(urls[0] + "version").json()["version"]
    for client in clients:
        answer = client.predict(QUESTION, api_name="/answer")
        assert answer["index_version"] == first and REMOVED in cited(answer)

    # Rebuild while both run: each switches without a restart, and answers from the new one.
    drop_document(settings, REMOVED)
    second = build(settings)
    written = snapshot(settings.data_dir)
    for url, client in zip(urls, clients, strict=True):
        wait_for_version(url, second)
        answer = client.predict(QUESTION, api_name="/answer")
        assert answer["index_version"] == second and REMOVED not in cited(answer)
        assert httpx.get(url + f"doc/{REMOVED}").status_code == 404

    # Serving wrote nothing into the data dir: every file is as the build left it.
    for client in clients:
        client.predict("Where should community diagnostic centres be located?", api_name="/answer")
    assert snapshot(settings.data_dir) == written


def test_sentence_vectors_are_read_only_and_survive_a_build_writing_them(built_settings, tmp_path):
    import sqlite3

    from index.embed import EmbeddingCache, content_key
    from index.sentences import SentenceVectors

    embedder = Assistant.load(built_settings).index.embedder
    path = tmp_path / "sentences.sqlite"
    text = "Each imaging network should have a network board."
    stored = SentenceVectors(embedder, path)
    assert stored.prepare([text], save=True) == 1

    # A build holding the write lock: a reader computes what it needs instead of failing.
    lock = sqlite3.connect(path)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert SentenceVectors(embedder, path).known([text]) == {}
    finally:
        lock.rollback()
        lock.close()

    # Reading and answering-time embedding never write the file.
    reader = SentenceVectors(embedder, path)
    assert set(reader.known([text])) == {text}
    written = path.stat().st_mtime_ns, path.stat().st_size
    reader.embed(["A sentence computed while answering, kept in memory only."])
    assert (path.stat().st_mtime_ns, path.stat().st_size) == written
    cache = EmbeddingCache(path, embedder.info.dimension, read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        cache.put_many([content_key("x")], reader.embed(["x"])["x"][None, :])
    cache.close()
