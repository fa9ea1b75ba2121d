"""Reads and validates `corpus_manifest.yaml`; a bad entry fails naming the entry and the field."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ingest.errors import ManifestError
from ingest.types import Manifest


def load_manifest(path: Path) -> Manifest:
    """Return the validated manifest at `path`, or raise ManifestError saying what is wrong where."""
    # Read the file.
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"manifest not found: {path}. Pass --manifest PATH or run from the project folder."
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {exc}") from None

    # Check the overall shape before the entries, so the message can name entries by id.
    if not isinstance(raw, dict) or not isinstance(raw.get("documents"), list):
        raise ManifestError(f"{path}: expected a mapping with a 'documents:' list")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError(_describe(path, raw["documents"], exc)) from None


def _describe(path: Path, documents: list, exc: ValidationError) -> str:
    """One line per problem: `entry 'girft-radiology' (#3), field 'published': invalid date`."""
    lines = [f"{path}: invalid manifest"]
    for error in exc.errors():
        loc = list(error["loc"])
        if len(loc) >= 2 and loc[0] == "documents" and isinstance(loc[1], int):
            index = loc[1]
            item = documents[index] if index < len(documents) else None
            doc_id = item.get("id") if isinstance(item, dict) else None
            where = f"entry {doc_id!r} (#{index + 1})" if doc_id else f"entry #{index + 1}"
            field = ".".join(str(part) for part in loc[2:]) or "(entry)"
            lines.append(f"  {where}, field {field!r}: {error['msg']}")
        else:
            lines.append(f"  {'.'.join(str(p) for p in loc) or '(manifest)'}: {error['msg']}")
    return "\n".join(lines)
