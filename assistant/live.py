"""Keeps a serving process on the newest published index version, switched between questions.

A build publishes a version by atomically replacing the index's CURRENT pointer (index/store.py).
LiveAssistant notices that with a stat of the pointer (before each question, and every few
seconds from a watcher thread), loads the new version in the background while the old one keeps
answering, then swaps the reference in one assignment. A question runs start to finish on the
Assistant it began with; later questions get the new one.

The old version stays safe for a question in flight: its FAISS and BM25 stores are in memory,
and its passages file is memory-mapped, which on POSIX outlives the build pruning the folder
(the build also keeps `keep_versions` versions on disk). Serving never writes to the data dir,
so any number of processes can share one, read-only.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from assistant.answer import Assistant
from index.retrieve import SearchIndex
from index.store import CURRENT, IndexStoreError, served_version
from ingest.settings import Settings

log = logging.getLogger(__name__)

WATCH_SECONDS = 2.0  # how often an idle process looks for a new version


def pointer_stamp(root: Path) -> tuple[int, int, int] | None:
    """Return what identifies the CURRENT pointer's present contents (inode, mtime, size)."""
    try:
        stat = os.stat(root / CURRENT)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class LiveAssistant:
    """The Assistant of the newest published index version, swapped in whole when one appears."""

    def __init__(
        self,
        settings: Settings,
        assistant: Assistant | None,
        *,
        glossary: Path | None = None,
        watch_seconds: float = WATCH_SECONDS,
    ) -> None:
        self.settings = settings
        self.problem: str | None = None  # why the newest version could not be loaded, if so
        self._glossary = glossary
        self._current = assistant
        self._seen = pointer_stamp(settings.index_root)
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._stop = threading.Event()
        self._watch_seconds = watch_seconds
        self._watcher: threading.Thread | None = None

    @property
    def version(self) -> str | None:
        """Return the version answering now, or None when no index is loaded."""
        current = self._current
        return current.index.meta.version if current else None

    def current(self) -> Assistant | None:
        """Return the Assistant for the next question; start loading a newer version if any."""
        self.check()
        return self._current

    def check(self) -> bool:
        """Start loading the published version in the background if it changed; say if so."""
        stamp = pointer_stamp(self.settings.index_root)
        with self._lock:
            if stamp is None or stamp == self._seen:
                return False
            if self._loader is not None and self._loader.is_alive():
                return False
            self._loader = threading.Thread(target=self._load, args=(stamp,), daemon=True)
            self._loader.start()
            return True

    def adopt(self, assistant: Assistant) -> None:
        """Answer with an Assistant loaded elsewhere (the app's upload build) from now on."""
        with self._lock:
            self._current = assistant
            self._seen = pointer_stamp(self.settings.index_root)
            self.problem = None

    def start(self) -> None:
        """Watch for new versions from a background thread, and prepare the current one's sentences."""
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop watching and preparing; wait briefly for the threads to end."""
        self._stop.set()
        for thread in (self._watcher, self._loader):
            if thread is not None:
                thread.join(timeout)

    def wait_loaded(self, timeout: float) -> bool:
        """Wait for a load in progress (tests, benchmarks); return whether none is running."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return loader is None or not loader.is_alive()

    def _watch(self) -> None:
        current = self._current
        if current is not None:
            current.prepare_sentences(stop=self._stop)
        while not self._stop.wait(self._watch_seconds):
            self.check()

    def _load(self, stamp: tuple[int, int, int]) -> None:
        """Load the published version and swap it in; on failure keep serving the old one."""
        try:
            fresh = self._fresh()
        except IndexStoreError as exc:
            # Remembered, not retried: the next publish changes the pointer and is tried afresh.
            self.problem = f"index version not loaded, still serving {self.version}: {exc}"
            log.warning(self.problem)
            with self._lock:
                self._seen = stamp
            return
        with self._lock:
            self._current = fresh
            self._seen = stamp
            self.problem = None
        log.info("now serving index version %s", fresh.index.meta.version)
        fresh.prepare_sentences(stop=self._stop)

    def _fresh(self) -> Assistant:
        """Return an Assistant over the published version, reusing the loaded model if it fits."""
        old = self._current
        _, meta = served_version(self.settings.index_root)
        if old is None or old.index.meta.model != meta.model:
            return Assistant.load(self.settings, glossary=self._glossary)
        fresh = old.with_index(SearchIndex.load(self.settings, embedder=old.index.embedder))
        # Sentence vectors are keyed by text, whatever the version: keep those computed.
        fresh.sentences = old.sentences
        fresh.index.search("warm up", k=1)
        return fresh
