"""Cuts a document's cleaned pages into passages sized in the embedding model's own tokens.

Passages are packed from sentences (paragraph, line and sentence boundaries are respected), never
cross a section heading or a document, overlap their neighbours by a few sentences, and each
remembers its pages, its section and its character spans in the page texts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ingest.tokens import TokenCounter
from ingest.types import ExtractedDocument, Page, PageSpan, Passage

# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by space and a
# capital, digit, quote or bullet: "e.g. the" does not split, "units. The" does.
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]”’]?\s+(?=[A-Z0-9\"'(“‘•])")
MAX_SECTION_WORDS = 24
# A line that ends mid-sentence: a letter, digit or comma last, not closing punctuation.
RUNS_ON = re.compile(r"[A-Za-z0-9,’'\)]\s*$")
# Words no sentence ends on: a figure after one goes on with the sentence ("...and senior
# leaders to" over a page break, then "11 per cent.").
LINKING = re.compile(
    r"\b(?:a|an|the|to|of|in|on|at|by|for|from|with|than|and|or|between|around|about|over|"
    r"under|into)\s*$",
    re.I,
)
# A figure that a sentence goes on from: "11 per cent", "2019, led", "88%".
GOES_ON = re.compile(r"\d[\d,.]*(?:%|,?\s+[a-z])")
# What a figure page holds, and what may stand between a cut sentence and the rest of it.
CAPTION = re.compile(r"^(?:Figure|Table|Chart|Box|Source)\s*[\dA-Z.]*\s*[:.–-]", re.I)
CUT_PROSE_WORDS = 8  # a paragraph this long that ends mid-sentence is prose a break cut


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a window of a long sentence) with its place in a page's text."""

    page: int
    start: int
    end: int
    tokens: int
    is_heading: bool
    section: str | None
    order: int = 0  # its place in the document's reading order, before any moved back


def runs_into(left: str, right: str) -> bool:
    """Return whether `right` goes on with the sentence `left` leaves unfinished: `left` ends
    mid-sentence and `right` starts in lower case, or `left` is prose that ends on a word no
    sentence ends on and `right` starts with a figure that words go on from ("...senior
    leaders to" / "11 per cent."; "A review in" / "2019, led by"). A heading ("Who we heard
    from") and a footnote under a cut line ("14 Bardsley's definition...") do not."""
    if not RUNS_ON.search(left):
        return False
    right = right.lstrip()
    if right[:1].islower():
        return True
    return (
        bool(GOES_ON.match(right))
        and bool(LINKING.search(left))
        and len(left.split()) >= CUT_PROSE_WORDS
    )


def embedding_text(passage: Passage) -> str:
    """Return the text to embed for a passage: its section heading, then its text."""
    section = _section_label(passage.section)
    if section and not passage.text.startswith(section):
        return f"{section}\n{passage.text}"
    return passage.text


def chunk_document(
    doc: ExtractedDocument,
    counter: TokenCounter,
    *,
    target_tokens: int = 200,
    overlap_tokens: int = 40,
) -> list[Passage]:
    """Return the document's passages, none longer than the model's input limit."""
    # Cut the searchable pages into sentence units, counted in model tokens.
    units = _units(doc.pages, counter)
    if not units:
        return []

    # Pack units greedily into chunks, flushing at section headings and at the target size.
    pages = {page.number: page for page in doc.pages}
    chunks: list[list[_Unit]] = []
    current: list[_Unit] = []
    fresh = 0  # units in `current` that are not overlap carried from the previous chunk
    for unit in units:
        budget = _budget(counter, unit.section, target_tokens)
        size = sum(u.tokens for u in current)
        # A heading starts a new passage, unless only headings came before it on the same page
        # (a chapter title over its first section heading stays with that section).
        starts_section = (
            unit.is_heading
            and fresh
            and (not all(u.is_heading for u in current) or unit.page != current[-1].page)
        )
        if current and (starts_section or (fresh and size + unit.tokens > budget)):
            chunks.append(current)
            current = [] if starts_section else _overlap(current, overlap_tokens)
            fresh = 0
        # Overlap gives way when it leaves no room for the new unit.
        limit = _budget(counter, unit.section, counter.limit)
        while current and sum(u.tokens for u in current) + unit.tokens > limit:
            current.pop(0)
        current.append(unit)
        fresh += 1
    if fresh:
        chunks.append(current)

    # Turn chunks into passages, splitting any whose exact count still exceeds the limit.
    passages: list[Passage] = []
    for chunk in chunks:
        for fitted in _fit(chunk, pages, counter):
            passages.append(_passage(doc.doc_id, len(passages), fitted, pages, counter))
    return passages


