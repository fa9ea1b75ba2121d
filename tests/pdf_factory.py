"""Builds real test files: PDFs drawn with reportlab (then labelled or encrypted with pypdf), and
HTML pages. Each function returns the file's bytes; the layout mimics Word-made NHS reports."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

WIDTH, HEIGHT = A4
MARGIN = 72.0
HEADER = "Imaging network guide: reporting turnaround"
FOOTER = "Imaging network guide | Page {n}"
BODY_SIZE = 11.0
LEADING = 14.0

# The report's pages after the cover and contents, as (heading, paragraphs). A paragraph is
# a list of pre-wrapped lines, so tests know exactly where each line breaks; "- " starts a
# bullet (reportlab's built-in fonts cannot carry "•" into extracted text). The first page splits "recommendation" across a line end and ends a line at the
# real compound "long-term".
REPORT_PAGES: list[tuple[str, list[list[str]]]] = [
    (
        "1 Introduction",
        [
            [
                "This guide sets out how imaging networks should plan reporting capacity",
                "across their member trusts. It follows the national recom-",
                "mendation that every network agrees a single reporting standard.",
            ],
            [
                "Networks should publish a long-",
                "term workforce plan and review it every year with each trust.",
            ],
            ["- Agree a shared reporting standard.", "- Publish turnaround times monthly."],
        ],
    ),
    (
        "2 Governance",
        [
            [
                "Each network board meets quarterly and receives a report on turnaround",
                "times, outsourcing spend and the backlog of unreported examinations.",
            ],
        ],
    ),
    (
        "2.1 Board membership",
        [
            [
                "The clinical director chairs the reporting group. Members include the",
                "lead radiographer, the PACS manager and a patient representative.",
            ],
        ],
    ),
]
CONTENTS = [("1 Introduction", "1"), ("2 Governance", "2"), ("2.1 Board membership", "3")]


def _running_lines(canvas: Canvas, number: int) -> None:
    """The header and footer every body page carries."""
    canvas.setFont("Helvetica", 9)
    canvas.drawString(MARGIN, HEIGHT - 40, HEADER)
    canvas.drawString(MARGIN, 30, FOOTER.format(n=number))


def _heading(canvas: Canvas, text: str, y: float) -> float:
    """Chapter headings ('2 Governance') in 16 pt bold, sections ('2.1 ...') in 13 pt bold."""
    canvas.setFont("Helvetica-Bold", 13 if "." in text.split()[0] else 16)
    canvas.drawString(MARGIN, y, text)
    return y - 30


def _paragraphs(canvas: Canvas, paragraphs: list[list[str]], y: float) -> float:
    """Draw pre-wrapped paragraphs with Word-like spacing after each; return the next y."""
    canvas.setFont("Helvetica", BODY_SIZE)
    for lines in paragraphs:
        for line in lines:
            x = MARGIN + (14 if line.startswith("- ") else 0)
            canvas.drawString(x, y, line)
            y -= LEADING
        y -= 10
    return y


def _scan_image() -> ImageReader:
    """A grey 'scanned' bitmap with no text layer."""
    image = Image.new("RGB", (120, 160), (200, 200, 200))
    for x in range(10, 110):
        image.putpixel((x, 80), (20, 20, 20))
    return ImageReader(image)


def _finish(canvas: Canvas, buffer: io.BytesIO) -> bytes:
    canvas.save()
    return buffer.getvalue()


def report_pdf(*, page_labels: bool = True) -> bytes:
    """A report: cover, contents with dotted leaders, three body pages with numbered headings
    and running header/footer, then an image-only (scanned) page.

    With `page_labels`, the front matter is labelled i, ii and the body 1, 2, 3... as
    printed, via the PDF's /PageLabels (added with pypdf)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle("Imaging network guide")

    # Cover.
    canvas.setFont("Helvetica-Bold", 28)
    canvas.drawString(MARGIN, HEIGHT - 200, "Imaging network guide")
    canvas.setFont("Helvetica", 14)
    canvas.drawString(MARGIN, HEIGHT - 240, "Reporting turnaround and governance")
    canvas.showPage()

    # Contents, with dotted leaders to the printed page numbers.
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(MARGIN, HEIGHT - 100, "Contents")
    canvas.setFont("Helvetica", BODY_SIZE)
    y = HEIGHT - 140
    for title, page in CONTENTS:
        canvas.drawString(MARGIN, y, f"{title} {'.' * 60} {page}")
        y -= 20
    canvas.showPage()

    # Body pages.
    for number, (heading, paragraphs) in enumerate(REPORT_PAGES, start=1):
        _running_lines(canvas, number)
        y = _heading(canvas, heading, HEIGHT - 100)
        _paragraphs(canvas, paragraphs, y)
        canvas.showPage()

    # A scanned page: an image and nothing else.
    canvas.drawImage(_scan_image(), MARGIN, HEIGHT / 3, width=300, height=400)
    canvas.showPage()
    data = _finish(canvas, buffer)
    return _with_page_labels(data) if page_labels else data


