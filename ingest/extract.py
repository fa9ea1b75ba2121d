"""Reads a cached PDF or HTML file into cleaned pages, parsing in a child process with a time limit."""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import math
import multiprocessing
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bs4 import (
    BeautifulSoup,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
)
from pypdf import PageObject, PasswordType, PdfReader

from ingest.clean import (
    Block,
    Line,
    RawPage,
    assemble,
    clean_pages,
    collapse_spaces,
    normalize_text,
)
from ingest.errors import ExtractError
from ingest.types import DocumentFormat, ExtractedDocument, Page

# What crosses back from the child process: plain lists, dicts, strings and numbers only.
Payload = dict[str, Any]


def extract_document(
    path: Path, *, doc_id: str, fmt: DocumentFormat, timeout_s: float = 120.0
) -> ExtractedDocument:
    """Return the document's pages as cleaned text, with the file's sha256 and any warnings.

    Args:
        path: the cached file (`<id>.pdf` or `<id>.html`).
        doc_id: the manifest id, used in every error and warning.
        fmt: the manifest's format; the file's first bytes must agree with it.
        timeout_s: time limit for parsing; past it the parser process is killed.

    Raises:
        ExtractError: the file is missing, empty, not the format it claims, password-protected,
            truncated or corrupt, has no readable text (HTML), or took longer than `timeout_s`.
    """
    started = time.perf_counter()

    # Read the bytes once: their hash identifies this version of the document.
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExtractError(doc_id, f"{path} does not exist: fetch the document first") from None
    except OSError as exc:
        raise ExtractError(doc_id, f"{path} could not be read: {exc.strerror}") from None
    if not data.strip():
        raise ExtractError(
            doc_id, f"{path} is empty: the download failed; delete the file and fetch it again"
        )
    _check_signature(data, fmt=fmt, doc_id=doc_id, path=path)

    # Parse in a child process, which can be killed if the parser spins.
    reader = _read_pdf if fmt == DocumentFormat.pdf else _read_html
    payload = _run_with_time_limit(reader, data, doc_id=doc_id, path=path, timeout_s=timeout_s)
    parsed = time.perf_counter()

    # Clean here: the parser is the part that can hang, not these rules.
    if fmt == DocumentFormat.pdf:
        pages, warnings = _pdf_pages(payload)
    else:
        pages, warnings = _html_pages(payload, doc_id=doc_id, path=path)
    return ExtractedDocument(
        doc_id=doc_id,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=pages,
        seconds=round(time.perf_counter() - started, 3),
        parse_seconds=round(parsed - started, 3),
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------
# Checks on the bytes before parsing

_HTML_START = re.compile(rb"<!doctype html|<html|<head|<body|<title", re.IGNORECASE)


def _check_signature(data: bytes, *, fmt: DocumentFormat, doc_id: str, path: Path) -> None:
    """Raise ExtractError when the bytes are plainly not a readable file of format `fmt`."""
    head = data[:1024]
    if fmt == DocumentFormat.html:
        if b"%PDF-" in head:
            raise ExtractError(
                doc_id, f"{path} is a PDF, not an HTML page: set `format: pdf` in the manifest"
            )
        return
    if b"%PDF-" not in head:
        if _HTML_START.search(head):
            raise ExtractError(
                doc_id,
                f"{path}: this is an HTML page, not a PDF: the download probably returned an "
                "error page; check the URL (or download the file by hand from the landing page)",
            )
        raise ExtractError(
            doc_id,
            f"{path} is not a PDF (it does not start with %PDF-; first bytes {data[:16]!r}): "
            "check the URL and fetch it again",
        )
    # Readers accept the end-of-file marker anywhere in the last 1024 bytes.
    if b"%%EOF" not in data[-1024:]:
        raise ExtractError(
            doc_id,
            f"{path} is truncated (no %%EOF end marker; {len(data):,} bytes): the download was "
            "cut short; delete the file and fetch it again",
        )


# ---------------------------------------------------------------------------------------------
# The child process


class _Unreadable(Exception):
    """Raised in the child for a file that cannot be read; the message says why and what to do."""


def _run_with_time_limit(
    reader: Callable[[bytes], Payload],
    data: bytes,
    *,
    doc_id: str,
    path: Path,
    timeout_s: float,
) -> Payload:
    """Return `reader(data)` computed in a child process, or raise ExtractError when it fails,
    dies or takes longer than `timeout_s`."""
    # fork starts in milliseconds and shares `data` without copying; spawn is the fallback.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(reader, data, sender, os.getpid()), name=f"extract {doc_id}"
    )
    process.start()
    sender.close()
    message: Payload | None = None
    try:
        if receiver.poll(timeout_s):
            try:
                message = receiver.recv()
            except EOFError:  # the child died before it could answer
                message = None
        else:
            raise ExtractError(
                doc_id,
                f"reading {path} took longer than {timeout_s:g} s (the time limit) and was "
                "stopped: the file may be malformed; open it in a viewer, or raise the limit "
                "with IGA_EXTRACT_TIMEOUT_S",
            )
    finally:
        # Without an answer (time limit, interrupt) the child is killed at once; with one it is
        # already finishing.
        receiver.close()
        if message is None:
            process.kill()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
    if message is None:
        raise ExtractError(
            doc_id,
            f"the parser process died reading {path} (exit code {process.exitcode}), "
            "probably out of memory: check the file in a PDF viewer",
        )
    if "error" in message:
        raise ExtractError(doc_id, f"{path}: {message['error']}")
    return message["result"]


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when the one that started it dies (Linux only).

    Without it, a `kill -9` of the build left the parser running, re-parented to init, holding
    what the build had open. The signal follows the parent *thread*; the thread that starts a
    child waits for it, so it outlives the child unless the whole process dies.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the time limit still bounds the child
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _child(
    reader: Callable[[bytes], Payload], data: bytes, sender: Connection, parent: int
) -> None:
    """Child process body: run the reader and send back its plain-data result or the error."""
    _die_with_parent(parent)
    # Parser warnings become document warnings instead of log lines from a child process.
    records: list[str] = []
    handler = _ListHandler(records)
    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.addHandler(handler)
    pypdf_logger.propagate = False
    try:
        result = reader(data)
        result["parser_warnings"] = records
        message: Payload = {"result": result}
    except _Unreadable as exc:
        message = {"error": str(exc)}
    except Exception as exc:  # the parser's own bugs and limits fail this document only
        message = {
            "error": f"the parser failed ({type(exc).__name__}: {exc}): the file is probably "
            "corrupt; delete it and fetch it again, or check it opens in a PDF viewer"
        }
    sender.send(message)
    sender.close()


