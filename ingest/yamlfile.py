"""Reads a YAML file of records into a pydantic model; errors name the record and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ingest.errors import IgaError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(
    path: Path,
    model: type[M],
    *,
    list_key: str,
    label: str,
    error: type[IgaError],
    what: str,
    hint: str,
) -> M:
    """Return `model` validated from the YAML at `path`, whose records sit under `list_key`.

    Problems raise `error` with one line each, naming the record by id: "entry 'girft' (#3),
    field 'published': invalid date". `what` names the file kind and `hint` says where to
    look when it is missing.
    """
    # Read the file.
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{what} not found: {path}. {hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what} file. {hint}") from None
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start : exc.start + 1]!r}): "
            f"save the {what} as UTF-8"
        ) from None
    except OSError as exc:
        raise error(f"{path}: the {what} cannot be read ({exc.strerror}). {hint}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None

    # Check the overall shape before the records, so the message can name records by id.
    if not isinstance(raw, dict) or not isinstance(raw.get(list_key), list):
        raise error(f"{path}: expected a mapping with a '{list_key}:' list")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(_describe(path, raw[list_key], exc, list_key=list_key, label=label)) from None


def _describe(
    path: Path, records: list[Any], exc: ValidationError, *, list_key: str, label: str
) -> str:
    lines = [f"{path}: invalid {label} list"]
    for problem in exc.errors():
        loc = list(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            index = loc[1]
            record = records[index] if index < len(records) else None
            record_id = record.get("id") if isinstance(record, dict) else None
            where = (
                f"{label} {record_id!r} (#{index + 1})" if record_id else f"{label} #{index + 1}"
            )
            field = ".".join(str(part) for part in loc[2:]) or f"({label})"
            lines.append(f"  {where}, field {field!r}: {message}")
        else:
            lines.append(f"  {'.'.join(str(p) for p in loc) or '(file)'}: {message}")
    return "\n".join(lines)
