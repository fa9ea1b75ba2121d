"""Reads and validates `corpus_manifest.yaml`; a bad entry fails naming the entry and the field."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import ManifestError
from ingest.settings import Settings
from ingest.types import Manifest
from ingest.yamlfile import load_yaml_model


def load_manifest(path: Path) -> Manifest:
    """Return the validated manifest at `path`, or raise ManifestError saying what is wrong where."""
    return load_yaml_model(
        path,
        Manifest,
        list_key="documents",
        label="entry",
        error=ManifestError,
        what="manifest",
        hint="Pass --manifest PATH or run from the project folder.",
    )


def load_corpus(settings: Settings) -> Manifest:
    """Return the official manifest followed by the documents added in the app (if any)."""
    official = load_manifest(settings.manifest)
    if not settings.local_manifest.exists():
        return official
    local = load_manifest(settings.local_manifest)
    clash = sorted({e.id for e in official.documents} & {e.id for e in local.documents})
    if clash:
        raise ManifestError(
            f"{settings.local_manifest}: ids also in {settings.manifest}: {', '.join(clash)}. "
            "Rename them in the local manifest."
        )
    return Manifest(documents=[*official.documents, *local.documents])