def _budget(counter: TokenCounter, section: str | None, size: int) -> int:
    """Tokens left for passage text once the section heading is prepended for embedding."""
    label = _section_label(section)
    room = counter.limit - (counter.count(label) if label else 0)
    return max(16, min(size, room))


def _section_label(section: str | None) -> str | None:
    if not section:
        return None
    words = section.split()
    return " ".join(words[:MAX_SECTION_WORDS])


def _overlap(chunk: list[_Unit], overlap_tokens: int) -> list[_Unit]:
    """Return the trailing sentences of a chunk that fit in the overlap budget."""
    carried: list[_Unit] = []
    total = 0
    for unit in reversed(chunk):
        if unit.is_heading or total + unit.tokens > overlap_tokens:
            break
        carried.insert(0, unit)
        total += unit.tokens
    return carried


def _fit(chunk: list[_Unit], pages: dict[int, Page], counter: TokenCounter) -> list[list[_Unit]]:
    """Return the chunk, halved as often as needed so each part fits the model's limit."""
    section = next((u.section for u in chunk if not u.is_heading), chunk[0].section)
    text = _text(chunk, pages)
    label = _section_label(section)
    full = f"{label}\n{text}" if label and not text.startswith(label) else text
    if len(chunk) == 1 or counter.count(full) <= counter.limit:
        return [chunk]
    middle = len(chunk) // 2
    return _fit(chunk[:middle], pages, counter) + _fit(chunk[middle:], pages, counter)


def _units(pages: list[Page], counter: TokenCounter) -> list[_Unit]:
    """Return the sentence units of all content pages, each no longer than the model's limit."""
    raw: list[tuple[int, int, int, bool]] = []  # page, start, end, is_heading
    for page in pages:
        if page.kind != "content":
            continue
        heading_starts = {h.start for h in page.headings}
        for start, end in _spans(page.text, r"\n\s*\n"):
            is_heading = start in heading_starts
            if is_heading:
                raw.append((page.number, start, end, True))
                continue
            for line_start, line_end in _spans(page.text[start:end], r"\n"):
                sentence_text = page.text[start + line_start : start + line_end]
                for s_start, s_end in _spans(sentence_text, SENTENCE_END.pattern):
                    offset = start + line_start
                    raw.append((page.number, offset + s_start, offset + s_end, False))

    texts = [_page_text(pages, p)[s:e] for p, s, e, _ in raw]
    counts = counter.count_many(texts)

    # Assign sections and split sentences too long for any passage into word windows.
    headings = {(p.number, h.start): h.text for p in pages for h in p.headings}
    units: list[_Unit] = []
    section: str | None = None
    for (page, start, end, is_heading), text, tokens in zip(raw, texts, counts, strict=True):
        if is_heading:
            section = headings[(page, start)]
        limit = _budget(counter, section, counter.limit)
        if tokens <= limit:
            units.append(_Unit(page, start, end, tokens, is_heading, section, len(units)))
            continue
        for w_start, w_end, w_tokens in _windows(text, counter, limit):
            units.append(
                _Unit(page, start + w_start, start + w_end, w_tokens, False, section, len(units))
            )
    return _past_captions(units, pages)