def _with_page_labels(data: bytes) -> bytes:
    """Label the first two pages i, ii and the rest 1, 2, 3..."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.set_page_label(0, 1, style="/r", start=1)
    writer.set_page_label(2, len(writer.pages) - 1, style="/D", start=1)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def simple_pdf(lines: list[str] | None = None, *, pages: int = 1) -> bytes:
    """A plain PDF with the given lines of body text on each of `pages` pages."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        _paragraphs(
            canvas, [lines or ["Reporting standards apply to every network."]], HEIGHT - 100
        )
        canvas.showPage()
    return _finish(canvas, buffer)


def footnoted_pdf(lines: list[list[tuple[str, str]]]) -> bytes:
    """A one-page PDF whose lines mix body text with footnote markers, placed as Word places
    them (each piece at its own position): each line is a list of (text, style) pieces, style
    "body", "sup" (7 pt, its baseline 4 pt up) or "small" (7 pt, on the line: a small figure
    that is not a marker)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    y = HEIGHT - 100
    for pieces in lines:
        text, x = canvas.beginText(), MARGIN
        for piece, style in pieces:
            size = BODY_SIZE if style == "body" else 7.0
            text.setTextOrigin(x, y + (4 if style == "sup" else 0))  # a Tm in the same BT
            text.setFont("Helvetica", size)
            text.textOut(piece)
            x += canvas.stringWidth(piece, "Helvetica", size)
        canvas.drawText(text)
        y -= LEADING
    canvas.showPage()
    return _finish(canvas, buffer)


def styled_pdf(lines: list[tuple[str, str]]) -> bytes:
    """A one-page PDF of body-size lines at the usual leading, each (text, font): "Helvetica"
    or "Helvetica-Oblique" (italic)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    y = HEIGHT - 100
    for text, font in lines:
        canvas.setFont(font, BODY_SIZE)
        canvas.drawString(MARGIN, y, text)
        y -= LEADING
    canvas.showPage()
    return _finish(canvas, buffer)


def scanned_pdf(pages: int = 6) -> bytes:
    """A scanned report: every page an image, no text layer at all."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        canvas.drawImage(_scan_image(), MARGIN, HEIGHT / 3, width=300, height=400)
        canvas.showPage()
    return _finish(canvas, buffer)


def large_pdf(pages: int = 120) -> bytes:
    """Many dense pages: slow enough to parse that a tiny time limit always trips."""
    line = "Turnaround time for CT and MRI reporting is measured from scan to verified report."
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        canvas.setFont("Helvetica", 8)
        for row in range(70):
            canvas.drawString(40, HEIGHT - 40 - row * 10.5, f"{row} {line}")
        canvas.showPage()
    return _finish(canvas, buffer)


def encrypted_pdf(*, user_password: str) -> bytes:
    """The plain PDF encrypted (AES-256); an empty user password opens without asking."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(simple_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf(keep: float = 0.6) -> bytes:
    """The report cut short, as an interrupted download leaves it."""
    data = report_pdf()
    return data[: int(len(data) * keep)]


def corrupt_pdf() -> bytes:
    """A file that starts and ends like a PDF but has garbage in between."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\nstartxref\n12\n%%EOF\n"


def html_error_page() -> bytes:
    """What a server returns for a moved document, saved under a .pdf name."""
    return (
        b"<!DOCTYPE html>\n<html><head><title>Page not found</title></head>"
        b"<body><h1>Sorry, we could not find that page</h1></body></html>\n"
    )


GUIDANCE_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Imaging network reporting guidance - NHS England</title>
  <style>body { font-family: Arial; }</style>
  <script>window.analytics = "tracking code should never be indexed";</script>
</head>
<body>
  <div id="nhsuk-cookie-banner" class="nhsuk-cookie-banner">
    <p>We use cookies to make this website work. Accept analytics cookies?</p>
    <button>Accept</button>
  </div>
  <header class="site-header"><a href="/">NHS England home</a></header>
  <nav aria-label="Breadcrumb"><ol><li>Home</li><li>Diagnostics</li></ol></nav>
  <main id="maincontent">
    <h1>Imaging network reporting guidance</h1>
    <p>This guidance helps   imaging networks plan
       reporting capacity&nbsp;across trusts.</p>
    <h2>Reporting standards</h2>
    <p>Networks should agree <strong>one</strong> reporting standard.</p>
    <ul>
      <li>Publish turnaround times monthly.</li>
      <li>Review outsourcing spend each quarter.</li>
    </ul>
    <h3>Turnaround targets</h3>
    <table>
      <caption>Table 1: Targets by urgency</caption>
      <tr><th>Urgency</th><th>Target</th></tr>
      <tr><td>Inpatient</td><td>24 hours</td></tr>
      <tr><td>Outpatient</td><td>7 days</td></tr>
    </table>
    <ol>
      <li>Measure from scan to verified report.</li>
      <li>Exclude cancelled examinations.</li>
    </ol>
    <form action="/feedback"><label>Was this page useful?</label><input type="text"></form>
  </main>
  <aside><p>Related links: workforce census</p></aside>
  <footer><p>&copy; NHS England 2024. Privacy policy.</p></footer>
</body>
</html>
"""


def guidance_html() -> bytes:
    """An NHS-style guidance page with a cookie banner, header, nav, script, aside and footer
    around the main content."""
    return GUIDANCE_HTML.encode("utf-8")
