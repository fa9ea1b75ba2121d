"""Lists the manifest's documents that are not indexed: where to get each one by hand and the
file name `--mirror` expects, as plain text that fits 80 columns with every URL on one line."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable

from ingest.atomic import write_text_atomic
from ingest.fetch import load_record
from ingest.settings import Settings
from ingest.types import Manifest, ManifestEntry

WIDTH = 80


def missing_documents(
    manifest: Manifest, settings: Settings, indexed: Iterable[str]
) -> list[ManifestEntry]:
    """Return the entries, in manifest order, neither indexed nor fetched: files to get by hand.

    (A fetched file that could not be indexed is a failure the build reports, not a missing one.)
    """
    have = set(indexed)
    return [
        entry
        for entry in manifest.documents
        if entry.id not in have and load_record(settings, entry.id) is None
    ]


def where_to_get(entry: ManifestEntry) -> str | None:
    """Return the page to download the entry's file from (its landing page, else its URL)."""
    return entry.landing_page or entry.url


def missing_text(missing: list[ManifestEntry], total: int) -> str:
    """Return the missing documents as a how-to: each file name, title, publisher and page."""
    if not missing:
        return f"All {total} documents are indexed.\n"
    lines = textwrap.wrap(
        f"{len(missing)} of {total} documents are not indexed. Download each one from its page, "
        "save it in one folder under the file name shown, then run: "
        "iga build --mirror FOLDER",
        WIDTH,
    )
    for entry in missing:
        lines += ["", entry.filename]
        lines += textwrap.wrap(
            f"{entry.title} ({entry.publisher}, {entry.published.year})",
            WIDTH,
            initial_indent="  ",
            subsequent_indent="  ",
        )
        page = where_to_get(entry)
        # URLs are never wrapped: a broken URL cannot be copied.
        lines.append(f"  {page}" if page else "  (no page known: ask the publisher)")
    return "\n".join(lines) + "\n"


def write_missing(settings: Settings, missing: list[ManifestEntry], total: int) -> None:
    """Write the list to `settings.missing_file` atomically (removed when nothing is missing)."""
    target = settings.missing_file
    if not missing:
        target.unlink(missing_ok=True)
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_text_atomic(target, f"# Written by iga at {stamp}\n" + missing_text(missing, total))