class _ListHandler(logging.Handler):
    """Collects log messages into a list."""

    def __init__(self, records: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


# ---------------------------------------------------------------------------------------------
# PDF


def _read_pdf(data: bytes) -> Payload:
    """Parse a PDF (runs in the child): each page's lines with font size, bold, height and
    italic."""
    # Open, decrypting with the empty password that many "protected" reports use.
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise _Unreadable(
                "the PDF is password-protected: ask the publisher for an unprotected copy, or "
                "remove the password (e.g. `qpdf --decrypt --password=... in.pdf out.pdf`) and "
                "give the result with --mirror"
            )
        count = len(reader.pages)
    except _Unreadable:
        raise
    except Exception as exc:
        raise _Unreadable(
            f"the PDF is corrupt and could not be opened ({type(exc).__name__}: {exc}): delete "
            "the file and fetch it again"
        ) from None

    warnings = []
    try:
        labels: list[str | None] = [str(label) for label in reader.page_labels]
    except Exception as exc:  # a broken /PageLabels tree should not cost the text
        labels = [None] * count
        warnings.append(f"page labels unreadable ({type(exc).__name__}); using page numbers")

    pages = []
    failed = []
    for index in range(count):
        try:
            page = reader.pages[index]
            lines = _page_lines(page)
        except Exception as exc:
            failed.append(index + 1)
            warnings.append(f"page {index + 1} could not be read ({type(exc).__name__}: {exc})")
            lines = []
            page = None
        bottom, height = _visible_box(page)
        for line in lines:
            if line[3] is not None:
                line[3] = round(line[3] - bottom, 1)  # measured from the visible page bottom
        pages.append(
            {
                "lines": lines,
                "height": height,
                "has_images": _has_images(page),
                "label": labels[index] if index < len(labels) else None,
            }
        )
    if count and len(failed) == count:
        raise _Unreadable("no page could be read: the file is probably corrupt; fetch it again")
    return {"pages": pages, "warnings": warnings}


_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_ITALIC_NAME = re.compile(r"italic|oblique", re.IGNORECASE)


# A footnote's marker in the running text: a small number ("35", "17, 31") set smaller than the
# text before it on its line and above that text's baseline.
FOOTNOTE_MARKER = re.compile(r"\s*\d{1,3}(?:\s*,\s*\d{1,3})*\s*")
MARKER_SIZE = 0.85  # at most this share of the preceding text's size
MARKER_RISE = 0.15  # raised by at least this share of the preceding text's size


def _page_lines(page: PageObject) -> list[list[Any]]:
    """Return the page's text lines as [text, font size, bold, baseline height, italic] lists.

    pypdf's own text extraction decides the reading order and line breaks; a visitor sees each
    piece of text as it is placed, which gives each line its dominant font size and height, and
    shows footnote markers set as superscripts ("...Care Institute35."), which are dropped: they
    are not words of the sentence, and read as numbers they would answer "how many"."""
    lines: list[list[Any]] = []
    pieces: list[str] = []
    markers: set[int] = set()  # indexes in pieces
    sizes: Counter[float] = Counter()
    weight = {True: 0, False: 0}
    slant = {True: 0, False: 0}
    baseline: list[float] = []
    last: list[float] = []  # the size and height of the line's last visible piece
    raw: list[str] = []
    styles: dict[int, tuple[bool, bool]] = {}

    def finish_line() -> None:
        size = sizes.most_common(1)[0][0] if sizes else 0.0
        kept = "".join(piece for index, piece in enumerate(pieces) if index not in markers)
        lines.append(
            [
                kept,
                size,
                weight[True] > weight[False],
                baseline[0] if baseline else None,
                slant[True] > slant[False],
            ]
        )
        raw.append("".join(pieces))
        pieces.clear()
        markers.clear()
        sizes.clear()
        weight.update({True: 0, False: 0})
        slant.update({True: 0, False: 0})
        baseline.clear()
        last.clear()

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        for position, piece in enumerate(text.split("\n")):
            if position:
                finish_line()
            if not piece:
                continue
            pieces.append(piece)
            visible = len(piece.strip())
            if not visible:
                continue
            # The text matrix times the current matrix: its vertical scale and translation.
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            size = round(font_size * math.hypot(c, d), 1)
            height = round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5], 1)
            if (
                last
                and FOOTNOTE_MARKER.fullmatch(piece)
                and size <= MARKER_SIZE * last[0]
                and height >= last[1] + MARKER_RISE * last[0]
            ):
                markers.add(len(pieces) - 1)
                continue
            sizes[size] += visible
            bold, italic = _font_style(font, styles)
            weight[bold] += visible
            slant[italic] += visible
            if not baseline:
                baseline.append(height)
            last[:] = [size, height]

    text = page.extract_text(visitor_text=visit)
    finish_line()
    # Should the visitor ever disagree with the returned text, trust the text without layout.
    if "\n".join(raw) != text:
        return [[line, 0.0, False, None, False] for line in text.split("\n")]
    return lines


