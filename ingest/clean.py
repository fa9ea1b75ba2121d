"""Turns the raw lines of a document's pages into cleaned page text with paragraphs and headings.

The input is what a reader could get from the file: per page, the text lines in reading order,
each with the layout hints the reader could see (font size, bold, baseline height). Hints are
optional: with none, the rules fall back on the text alone.

Page.text contract with the chunker: paragraphs are separated by exactly one blank line; lines
that were wrapped are rejoined with single spaces; hard line breaks that are not wraps (table
rows, lists of names) stay as single newlines inside a paragraph; every heading is a paragraph
of its own and Heading.start is that paragraph's offset.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from itertools import pairwise

from ingest.types import Heading, Page

# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as the reader gave it, with the layout hints it could read."""

    text: str
    size: float = 0.0  # dominant font size in points; 0 when unknown
    bold: bool = False
    y: float | None = None  # baseline height above the page bottom, in points
    italic: bool = False


@dataclass(frozen=True, slots=True)
class RawPage:
    """A page's lines in reading order, before cleaning."""

    lines: tuple[Line, ...]
    height: float | None = None  # page height in points, when known
    has_images: bool = False

    @classmethod
    def from_text(cls, text: str) -> RawPage:
        """A page from plain text, one Line per text line, without layout hints."""
        return cls(tuple(Line(line) for line in text.split("\n")))


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph of cleaned text; a heading when `heading_level` is set."""

    text: str
    heading_level: int | None = None
    size: float = 0.0
    bold: bool = False


# ---------------------------------------------------------------------------------------------
# Characters and spacing

_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_ODD_SPACE = re.compile(r"[^\S\n]")
_SPACES = re.compile(" {2,}")
# Word's symbol-font bullets land in the private-use area; other bullet shapes vary by template.
_BULLETS = str.maketrans(
    dict.fromkeys(
        "\uf0b7\uf0a7\uf076\uf0d8\uf0fc\u25cf\u25aa\u25a0\u25e6\u25cb\u2023\u2043\u2219", "•"
    )
)


def normalize_text(text: str) -> str:
    """Return `text` with Unicode normalised (NFKC), invisible characters dropped and every
    kind of space made a plain space. Newlines are kept; runs of spaces are not collapsed."""
    text = _INVISIBLE.sub("", text).translate(_BULLETS)
    text = unicodedata.normalize("NFKC", text)
    text = _PRIVATE_USE.sub("", text)
    return _ODD_SPACE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def collapse_spaces(text: str) -> str:
    """Return one line of text with runs of spaces collapsed and the ends stripped."""
    return _SPACES.sub(" ", text).strip()


# ---------------------------------------------------------------------------------------------
# Running headers, footers and page counters

# Running lines live near the top and bottom edges: Word puts headers and footers 1.25 cm
# from the edge and body text 2.54 cm in, whatever the page size or orientation. The band is
# 64 pt (2.25 cm), or 7.5% of the height on pages larger than A4.
_EDGE_BAND_POINTS = 64.0
_EDGE_BAND_SHARE = 0.075
_EDGE_LINES = 3  # without page geometry: the first and last lines in reading order
_PAGE_COUNTER = re.compile(r"(page\s*)?#(\s*(of|/)\s*#)?")
_ROMAN = re.compile(r"(?=[ivxlcdm])m{0,3}(c[md]|d?c{0,3})(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})")


def running_key(text: str) -> str:
    """Return the form of a line under which its repeats on other pages are counted:
    case-folded, spaces collapsed, every number (and a bare roman numeral) replaced by '#'."""
    key = re.sub(r"\d+", "#", collapse_spaces(text).casefold())
    return "#" if _ROMAN.fullmatch(key) else key


def _edge_lines(page: RawPage) -> list[int]:
    """Indexes of the lines in the page's header and footer zones."""
    filled = [i for i, line in enumerate(page.lines) if line.text.strip()]
    if page.height and all(page.lines[i].y is not None for i in filled):
        band = max(_EDGE_BAND_POINTS, _EDGE_BAND_SHARE * page.height)
        low, high = band, page.height - band
        return [i for i in filled if not low < (page.lines[i].y or 0.0) < high]  # y is set
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def remove_running_lines(pages: list[RawPage]) -> list[RawPage]:
    """Return the pages without running headers and footers: lines in a page's edge zones that
    repeat (numbers aside) on many pages, and page counters such as '3', 'Page 3 of 10', '3/10'."""
    # Count, for each key, the pages where it sits in an edge zone.
    edges = [_edge_lines(page) for page in pages]
    counts: Counter[str] = Counter()
    for page, indexes in zip(pages, edges, strict=True):
        counts.update({running_key(page.lines[i].text) for i in indexes})

    # Geometry makes the edge zones precise, so a smaller share of pages is enough evidence.
    with_geometry = any(page.height for page in pages)
    share = 0.1 if with_geometry else 0.3
    # A short document cannot repeat a line on three pages: there, every page but one will do.
    needed = max(2, min(3, len(pages) - 1), math.ceil(share * len(pages)))

    running = {key for key, count in counts.items() if count >= needed}

    def is_running(key: str) -> bool:
        # A long running line can vary slightly: a browser shortens the URL in its footer
        # to make room for '10/10'.
        return (
            key in running
            or bool(_PAGE_COUNTER.fullmatch(key))
            or (
                len(key) >= 30
                and any(SequenceMatcher(None, key, other).ratio() >= 0.9 for other in running)
            )
        )

    cleaned = []
    for page, indexes in zip(pages, edges, strict=True):
        drop = {i for i in indexes if is_running(running_key(page.lines[i].text))}
        lines = tuple(line for i, line in enumerate(page.lines) if i not in drop)
        cleaned.append(replace(page, lines=lines))
    return cleaned