def _past_captions(units: list[_Unit], pages: list[Page]) -> list[_Unit]:
    """Return the units with each sentence that a page break cut followed by the rest of it,
    when figure captions stand between (pages of figures, then the next page's caption):
    "...and senior leaders to", "Figure 6H.1: ...", "Figure 6H.2: ...", "11 per cent." reads
    "...and senior leaders to", "11 per cent.", then the captions. The captions stay in the
    passage; only the order of the units changes, each keeping its page."""

    def text(unit: _Unit) -> str:
        return _page_text(pages, unit.page)[unit.start : unit.end]

    def caption(unit: _Unit) -> bool:
        return not unit.is_heading and bool(CAPTION.match(text(unit)))

    ordered = list(units)
    for at, unit in enumerate(ordered):
        if unit.is_heading or caption(unit) or len(text(unit).split()) < CUT_PROSE_WORDS:
            continue
        after = at + 1
        while after < len(ordered) and caption(ordered[after]):
            after += 1
        if after == at + 1 or after == len(ordered):
            continue  # nothing between them (the splitter joins those), or nothing after
        rest = ordered[after]
        if not rest.is_heading and rest.page > unit.page and runs_into(text(unit), text(rest)):
            ordered.insert(at + 1, ordered.pop(after))
    return ordered


def _page_text(pages: list[Page], number: int) -> str:
    # Pages are numbered 1..n in order, so index directly.
    return pages[number - 1].text


def _spans(text: str, separator: str) -> list[tuple[int, int]]:
    """Return [start, end) of the non-blank pieces of text between separator matches."""
    spans = []
    position = 0
    for match in [*re.finditer(separator, text), None]:
        end = match.start() if match else len(text)
        piece = text[position:end]
        stripped = piece.strip()
        if stripped:
            left = position + (len(piece) - len(piece.lstrip()))
            spans.append((left, left + len(stripped)))
        position = match.end() if match else len(text)
    return spans


def _windows(text: str, counter: TokenCounter, limit: int) -> list[tuple[int, int, int]]:
    """Return word windows of an over-long sentence, each at most `limit` tokens."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    counts = counter.count_many([text[s:e] for s, e in words])
    windows: list[tuple[int, int, int]] = []
    first = 0
    total = 0
    for index, count in enumerate(counts):
        count = min(count, limit)  # a single absurd "word" (a URL) is cut by _fit later
        if total + count > limit and index > first:
            windows.append((words[first][0], words[index - 1][1], total))
            first, total = index, 0
        total += count
    windows.append((words[first][0], words[-1][1], total))
    return windows


def _text(chunk: list[_Unit], pages: dict[int, Page]) -> str:
    """Return the chunk's text: exact page-text slices, joined by a blank line across pages."""
    return "\n\n".join(pages[page].text[start:end] for page, start, end in _page_ranges(chunk))


def _page_ranges(chunk: list[_Unit]) -> list[tuple[int, int, int]]:
    """Return the chunk's page-text slices: units next to each other in reading order share
    one; a unit moved back past captions (`_past_captions`) has its own."""
    ranges: list[tuple[int, int, int]] = []
    for previous, unit in zip([None, *chunk], chunk, strict=False):
        if previous is not None and previous.page == unit.page and unit.order == previous.order + 1:
            page, start, _ = ranges[-1]
            ranges[-1] = (page, start, unit.end)
        else:
            ranges.append((unit.page, unit.start, unit.end))
    return ranges


def _passage(
    doc_id: str, ordinal: int, chunk: list[_Unit], pages: dict[int, Page], counter: TokenCounter
) -> Passage:
    text = _text(chunk, pages)
    # The section is the one in force at the first sentence that is not itself a heading.
    section = next((u.section for u in chunk if not u.is_heading), chunk[-1].section)
    digest = hashlib.sha1(f"{doc_id}\n{text}".encode()).hexdigest()[:10]
    passage = Passage(
        id=f"{doc_id}#{ordinal:04d}-{digest}",
        doc_id=doc_id,
        ordinal=ordinal,
        first_page=min(u.page for u in chunk),
        last_page=max(u.page for u in chunk),
        section=section,
        text=text,
        spans=[PageSpan(page=p, start=s, end=e) for p, s, e in _page_ranges(chunk)],
        n_tokens=0,
    )
    passage.n_tokens = counter.count(embedding_text(passage))
    return passage