def _font_style(font: Any, cache: dict[int, tuple[bool, bool]]) -> tuple[bool, bool]:
    """Whether a font resource is bold, and whether italic: from its name, or its declared
    weight and slant."""
    if font is None:
        return False, False
    key = id(font)
    if key not in cache:
        try:
            name = str(font.get("/BaseFont", ""))
            descriptor = font.get("/FontDescriptor")
            described = descriptor.get_object() if descriptor else {}
            weight = described.get("/FontWeight", 0)
            angle = described.get("/ItalicAngle", 0)
            cache[key] = (
                bool(_BOLD_NAME.search(name)) or float(weight) >= 600,
                bool(_ITALIC_NAME.search(name)) or float(angle) != 0,
            )
        except Exception:
            cache[key] = False, False
    return cache[key]


def _visible_box(page: PageObject | None) -> tuple[float, float | None]:
    """The bottom and height of the page area a viewer shows (its crop box)."""
    try:
        box = page.cropbox if page is not None else None
        return (float(box.bottom), float(box.height)) if box is not None else (0.0, None)
    except Exception:
        return 0.0, None


def _has_images(page: PageObject | None) -> bool:
    """Whether the page draws an image directly (a scan, a photo, an infographic)."""
    try:
        resources = page.get("/Resources") if page is not None else None
        objects = resources.get_object().get("/XObject") if resources else None
        if not objects:
            return False
        objects = objects.get_object()
        return any(objects[name].get_object().get("/Subtype") == "/Image" for name in objects)
    except Exception:
        return False