_PRINTED_NUMBER = (
    re.compile(r"(?:page\s*)?(\d{1,4})(?:\s*(?:of|/)\s*\d{1,4})?", re.IGNORECASE),
    re.compile(r"(\d{1,4})\s*[|•·]\s*\S.*"),  # "2 | Report title"
    re.compile(r".*\S\s*[|•·]\s*(?:page\s*)?(\d{1,4})", re.IGNORECASE),  # "Report title | 2"
)


def printed_page_labels(pages: list[RawPage]) -> list[str | None]:
    """Return each page's printed number where it differs from its physical position.

    Reports often number from the first page after the cover: physical page 3 prints "2". The
    number is read from the page's header or footer, and trusted only when most pages that
    print one agree on the same offset from the physical page.
    """
    printed: dict[int, int] = {}
    for number, page in enumerate(pages, start=1):
        for index in _edge_lines(page):
            text = collapse_spaces(page.lines[index].text)
            match = next((m for p in _PRINTED_NUMBER if (m := p.fullmatch(text))), None)
            if match:
                printed[number] = int(match.group(1))
                break
    offsets = Counter(value - number for number, value in printed.items())
    if not offsets:
        return [None] * len(pages)
    offset, agreeing = offsets.most_common(1)[0]
    if offset == 0 or agreeing < max(3, len(printed) // 2 + 1):
        return [None] * len(pages)
    return [
        str(printed[number]) if printed.get(number) == number + offset else None
        for number in range(1, len(pages) + 1)
    ]


# ---------------------------------------------------------------------------------------------
# Contents pages

_LEADER_ENTRY = re.compile(r"(?:\.\s?){4,}\s*(?:\d+|[ivxlc]+)\s*$", re.IGNORECASE)
_CONTENTS_TITLE = re.compile(r"(table of )?contents", re.IGNORECASE)
_ENDS_IN_PAGE_NUMBER = re.compile(r"(^|\s)(\d{1,3}|[ivxlc]{1,6})$", re.IGNORECASE)


def is_contents_page(lines: list[str]) -> bool:
    """Return True for a table of contents: entries with dotted leaders ('Introduction .... 4'),
    or a 'Contents' title followed mostly by lines that end in a page number."""
    filled = [collapse_spaces(line) for line in lines if line.strip()]
    leaders = sum(1 for line in filled if _LEADER_ENTRY.search(line))
    if leaders >= 3 or (leaders >= 2 and leaders * 2 >= len(filled)):
        return True
    for position, line in enumerate(filled[:5]):
        if _CONTENTS_TITLE.fullmatch(line):
            entries = filled[position + 1 :]
            numbered = sum(1 for entry in entries if _ENDS_IN_PAGE_NUMBER.search(entry))
            # Entries that wrap put their page number on the last of their lines.
            return numbered >= 3 and numbered * 3 >= len(entries)
    return False


# ---------------------------------------------------------------------------------------------
# Document-wide measurements


_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_LINE_END_SPLIT = re.compile(r"([A-Za-z]+)-$")
_LINE_START_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Vocabulary:
    """The words a document uses whole, to judge the words it splits at line ends."""

    words: frozenset[str] = frozenset()  # lower case, never a half split at a line end
    compounds: frozenset[str] = frozenset()  # hyphenated words seen whole, e.g. 'data-driven'
    # False when the document's line-end hyphens are, by its own usage, all compounds: word
    # processors do not hyphenate by default, so most NHS reports only break at real hyphens.
    splits_words: bool = True

    @classmethod
    def of(cls, pages: list[list[str]]) -> Vocabulary:
        """The vocabulary of a document given as pages of lines."""
        words: set[str] = set()
        compounds: set[str] = set()
        pairs: list[tuple[str, str]] = []
        for lines in pages:
            texts = [line.strip() for line in lines]
            for index, text in enumerate(texts):
                tokens = _WORD.findall(text)
                # Leave out the two halves of a word split at a line end.
                if (split := _LINE_END_SPLIT.search(text)) and tokens:
                    tokens.pop()
                    following = texts[index + 1] if index + 1 < len(texts) else ""
                    if start := _LINE_START_WORD.match(following):
                        pairs.append((split.group(1).casefold(), start.group(0).casefold()))
                if index and _LINE_END_SPLIT.search(texts[index - 1]) and tokens:
                    tokens.pop(0)
                for token in tokens:
                    lowered = token.casefold()
                    words.update(lowered.split("-"))
                    if "-" in lowered:
                        compounds.add(lowered)
        # Weigh the document's evidence: a split word it also writes whole, or a compound it
        # also writes hyphenated mid-line.
        splits = sum(1 for a, b in pairs if a + b in words and f"{a}-{b}" not in compounds)
        kept = sum(1 for a, b in pairs if f"{a}-{b}" in compounds)
        splits_words = not (kept >= 3 and splits * 10 <= kept)
        return cls(frozenset(words), frozenset(compounds), splits_words)


@dataclass(frozen=True)
class _Style:
    """What the whole document says about its own layout and vocabulary."""

    body_size: float
    pitches: dict[float, float]  # font size -> usual distance between wrapped lines
    vocabulary: Vocabulary
    has_layout: bool

    def break_gap(self, size: float) -> float:
        """The vertical distance above which two lines of this size are separate paragraphs."""
        return 1.3 * self.pitches.get(round(size, 1), 1.25 * size) + 0.5


def _measure(pages: list[RawPage]) -> _Style:
    """Return the document's body font size, line pitches and vocabulary."""
    chars: Counter[float] = Counter()
    gaps: dict[float, Counter[float]] = {}
    for page in pages:
        previous: Line | None = None
        for line in page.lines:
            if not line.text.strip():
                previous = None
                continue
            if line.size:
                chars[round(line.size, 1)] += len(line.text)
            # Line pitch: baseline distance between consecutive lines of one size.
            if previous is not None and previous.y is not None and line.y is not None:
                size = round(line.size, 1)
                gap = previous.y - line.y
                if size and previous.size == line.size and 0.9 * size <= gap <= 2.2 * size:
                    gaps.setdefault(size, Counter())[round(gap * 2) / 2] += 1
            previous = line

    pitches = {}
    for size, counter in gaps.items():
        if counter.total() >= 3:
            # Wrapped lines sit closest together; list items and table rows are spaced wider.
            ordered = sorted(counter.elements())
            pitches[size] = ordered[len(ordered) // 4]
    # Body size: the size carrying the most characters.
    body = chars.most_common(1)[0][0] if chars else 0.0
    vocabulary = Vocabulary.of([[line.text for line in page.lines] for page in pages])
    has_layout = any(line.y is not None for page in pages for line in page.lines)
    return _Style(body, pitches, vocabulary, has_layout)


# ---------------------------------------------------------------------------------------------
# Rejoining wrapped lines

# Parts that make real compounds: at a line end, a hyphen next to one of these is kept.
# fmt: off
_COMPOUND_PREFIXES = frozenset({
    "all", "anti", "co", "cross", "cyber", "e", "ex", "full", "half", "high", "inter", "long",
    "low", "mid", "multi", "non", "one", "over", "part", "post", "pre", "real", "self", "semi",
    "short", "sub", "two", "well", "x"
})
_COMPOUND_SUFFIXES = frozenset({
    "assisted", "based", "being", "centred", "centered", "day", "driven", "enabled", "facing",
    "focused", "free", "friendly", "funded", "house", "informed", "led", "level", "like",
    "making", "old", "only", "owned", "quality", "related", "run", "scale", "sharing",
    "specific", "supported", "term", "time", "to", "up", "wide", "year"
})
# fmt: on
_URLISH = re.compile(r"https?://|www\.|@|/|[A-Za-z]\.[A-Za-z]")  # web, e-mail, domain
_URL_START = re.compile(r"\(?(https?://|www\.)")


def keep_line_end_hyphen(left: str, right: str, vocabulary: Vocabulary = Vocabulary()) -> bool:
    """Return True when the hyphen ending `left` belongs to a compound ('long-' + 'term') and
    False when it only split a word across lines ('recom-' + 'mendation').

    The document's own usage decides first (a joined or hyphenated form it writes elsewhere);
    then capitals and known compound parts keep the hyphen; two whole words of the document
    make a compound; anything else is a split word."""
    head = _LINE_END_SPLIT.search(left)
    tail = _LINE_START_WORD.match(right)
    if head is None or tail is None or not vocabulary.splits_words:
        return True
    first, second = head.group(1), tail.group(0)
    joined, hyphenated = (first + second).casefold(), f"{first}-{second}".casefold()
    # Web and e-mail addresses keep every character.
    if _URLISH.search(left.rsplit(" ", 1)[-1]):
        return True
    if hyphenated in vocabulary.compounds:
        return True
    if joined in vocabulary.words:
        return False
    if first[-1].isupper() or second[0].isupper():
        return True
    if first.casefold() in _COMPOUND_PREFIXES or second.casefold() in _COMPOUND_SUFFIXES:
        return True
    whole_words = first.casefold() in vocabulary.words and second.casefold() in vocabulary.words
    return whole_words and min(len(first), len(second)) > 1


def join_wrapped(left: str, right: str, vocabulary: Vocabulary = Vocabulary()) -> str:
    """Return two wrapped lines of one paragraph rejoined: with a space, or with nothing at a
    word split by a hyphen or a web address broken across lines."""
    if left.endswith("-") and left[-2:-1].isalpha() and right[:1].isalpha():
        return left + right if keep_line_end_hyphen(left, right, vocabulary) else left[:-1] + right
    last, first = left.rsplit(" ", 1)[-1], right.split(" ", 1)[0]
    if _URL_START.match(last) and not last.endswith((")", ",")) and re.search(r"[./]", first):
        return left + right
    return f"{left} {right}"


# ---------------------------------------------------------------------------------------------
# Paragraphs

# Dashes only mark an item before a word: '– 2020/21' is a wrapped table cell, not a list.
_LIST_MARKER = re.compile(
    r"^(•|\*|[-–](?=\s+[A-Za-z])|\d{1,2}[.)]|[a-zA-Z][.)]|\((?:[a-z]|[ivx]{1,4}|\d{1,2})\))\s"
)
# '3.2 Workforce', '1. Introduction', '6A. Clinical coding', 'Chapter 4: Reporting'.
_NUMBERED_HEADING = re.compile(
    r"^(?:(?i:chapter|section|part|appendix|annex)\s+[0-9A-Z]{1,3}\b[.:]?"
    r"|\d{1,2}(?:\.\d{1,2}){0,3}[A-Z]?\.?)\s+[A-Z0-9]"
)
_SENTENCE_END = (".", "!", "?", ":", ";")


def _looks_numbered_heading(text: str) -> bool:
    """A short line starting with a section number, not ending like a sentence."""
    return (
        bool(_NUMBERED_HEADING.match(text))
        and len(text.split()) <= 12
        and not text.endswith(_SENTENCE_END)
    )


def _starts_new_run(previous: Line, line: Line, style: _Style) -> bool:
    """True when `line` cannot continue the paragraph that `previous` belongs to."""
    if _LIST_MARKER.match(line.text):
        return True
    # Without layout, a numbered heading line is the only sign of a heading.
    layout = previous.y is not None and line.y is not None
    if not layout and (
        _looks_numbered_heading(line.text) or _looks_numbered_heading(previous.text)
    ):
        return True
    if (
        previous.size
        and line.size
        and (abs(previous.size - line.size) > 0.6 or previous.bold != line.bold)
    ):
        return True
    if previous.italic != line.italic and _italic_line_apart(previous, line):
        return True
    if layout:
        gap = (previous.y or 0.0) - (line.y or 0.0)
        return gap <= 0 or gap > style.break_gap(line.size or previous.size)
    return False


def _italic_line_apart(previous: Line, line: Line) -> bool:
    """Whether an italic line next to a roman one is a line of its own: a subheading set in
    italic at body size ("Further integration of technology in the delivery of healthcare
    services", then "The pandemic has created..."), which starts after a sentence ends and is
    followed by one that starts anew. (An italic title inside a roman paragraph runs on: the
    roman line before it has not ended a sentence, or the one after it starts in lower case.)"""
    if previous.italic:
        return previous.text[:1].isupper() and line.text[:1].isupper()
    return previous.text.rstrip().endswith(_SENTENCE_END) and line.text[:1].isupper()


def _runs(lines: list[Line], style: _Style) -> list[list[Line]]:
    """Split a page's lines where layout or markers show a new paragraph begins."""
    runs: list[list[Line]] = []
    current: list[Line] = []
    for line in lines:
        if not line.text:
            if current:
                runs.append(current)
            current = []
            continue
        if current and _starts_new_run(current[-1], line, style):
            runs.append(current)
            current = []
        current.append(line)
    if current:
        runs.append(current)
    return runs


def _paragraphs(run: list[Line], style: _Style, *, contents: bool = False) -> list[str]:
    """Rejoin one run of lines: wrapped lines join; a line that ended early ends a paragraph
    after a full stop, and is a hard line break otherwise (table rows, names). On a contents
    page every line is an entry and stays one."""
    capacity = max(len(line.text) for line in run)
    paragraphs: list[str] = []
    current = run[0].text
    for previous, line in pairwise(run):
        next_word = line.text.split(" ", 1)[0]
        ended_early = len(previous.text) + 1 + len(next_word) <= 0.85 * capacity
        if contents:
            current += "\n" + line.text
        elif _LINE_END_SPLIT.search(previous.text):
            # Nobody breaks a line after a hyphen by hand: it wrapped.
            current = join_wrapped(current, line.text, style.vocabulary)
        elif ended_early and previous.text.endswith(_SENTENCE_END):
            paragraphs.append(current)
            current = line.text
        elif ended_early:
            current += "\n" + line.text
        else:
            current = join_wrapped(current, line.text, style.vocabulary)
    paragraphs.append(current)
    return paragraphs


def _blocks(lines: list[Line], style: _Style, *, contents: bool = False) -> list[Block]:
    """The page's paragraphs, each carrying the font of the run it came from."""
    blocks = []
    for run in _runs(lines, style):
        for text in _paragraphs(run, style, contents=contents):
            blocks.append(Block(text, size=run[0].size, bold=all(line.bold for line in run)))
    return blocks


# ---------------------------------------------------------------------------------------------
# Headings

_CAPTION = re.compile(
    r"^(figure|fig\.|table|chart|graph|box|map|image|exhibit|diagram|source|note|notes)\b\s*[\dA-Z:.]",
    re.IGNORECASE,
)


def _is_caption(text: str) -> bool:
    return bool(_CAPTION.match(text))


# Words in a heading: plain lines are headings up to 14 words; a bold or larger line that
# introduces prose may run to 20 ("Domain 3: Response to the Covid-19 pandemic by the NHS
# digital technology and health informatics sector", 17).
HEADING_WORDS, STYLED_HEADING_WORDS = 14, 20


def _heading_shape(text: str, *, max_words: int = HEADING_WORDS) -> bool:
    """True when the text could be a heading at all: short, one line, starts with a capital or
    a number, no sentence ending, mostly letters, not a bullet, caption or web address."""
    words = len(text.split())
    if "\n" in text or len(text) > (160 if words > HEADING_WORDS else 120):
        return False
    if not 1 <= words <= max_words:
        return False
    if text.endswith((".", ",", ";", ":")) or not (text[0].isupper() or text[0].isdigit()):
        return False
    if _LIST_MARKER.match(text) and not _NUMBERED_HEADING.match(text):
        return False
    if _is_caption(text) or re.search(r"https?://|www\.|@", text):
        return False
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 0.6 * len(text.replace(" ", ""))


def _title_like(text: str) -> bool:
    """A short line in title or sentence case: first word capitalised, no more than 8 words."""
    words = text.split()
    return len(words) <= 8 and words[0][0].isupper() and not text.endswith("?")


def _numbering_depth(text: str) -> int:
    """1 for '3 Workforce' or 'Chapter 3', 2 for '3.2 ...' or '6A. ...', and so on."""
    match = re.match(r"(\d+(?:\.\d+)*)([A-Z])?\.?\s", text)
    if match is None:
        return 1
    return match.group(1).count(".") + 1 + (1 if match.group(2) else 0)


# A sentence ending inside a paragraph: after 3 lower-case letters, 2 capitals ("NHS.") or a
# digit, so that "e.g. NHS" and "Dr. Smith" are not one.
_SENTENCE_INSIDE = re.compile(r"(?:[a-z]{3}|[A-Z]{2}|\d)[.!?] [A-Z]")


def _is_prose(block: Block, *, runs_on: bool = False) -> bool:
    """A paragraph of 8 words or more that ends a sentence or, `runs_on`, that holds one whole
    sentence before running on (past a page break, or a figure extracted inside it)."""
    text = block.text.rstrip()
    if len(text.split()) < 8:
        return False
    return text.endswith(_SENTENCE_END) or (runs_on and _SENTENCE_INSIDE.search(text) is not None)


def _heading_kind(blocks: list[Block], index: int, style: _Style) -> str | None:
    """'styled' (larger or bold type), 'numbered' or 'title' when blocks[index] is a heading."""
    block = blocks[index]
    previous = blocks[index - 1] if index else None
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    styled = bool(style.has_layout and block.size) and (
        block.bold or block.size >= style.body_size + 0.9
    )
    if not _heading_shape(block.text, max_words=STYLED_HEADING_WORDS if styled else HEADING_WORDS):
        return None
    # Prose under a heading may run on past a page break or a figure; the page's last
    # paragraph may not have ended its first sentence yet ("...and work with c" | "yber...").
    introduces = following is not None and (
        _is_prose(following, runs_on=True)
        or _LIST_MARKER.match(following.text)
        or (index + 2 == len(blocks) and len(following.text.split()) >= 8)
    )
    if style.has_layout and block.size:
        if len(block.text.split()) > HEADING_WORDS and not introduces:
            return None
        if block.size >= style.body_size + 0.9:
            return "styled"
        # Bold at body size is also used for table header cells and names: only a bold line
        # that introduces prose or a list counts.
        under_table_caption = previous is not None and re.match(r"(?i)table\s*\d", previous.text)
        if (
            block.bold
            and block.size >= style.body_size - 0.5
            and introduces
            and not under_table_caption
        ):
            return "styled" if not block.text.endswith("?") else None
        return None
    # Without layout hints: numbered headings, unless they are items of a numbered list.
    if _NUMBERED_HEADING.match(block.text):
        neighbours = [b for b in (previous, following) if b is not None]
        if any(_NUMBERED_HEADING.match(b.text) and not _heading_shape(b.text) for b in neighbours):
            return None
        if any(_LIST_MARKER.match(b.text) and _LIST_MARKER.match(block.text) for b in neighbours):
            return None
        return "numbered"
    # A short title line standing alone above prose.
    standing_alone = previous is None or _is_prose(previous) or _heading_shape(previous.text)
    if (
        _title_like(block.text)
        and following is not None
        and _is_prose(following)
        and standing_alone
    ):
        return "title"
    return None


def _style_levels(styles: Counter[tuple[float, bool]]) -> dict[tuple[float, bool], int]:
    """Heading levels from type: larger type is a higher level and, at one size, bold is.

    `styles` counts the pages using each style. Only styles on more than one page make levels,
    so a cover page's title type does not push every chapter heading down a level."""
    recurring = [style for style, count in styles.items() if count > 1]
    return {style: min(1 + sum(1 for other in recurring if other > style), 4) for style in styles}


def mark_headings(pages: list[list[Block]], style: _Style) -> list[list[Block]]:
    """Return the pages' blocks with `heading_level` set on the blocks that are headings."""
    kinds = [[_heading_kind(blocks, i, style) for i in range(len(blocks))] for blocks in pages]
    # For each heading style, the number of pages using it.
    styles: Counter[tuple[float, bool]] = Counter()
    for blocks, page_kinds in zip(pages, kinds, strict=True):
        styles.update(
            {
                (round(block.size, 1), block.bold)
                for block, kind in zip(blocks, page_kinds, strict=True)
                if kind == "styled"
            }
        )
    levels = _style_levels(styles)
    marked = []
    for blocks, page_kinds in zip(pages, kinds, strict=True):
        page = []
        for block, kind in zip(blocks, page_kinds, strict=True):
            if kind == "styled":
                # Type gives the level; section numbers ('2.1') can only push it deeper.
                level = levels[(round(block.size, 1), block.bold)]
                if re.match(r"\d+\.\d", block.text):
                    level = max(level, min(_numbering_depth(block.text), 4))
            elif kind == "numbered":
                level = min(_numbering_depth(block.text), 4)
            elif kind == "title":
                level = 1
            else:
                level = None
            page.append(replace(block, heading_level=level))
        marked.append(page)
    return marked


# ---------------------------------------------------------------------------------------------
# Putting a page together


def assemble(blocks: list[Block]) -> tuple[str, list[Heading]]:
    """Return the page text (paragraphs separated by one blank line) and its headings, each
    pointing at its paragraph's offset in that text."""
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for block in blocks:
        if not block.text:
            continue
        if parts:
            offset += 2
        if block.heading_level is not None:
            headings.append(Heading(start=offset, text=block.text, level=block.heading_level))
        parts.append(block.text)
        offset += len(block.text)
    return "\n\n".join(parts), headings


def _normalized(page: RawPage) -> RawPage:
    lines = tuple(
        replace(line, text=collapse_spaces(normalize_text(line.text))) for line in page.lines
    )
    return replace(page, lines=lines)


def clean_pages(pages: list[RawPage]) -> list[Page]:
    """Return the document's pages cleaned, numbered from 1: running headers and footers gone,
    paragraphs rejoined, headings found, contents pages and pages with no text marked."""
    # Characters and spacing first: every later rule compares text.
    pages = [_normalized(page) for page in pages]
    has_text = [any(ch.isalnum() for line in page.lines for ch in line.text) for page in pages]
    labels = printed_page_labels(pages)
    pages = remove_running_lines(pages)
    style = _measure(pages)

    # Paragraphs per page; contents pages keep theirs but offer no headings.
    contents = [is_contents_page([line.text for line in page.lines]) for page in pages]
    blocks = [
        _blocks(list(page.lines), style, contents=is_contents)
        for page, is_contents in zip(pages, contents, strict=True)
    ]
    marked = mark_headings(blocks, style)

    cleaned = []
    for number, (page, page_blocks) in enumerate(zip(pages, marked, strict=True), start=1):
        if contents[number - 1]:
            page_blocks = [replace(block, heading_level=None) for block in page_blocks]
        text, headings = assemble(page_blocks)
        # No text layer: nothing on the page at all, or only running lines over an image.
        label = labels[number - 1]
        if not has_text[number - 1] or (not text and page.has_images):
            cleaned.append(Page(number=number, label=label, text="", kind="empty"))
        elif contents[number - 1]:
            cleaned.append(Page(number=number, label=label, text=text, kind="contents"))
        else:
            cleaned.append(Page(number=number, label=label, text=text, headings=headings))
    return cleaned
