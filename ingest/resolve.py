"""Finds, on a publication or hub page, the link to the file a manifest entry describes.

A link is a candidate when it points at a file of the entry's format (a `.pdf` path, or link
text saying "PDF"). Candidates are scored by how well the entry's title words match the words of
the link text and the file name (Dice coefficient); an optional `link_text` / `link_pattern`
hint in the manifest narrows them first, for hub pages that list several documents. No
candidate, or two equally good ones, is an error that names the page and lists what it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

from ingest.errors import FetchError
from ingest.types import DocumentFormat, ManifestEntry

WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which document a link is.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "in",
        "on",
        "to",
        "with",
        "by",
        "from",
        "at",
        "as",
        "or",
        "its",
        "it",
        "is",
        "this",
        "that",
        "be",
        "are",
        "download",
        "pdf",
        "html",
        "file",
        "kb",
        "mb",
        "version",
        "report",
    ]
)
MIN_SHARED_WORDS = 2  # a link must share this many title words (or all, for shorter titles)
CANDIDATES_SHOWN = 8


class LinkNotFound(FetchError):
    """No link on the page fits the entry (`tie`: several fit equally well)."""

    def __init__(self, doc_id: str, message: str, *, tie: bool) -> None:
        super().__init__(doc_id, message)
        self.tie = tie


@dataclass(frozen=True)
class Link:
    """A link on a page: absolute URL (no fragment) and its visible text."""

    url: str
    text: str


@dataclass(frozen=True)
class Choice:
    """A scored candidate link."""

    link: Link
    score: float
    shared: int


def page_links(html: bytes, page_url: str) -> list[Link]:
    """Return the page's http(s) links, made absolute against the page (or its <base href>)."""
    soup = BeautifulSoup(html, "lxml")
    base_tag = soup.find("base", href=True)
    base = urljoin(page_url, str(base_tag["href"])) if base_tag else page_url
    links: list[Link] = []
    for anchor in soup.find_all("a", href=True):
        url, _ = urldefrag(urljoin(base, str(anchor["href"]).strip()))
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        text = " ".join(anchor.get_text(" ").split())
        title = anchor.get("title") or anchor.get("aria-label") or ""
        links.append(Link(url=url, text=" ".join(filter(None, [text, str(title)]))))
    return links


def is_file_link(link: Link, fmt: DocumentFormat) -> bool:
    """Return whether the link points at a file of this format."""
    path = urlsplit(link.url).path.lower()
    if fmt is DocumentFormat.pdf:
        return path.endswith(".pdf") or bool(re.search(r"\bpdf\b", link.text.lower()))
    return path.endswith((".html", ".htm"))


def choose_link(entry: ManifestEntry, links: list[Link], *, page: str, files: bool) -> Link:
    """Return the link on `page` that best matches the entry; raise FetchError when none or a tie.

    `files` selects file links of the entry's format; otherwise other pages are the candidates
    (a hub page that links a publication page, which links the file).
    """
    candidates = _merge(
        [
            link
            for link in links
            if is_file_link(link, entry.format) == files and urldefrag(link.url)[0] != page
        ]
    )
    hinted = [link for link in candidates if _fits_hint(entry, link)]
    if entry.link_text or entry.link_pattern:
        if len(hinted) == 1:
            return hinted[0]
        candidates = hinted
    ranked = sorted(
        (_score(entry.title, link) for link in candidates), key=lambda c: (-c.score, c.link.url)
    )
    words = _words(entry.title)
    needed = min(MIN_SHARED_WORDS, len(words))
    good = [choice for choice in ranked if choice.shared >= needed]
    if good and (len(good) == 1 or good[0].score > good[1].score):
        return good[0].link
    tie = len(good) > 1
    raise LinkNotFound(entry.id, _no_choice(entry, page, ranked, tie=tie, files=files), tie=tie)


def link_score(entry: ManifestEntry, link: Link) -> float:
    """Return how well a link's text and file name match the entry's title (0 to 1)."""
    return _score(entry.title, link).score


def _merge(links: list[Link]) -> list[Link]:
    """Return one link per URL, its texts joined (a page often links a file twice)."""
    texts: dict[str, list[str]] = {}
    for link in links:
        texts.setdefault(link.url, [])
        if link.text and link.text not in texts[link.url]:
            texts[link.url].append(link.text)
    return [Link(url=url, text=" ".join(parts)) for url, parts in texts.items()]


def _fits_hint(entry: ManifestEntry, link: Link) -> bool:
    if entry.link_text and entry.link_text.lower() not in link.text.lower():
        return False
    return not (entry.link_pattern and not re.search(entry.link_pattern, link.url))


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def _link_words(link: Link) -> set[str]:
    name = unquote(urlsplit(link.url).path.rstrip("/").rsplit("/", 1)[-1])
    return _words(link.text) | _words(re.sub(r"\.(pdf|html?)$", "", name, flags=re.IGNORECASE))


def _score(title: str, link: Link) -> Choice:
    wanted, found = _words(title), _link_words(link)
    shared = len(wanted & found)
    total = len(wanted) + len(found)
    return Choice(link=link, score=round(2 * shared / total, 6) if total else 0.0, shared=shared)


def _no_choice(
    entry: ManifestEntry, page: str, ranked: list[Choice], *, tie: bool, files: bool
) -> str:
    what = f"{entry.format.value.upper()} link" if files else "link to a publication page"
    if tie:
        problem = f"several {what}s on {page} match the title equally well"
    else:
        problem = f"no {what} on {page} matches the title"
    shown = "".join(
        f"\n    {c.link.url} ({c.link.text or 'no link text'}; score {c.score:.2f})"
        for c in ranked[:CANDIDATES_SHOWN]
    )
    more = len(ranked) - CANDIDATES_SHOWN
    listing = (
        f"; candidates:{shown}" + (f"\n    ... and {more} more" if more > 0 else "")
        if ranked
        else f"; the page links no {entry.format.value.upper()} file"
    )
    return (
        f"{problem}{listing}\n  Add `link_text:` or `link_pattern:` to the entry in the "
        "manifest, or set `url:` to the file"
    )