def _pdf_pages(payload: Payload) -> tuple[list[Page], list[str]]:
    """Clean the child's raw PDF pages; add labels and the warnings a user should see."""
    raw = [
        RawPage(
            lines=tuple(
                Line(text, size, bold, y, italic) for text, size, bold, y, italic in page["lines"]
            ),
            height=page["height"],
            has_images=page["has_images"],
        )
        for page in payload["pages"]
    ]
    pages = clean_pages(raw)
    # The PDF's own page labels win over numbers read from its running headers and footers.
    for index, page in enumerate(pages):
        label = payload["pages"][index]["label"]
        if label and label != str(page.number):
            pages[index] = page.model_copy(update={"label": label})

    warnings = list(payload["warnings"])
    empty = [page.number for page in pages if page.kind == "empty"]
    if empty:
        listed = ", ".join(str(number) for number in empty)
        warnings.append(
            f"{len(empty)} page(s) have no text layer (scanned?): not searchable — pages {listed}"
        )
    warnings.extend(_parser_warnings(payload))
    return pages, warnings


def _parser_warnings(payload: Payload) -> list[str]:
    """The parser's own complaints, counted and shown once each (at most three kinds)."""
    counted = Counter(payload.get("parser_warnings", []))
    return [
        f"pypdf: {message}" + (f" (x{times})" if times > 1 else "")
        for message, times in counted.most_common(3)
    ]


# ---------------------------------------------------------------------------------------------
# HTML

_DROP_TAGS = [
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
    "button", "select", "input", "textarea", "dialog", "object", "embed", "canvas",
]  # fmt: skip
_CHROME_ROLES = re.compile(r"navigation|banner|contentinfo|search|complementary|dialog")
_COOKIE = re.compile(r"cookie|onetrust", re.IGNORECASE)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "h5", "h6", "header", "hr", "li", "main",
    "ol", "p", "pre", "section", "summary", "ul"
})
# fmt: on


def _read_html(data: bytes) -> Payload:
    """Parse an HTML page (runs in the child): its main content as [text, heading level] pairs."""
    soup = BeautifulSoup(data, "lxml")

    # Site furniture goes first: scripts, navigation, forms, cookie banners, hidden parts.
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed:
            tag.decompose()

    # The main content when the page marks it (keeping its own header, which often holds the
    # title); otherwise, or when it is empty, the body without the site header and footer.
    marked = soup.find("main") or soup.find(attrs={"role": "main"})
    articles = soup.find_all("article")
    if marked is None and len(articles) == 1:
        marked = articles[0]
    blocks = _html_blocks(marked, drop=["footer"]) if marked is not None else []
    if not blocks:
        blocks = _html_blocks(soup.body or soup, drop=["header", "footer"])
    return {"blocks": blocks, "warnings": []}


def _html_blocks(root: Tag, *, drop: list[str]) -> list[list[Any]]:
    """The [text, heading level] paragraphs under `root`, without the `drop` elements."""
    for tag in root.find_all(drop):
        tag.decompose()
    walker = _HtmlWalker()
    walker.walk(root)
    walker.flush()
    return walker.blocks


