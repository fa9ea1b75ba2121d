"""Writes and reads index versions: one folder per build, switched in by an atomic rename.

Layout under `settings.index_root`:
    CURRENT                 the name of the version being served (replaced atomically)
    build.lock              held (flock) by the one build allowed at a time
    builds/<version>/       meta.json, dense.faiss, bm25/, passages.jsonl, and two arrays that
                            let a reader skip parsing passages.jsonl: passage_offsets.npy (byte
                            offset of each line, plus the file's length) and row_docs.npy (each
                            row's document, as a position in the sorted document ids)
A build writes `builds/.tmp-<version>/`, renames it to `builds/<version>/` when complete and
only then replaces CURRENT. A crash at any point leaves CURRENT naming a whole version.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from index.types import IndexMeta
from ingest.errors import IgaError

CURRENT = "CURRENT"  # the pointer file naming the served version
META = "meta.json"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
PASSAGES = "passages.jsonl"
PASSAGE_OFFSETS = "passage_offsets.npy"
ROW_DOCS = "row_docs.npy"


class IndexStoreError(IgaError):
    """The index is missing, damaged or incompatible; the message says how to rebuild it."""


class BuildLocked(IgaError):
    """Another build holds the lock."""


def builds_dir(root: Path) -> Path:
    return root / "builds"


def current_version_dir(root: Path) -> Path | None:
    """Return the folder of the version being served, or None when nothing was built yet."""
    pointer = root / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = builds_dir(root) / name
    if not name or not (folder / META).exists():
        raise IndexStoreError(
            f"the index pointer {pointer} names version {name!r}, which is missing or incomplete: "
            "rebuild with `iga build --force`"
        )
    return folder


def served_version(root: Path) -> tuple[Path, IndexMeta]:
    """Return the served version's folder and metadata, or raise saying how to build one."""
    folder = current_version_dir(root)
    if folder is None:
        raise IndexStoreError(
            f"no index in {root}: build one with `iga build` (offline: `iga build --mirror FOLDER`)"
        )
    return folder, read_meta(folder)


def read_meta(folder: Path) -> IndexMeta:
    """Return a version's metadata, or raise IndexStoreError naming the file and the fix."""
    path = folder / META
    try:
        return IndexMeta.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStoreError(
            f"index metadata {path} is unreadable ({exc.__class__.__name__}): "
            "rebuild with `iga build --force`"
        ) from None


def staging_dir(root: Path, version: str) -> Path:
    """Return a fresh, empty folder to build `version` in."""
    folder = builds_dir(root) / f".tmp-{version}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def publish(root: Path, staging: Path, version: str, *, keep: int = 2) -> Path:
    """Move a complete staged build into place and make it the served version; return its folder."""
    # Flush the staged files so a power cut cannot publish a folder of empty files.
    for path in staging.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    final = builds_dir(root) / version
    staging.rename(final)
    _write_atomic(root / CURRENT, version)
    _prune(root, keep=keep, serving=version)
    return final


def write_meta(folder: Path, meta: IndexMeta) -> None:
    """Write a version's metadata atomically (used for calibration after the build)."""
    _write_atomic(folder / META, meta.model_dump_json(indent=2))


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _prune(root: Path, *, keep: int, serving: str) -> None:
    """Remove old versions and abandoned staging folders, keeping the newest `keep`."""
    folders = sorted(
        (p for p in builds_dir(root).iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    )
    for folder in folders[keep:]:
        if folder.name != serving:
            shutil.rmtree(folder, ignore_errors=True)
    remove_staging(root)


def remove_staging(root: Path) -> int:
    """Remove the staging folders of interrupted builds (call with the lock held); return how many."""
    folders = list(builds_dir(root).glob(".tmp-*"))
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the build lock; raise BuildLocked at once if another live build has it.

    flock is released by the kernel when its holder dies, so a lock left by a killed build
    is never stale: the next build simply takes it. A forked child would share the lock (and
    keep it past its parent's death), so every child forked while it is held closes its copy.
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / "build.lock"
    handle = path.open("a+")
    os.register_at_fork(after_in_child=handle.close)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BuildLocked(
                f"another build is running (pid {holder}); wait for it to finish, then rerun "
                "`iga build`"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
