"""Guesses a file's title, publisher and publication date from its metadata and first page,
to prefill a manifest entry for a document added by hand (the user checks and edits them)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bs4 import BeautifulSoup
from pydantic import BaseModel

from ingest.errors import IgaError
from ingest.extract import extract_document, read_pdf_info
from ingest.types import SLUG, DocumentFormat

PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
HTML_DATE_META = ("article:published_time", "dc.date", "dcterms.issued", "date", "citation_date")
HTML_PUBLISHER_META = ("dc.publisher", "citation_publisher", "og:site_name", "author")
MAX_TITLE = 200
# Placeholders that PDF writers put in the author field: not a publisher.
NOT_A_PUBLISHER = frozenset({"anonymous", "(anonymous)", "unknown", "user", "administrator"})


class Described(BaseModel):
    """What a file says about itself: its format and the guessed title, publisher and date."""

    filename: str
    format: DocumentFormat
    title: str
    publisher: str
    published: dt.date


def file_format(path: Path) -> DocumentFormat:
    """Return pdf or html from the file's first bytes, or raise IgaError naming the file."""
    head = path.read_bytes()[:2048]
    if b"%PDF-" in head[:1024]:
        return DocumentFormat.pdf
    if re.search(rb"<(!doctype\s+html|html|head|body|title)\b", head, re.IGNORECASE):
        return DocumentFormat.html
    raise IgaError(f"{path.name}: neither a PDF nor an HTML page: add a .pdf or .html file")


def describe_file(path: Path, *, name: str, timeout_s: float = 30.0) -> Described:
    """Return the file's format with a title, publisher and date guessed from it.

    Title: the metadata title, else the first line of the first page with text, else the file
    name. Publisher: the metadata author / publisher, else empty. Date: the creation or
    publication date in the metadata, else today.
    """
    fmt = file_format(path)
    if fmt is DocumentFormat.pdf:
        info = read_pdf_info(path, timeout_s=timeout_s)
        title, publisher = info.get("Title", ""), info.get("Author", "")
        if publisher.strip().lower() in NOT_A_PUBLISHER:
            publisher = ""
        published = _pdf_date(info.get("CreationDate", "")) or _pdf_date(info.get("ModDate", ""))
    else:
        soup = BeautifulSoup(path.read_bytes(), "lxml")
        meta = {
            str(tag.get("name") or tag.get("property") or "").lower(): str(tag.get("content"))
            for tag in soup.find_all("meta")
            if tag.get("content")
        }
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        publisher = next((meta[k] for k in HTML_PUBLISHER_META if meta.get(k)), "")
        published = next((_iso_date(meta[k]) for k in HTML_DATE_META if meta.get(k)), None)
    if not title.strip():
        title = _first_line(path, fmt, timeout_s=timeout_s) or Path(name).stem
    return Described(
        filename=name,
        format=fmt,
        title=" ".join(title.split())[:MAX_TITLE],
        publisher=" ".join(publisher.split()),
        published=published or dt.date.today(),
    )


def slug_for(title: str, year: int, taken: set[str]) -> str:
    """Return a manifest id made from the title and year, unique among `taken`."""
    words = re.findall(r"[a-z0-9]+", title.lower())[:8] or ["document"]
    base = "-".join([*words, str(year)])[:100].strip("-")
    candidate, n = base, 2
    while candidate in taken or not SLUG.match(candidate):
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def _first_line(path: Path, fmt: DocumentFormat, *, timeout_s: float) -> str:
    document = extract_document(path, doc_id=path.stem, fmt=fmt, timeout_s=timeout_s)
    for page in document.pages:
        for line in page.text.splitlines():
            if len(line.strip()) > 3:
                return line.strip()
    return ""


def _pdf_date(value: str) -> dt.date | None:
    match = PDF_DATE.search(value)
    if not match:
        return None
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _iso_date(value: str) -> dt.date | None:
    match = ISO_DATE.search(value)
    try:
        return dt.date(*(int(p) for p in match.groups())) if match else None
    except ValueError:
        return None