def _is_chrome(tag: Tag) -> bool:
    """Cookie banners, ARIA-marked navigation and hidden elements."""
    if tag.attrs is None or tag.decomposed:
        return False
    attributes = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
    if _COOKIE.search(attributes) or _CHROME_ROLES.fullmatch(tag.get("role") or ""):
        return True
    style = (tag.get("style") or "").replace(" ", "").lower()
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true" or "display:none" in style


class _HtmlWalker:
    """Walks the content tree, gathering inline text into paragraphs at block boundaries."""

    def __init__(self) -> None:
        self.blocks: list[list[Any]] = []
        self.buffer: list[str] = []
        self.marker = ""

    def flush(self, level: int | None = None) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer.clear()
        if text:
            self.blocks.append([self.marker + text, level])
            self.marker = ""

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                self.flush()
                self.buffer.append(child.get_text(" "))
                self.flush(level=_HEADINGS[name])
            elif name == "br":
                self.flush()
            elif name == "li":
                self.flush()
                self.marker = _list_marker(child)
                self.walk(child)
                self.flush()
            elif name == "table" and not child.find(["table", "h1", "h2", "h3", "h4"]):
                self.flush()
                self._table(child)
            elif name in _BLOCK_TAGS or name in ("table", "tr", "td", "th"):
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)

    def _table(self, table: Tag) -> None:
        """A data table: its caption, then one line per row with cells separated by ' | '."""
        caption = table.find("caption")
        if caption is not None:
            self.buffer.append(caption.get_text(" "))
            self.flush()
        rows = []
        for row in table.find_all("tr"):
            cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"])]
            if any(cells):
                rows.append(" | ".join(cells))
        if rows:
            self.blocks.append(["\n".join(rows), None])


def _list_marker(item: Tag) -> str:
    """'• ' for an unordered list item, '3. ' for the third item of an ordered list."""
    parent = item.parent
    if parent is None or parent.name != "ol":
        return "• "
    try:
        start = int(parent.get("start") or 1)
    except ValueError:
        start = 1
    # Identity, not ==: bs4 compares tags by content, and two items can read the same.
    position = next(i for i, li in enumerate(parent.find_all("li", recursive=False)) if li is item)
    return f"{start + position}. "


def _html_pages(payload: Payload, *, doc_id: str, path: Path) -> tuple[list[Page], list[str]]:
    """The whole HTML page as one Page: paragraphs and h1-h4 headings."""
    blocks = []
    for text, level in payload["blocks"]:
        lines = [collapse_spaces(line) for line in normalize_text(text).split("\n")]
        cleaned = "\n".join(line for line in lines if line)
        if cleaned:
            blocks.append(Block(cleaned, heading_level=level))
    text, headings = assemble(blocks)
    if not text:
        raise ExtractError(
            doc_id,
            f"{path} has no readable text: it may be built by JavaScript, or be a login or "
            "error page; open it in a browser, save it as PDF and use that file",
        )
    return [Page(number=1, text=text, headings=headings)], list(payload.get("warnings", []))


# ---------------------------------------------------------------------------------------------
# Document information (title, author, dates), for prefilling a manifest entry


def read_pdf_info(path: Path, *, timeout_s: float = 30.0) -> dict[str, str]:
    """Return a PDF's document-information strings (Title, Author, CreationDate, ...), read in
    a child process with a time limit like the pages; {} when it has none."""
    data = path.read_bytes()
    _check_signature(data, fmt=DocumentFormat.pdf, doc_id=path.stem, path=path)
    return _run_with_time_limit(
        _read_pdf_info, data, doc_id=path.stem, path=path, timeout_s=timeout_s
    )["info"]


def _read_pdf_info(data: bytes) -> Payload:
    """Child body: the PDF's /Info entries as plain strings."""
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    info = reader.metadata or {}
    return {"info": {str(key).lstrip("/"): str(value) for key, value in info.items() if value}}
