"""Opens a citation at its quote: a PDF viewer page (PDF.js, bundled) or a web page at the passage.

`/view/<doc id>?page=N&q=<quoted sentence>` shows page N of the cached PDF with each quoted
sentence highlighted, rendered in the browser by PDF.js from `assistant/static/pdfjs` (Apache
2.0, see its LICENSE). A cached web page is opened at the quote with a text fragment
(`#:~:text=`), which browsers scroll to and highlight themselves.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from assistant.types import Citation
from ingest.types import DocumentFormat

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/iga-static"
FRAGMENT_WORDS = 4  # words at each end of a text fragment
MAX_QUOTE_CHARS = 2000

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}, page {page}</title>
<link rel="stylesheet" href="{static}/viewer.css">
<script type="module" src="{static}/viewer.js"></script>
</head>
<body data-file="{file}" data-state="loading">
<header class="iga-viewer-bar">
  <h1>{title}</h1>
  <nav aria-label="Pages">
    <button id="iga-prev" type="button">Previous page</button>
    <span>Page <b id="iga-page-number">{page}</b> of {pages}</span>
    <button id="iga-next" type="button">Next page</button>
    <a href="{file}#page={page}">Local copy in the browser's viewer</a>{official}
  </nav>
  <p id="iga-viewer-status" role="status">Loading page {page}...</p>
</header>
<main class="iga-viewer-main"><div id="iga-page" class="iga-page"></div></main>
</body>
</html>
"""


def viewer_url(citation: Citation, document_format: DocumentFormat) -> str | None:
    """Return where to open a citation at its quote in the app, or None without a local copy."""
    if citation.local_url is None:
        return None
    quotes = [citation.text[h.start : h.end] for h in citation.highlights]
    if document_format is not DocumentFormat.pdf:
        return f"/doc/{citation.doc_id}" + (text_fragment(quotes[0]) if quotes else "")
    query = urlencode([("page", citation.pages[0]), *(("q", " ".join(q.split())) for q in quotes)])
    return f"/view/{citation.doc_id}?{query}"


def text_fragment(sentence: str) -> str:
    """Return a `#:~:text=start,end` fragment that makes a browser scroll to and mark a sentence."""
    words = sentence.split()

    def encode(part: list[str]) -> str:
        return quote(" ".join(part), safe="").replace("-", "%2D")

    if len(words) <= 2 * FRAGMENT_WORDS:
        return f"#:~:text={encode(words)}"
    return f"#:~:text={encode(words[:FRAGMENT_WORDS])},{encode(words[-FRAGMENT_WORDS:])}"


def viewer_router(
    files: dict[str, Path],
    titles: dict[str, tuple[str, int, str | None]],
    *,
    check_access: Callable[[Request], None],
) -> APIRouter:
    """Return the `/view/<doc id>` route over the cached PDFs (by id: title, pages, official URL)."""
    router = APIRouter()

    @router.get("/view/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def view(
        doc_id: str,
        request: Request,
        page: int = Query(1, ge=1),
        q: list[str] = Query(default_factory=list),
    ) -> HTMLResponse:
        """A page of a cached PDF with the quoted sentences highlighted."""
        check_access(request)
        path = files.get(doc_id)  # ids only: nothing outside the index's cached files
        if path is None or path.suffix != ".pdf" or doc_id not in titles:
            raise HTTPException(status_code=404, detail="No cached PDF of that document.")
        if any(len(text) > MAX_QUOTE_CHARS for text in q):
            raise HTTPException(status_code=422, detail="A quote is too long to look for.")
        title, pages, official = titles[doc_id]
        e = html.escape
        link = (
            f' <a href="{e(official)}#page={min(page, pages)}" target="_blank" '
            'rel="noopener noreferrer">Official document</a>'
            if official
            else ""
        )
        return HTMLResponse(
            PAGE.format(
                title=e(title),
                page=min(page, pages),
                pages=pages,
                file=e(f"/doc/{doc_id}"),
                static=STATIC_URL,
                official=link,
            )
        )

    return router
