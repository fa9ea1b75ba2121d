"""Reads and validates `corpus_manifest.yaml`; a bad entry fails naming the entry and the field."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import ManifestError
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
