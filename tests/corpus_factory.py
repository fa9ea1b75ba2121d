"""Generates a small corpus of imaging-guidance documents (real PDF and HTML bytes) for tests.

The facts are invented for the tests, placed on known pages so retrieval and answers can be
checked against them. Each PDF has a running header and footer, a title page and numbered
headings, like the real reports.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

GENERIC = (
    "Networks should plan services together and share what they learn with their partners. "
    "Local leaders are asked to review progress every quarter and to publish the results. "
)


@dataclass(frozen=True)
class Fact:
    """A question the corpus answers, where, and a phrase the right passage contains."""

    question: str
    doc_id: str
    page: int
    phrase: str


# Each document: id, title, publisher, date, extra manifest fields, and pages of
# (heading, paragraphs). Page 1 is always the title page.
DOCUMENTS: list[dict] = [
    {
        "id": "network-guide-2021",
        "title": "Diagnostic imaging network implementation guide",
        "publisher": "NHS England",
        "published": "2021-04-01",
        "pages": [
            [
                (
                    "1 Introduction",
                    [
                        "This guide explains how diagnostic imaging networks are set up and run. "
                        + GENERIC * 2,
                    ],
                ),
                (
                    "2 Network governance",
                    [
                        "Each imaging network should have a network board chaired by a senior "
                        "responsible officer, with clinical directors from every member trust. "
                        "The board agrees a memorandum of understanding that sets out how "
                        "decisions are made and how disputes are resolved.",
                        GENERIC,
                    ],
                ),
            ],
            [
                (
                    "3 Reporting turnaround",
                    [
                        "No examination should take longer than four weeks to be reported. "
                        "Urgent inpatient examinations should be reported within twenty-four hours, "
                        "and the turnaround time (TAT) should be monitored monthly by the network.",
                        GENERIC,
                    ],
                ),
                (
                    "4 Workforce",
                    [
                        "Networks should develop a single workforce plan covering radiologists, "
                        "radiographers and support workers, and should share reporting capacity "
                        "across member trusts through a common image-sharing platform.",
                    ],
                ),
            ],
        ],
    },
    {
        "id": "diagnostics-review-2020",
        "title": "Diagnostics: recovery and renewal (test edition)",
        "publisher": "Independent review",
        "published": "2020-10-01",
        "cover_date": "1 October 2020",  # as reports print it; the others print the ISO date
        "pages": [
            [
                (
                    "1 Community diagnostic centres",
                    [
                        "Community diagnostic centres should be established away from acute hospital "
                        "sites so that elective tests are protected from emergency pressures. "
                        + GENERIC,
                    ],
                ),
            ],
            [
                (
                    "2 Equipment",
                    [
                        "Computed tomography capacity should be doubled over the next five years, "
                        "and scanners older than ten years should be replaced.",
                        GENERIC,
                    ],
                ),
            ],
        ],
    },
    {
        "id": "pacs-guide-2019",
        "title": "Image sharing and PACS guide",
        "publisher": "NHS Improvement",
        "published": "2019-11-01",
        "superseded_by": "network-guide-2021",
        "pages": [
            [
                (
                    "1 Image sharing",
                    [
                        "Picture archiving and communication systems should be procured jointly so "
                        "that every trust in a network can view and report images from the others.",
                        "Suppliers must show how their viewers treat markup such as "
                        "<script>alert(1)</script> inside report text.",
                    ],
                ),
                (
                    "2 Reporting turnaround",
                    [
                        "No examination should take longer than four weeks to be reported. "
                        + GENERIC,
                    ],
                ),
            ],
        ],
    },
]

# A guide whose answers test composition: a dated summary, a list of recommendations that runs
# on over a page break, a sentence cut by a page break, and a signature block.
DOCUMENTS.append(
    {
        "id": "equipment-guide-2022",
        "title": "Imaging equipment replacement guide",
        "publisher": "NHS England",
        "published": "2022-03-01",
        "pages": [
            [
                (
                    "1 Summary",
                    [
                        "This guide was published in March 2022 to help imaging networks plan "
                        "the replacement of their equipment.",
                        "Imaging equipment should be managed as a shared network asset, with one "
                        "replacement plan for each network.",
                    ],
                ),
                (
                    "2 Recommendations",
                    [
                        "The guide makes the following recommendations to imaging networks:",
                        "- Replace scanners that are more than ten years old.",
                        "- Keep a single asset register for the whole network.",
                        "- Agree replacement priorities with every member trust.",
                    ],
                ),
            ],
            [
                (
                    None,
                    [
                        "- Fund mobile scanners from the capital budget of the lead trust.",
                        "- Review the asset register at least once a year.",
                    ],
                ),
                (
                    "3 Mobile scanners",
                    [
                        "Mobile scanners add capacity where demand is high. Capital bids for mobile "
                        "scanners must include the running costs of the vehicle and",
                    ],
                ),
            ],
            [
                (
                    None,
                    [
                        "the staffing needed to operate it for its whole working life.",
                        "Dr Alex Example",
                        "National Clinical Director for Imaging Equipment",
                        "NHS England",
                    ],
                ),
            ],
            [
                (
                    "4 Scanner ages",
                    [
                        "The 2021 equipment census counted 412 CT and MRI scanners across the "
                        "imaging networks of England.",
                        "Of these, 27% were more than ten years old.",
                    ],
                ),
                (
                    "5 Review of replacement plans",
                    [
                        "Every network's replacement plan was reviewed in the autumn of 2022.",
                        "Three themes emerged from the review:",
                        "Networks that keep one shared asset register replace their scanners "
                        "sooner.",
                        "Buying scanners together through joint procurement lowers their price.",
                        "New scanners need trained radiographers from their first day in service.",
                    ],
                ),
                (
                    "6 Scanners by type",
                    [
                        "The census counted every scanner in service on 1 April 2021.",
                        "Table 1: Scanners in the 2021 census by type",
                        "Scanner type Count",
                        "Computed tomography 212",
                        "Magnetic resonance imaging 200",
                        "Most of these scanners were bought between 2010 and 2015.",
                    ],
                ),
            ],
            [
                (
                    "7 Replacement cycle",
                    [
                        "Networks replace their scanners in a planned cycle that repeats every "
                        "year.",
                        "Figure 2: Stages of the scanner replacement cycle",
                        "The cycle starts in April, so that bids are ready before capital budgets "
                        "are set for the following year.",
                        # A figure's words come out of the PDF where the page ends, after the
                        # text that flows around it.
                        "1. Survey the scanners in service",
                        "2. Rank them by age and risk",
                        "3. Bid for the replacements",
                    ],
                ),
            ],
            [
                # Priorities set out as subheadings, each over its own paragraph.
                (
                    "8 Priorities for imaging networks",
                    [
                        "The review set out what imaging networks should put first over the "
                        "next five years.",
                    ],
                ),
                (
                    "8.1 Shared reporting worklists",
                    ["Every network should report its members' images from one shared worklist."],
                ),
                ("8.2 Joint procurement of scanners", []),
                # A sub-subheading before the prose: 8.2 still heads prose.
                (
                    "8.2.1 One framework",
                    ["Networks should buy their scanners together through a single framework."],
                ),
                (
                    "8.3 Common training for radiographers",
                    ["Networks should train their radiographers together, on the same equipment."],
                ),
                # A heading over no prose, as a bold table header cell extracts: not a priority.
                ("8.4 Lead trust", ["North: Leeds"]),
                (
                    "9 Next steps",
                    ["Each network will publish its own plan before the end of the year."],
                ),
            ],
            [
                # A table of roles, as extraction leaves one: a header row, then each role's
                # name over its description and a cell of links; one description is printed in
                # two rows, and the table runs on to the next page.
                (
                    "10 New roles",
                    [
                        "The review named the new roles that imaging networks will need to "
                        "recruit for.",
                        "Each of them is described in Table 2.",
                        "Table 2: New roles in imaging networks",
                        "Job role Summary of role",
                        "Network imaging manager",
                        "Runs the shared services of the network day to day.",
                        "GDS NHS",
                        "Imaging informatics lead",
                        "Core skills in digital imaging.",
                        "Looks after the shared picture archive and its links to every trust.",
                        "GDS NHS",
                    ],
                ),
            ],
            [
                (
                    None,
                    [
                        "Reporting radiographer",
                        "Core skills in digital imaging.",
                        "Reports plain films within the scope the network sets.",
                        "GDS NHS",
                        # Prose under the last link cell: the cell is still not a row.
                        "Networks should recruit for these roles together.",
                    ],
                ),
            ],
            [
                # Figures that only a table gives: the prose names what was counted.
                (
                    "11 Unreported examinations",
                    [
                        "Each network counted its unreported examinations in March 2022.",
                        "Table 3: Unreported examinations by network",
                        "Network Examinations",
                        "Northern imaging network 1,250",
                        "Southern imaging network 830",
                        "Networks with the longest backlogs should outsource first.",
                    ],
                ),
            ],
            [
                # A list whose bullets were lost: items that start in lower case.
                (
                    "12 Out-of-hours reporting pilot",
                    [
                        "Before the out-of-hours reporting pilot began, each network:",
                        "agreed one shared worklist for night reports",
                        "set up secure links to the reporting company",
                        "trained its duty radiologists on the new viewer.",
                        "The pilot ran for six months in 2022.",
                        # Items run together on one line after their lead-in, as a table's
                        # cell extracts.
                        "Risks the pilot board recorded:",
                        "Radiologist fatigue; slow image transfer; unclear clinical "
                        "responsibility; gaps in the audit trail.",
                    ],
                ),
            ],
            [
                # A sentence cut by a page break, with a page of figures between its parts
                # and the next page's caption before the rest of it.
                (
                    "13 Repeat scans",
                    [
                        "Radiographers log every scan that has to be taken twice. Once the oldest "
                        "scanners were replaced, the share of scans taken twice because of poor "
                        "image quality fell to",
                    ],
                ),
            ],
            [(None, ["Figure 3: Repeat scans by scanner age"])],
            [
                (
                    None,
                    [
                        "Figure 4: Repeat scans by network",
                        "4% of all scans in the first year.",
                        "The log will be kept for another two years.",
                    ],
                ),
            ],
        ],
    }
)

# A review whose title holds a word questions ask about ("...Summary and Recommendations"),
# and whose recommendations are labelled paragraphs ("Recommendation 1:") spread over pages
# after a heading, with the principles they rest on listed first.
DOCUMENTS.append(
    {
        "id": "workforce-review-2017",
        "title": "Imaging Workforce Review 2017: Summary and Recommendations",
        "publisher": "NHS England",
        "published": "2017-05-01",
        "pages": [
            [
                (
                    "1 About the Imaging Workforce Review",
                    [
                        "The Imaging Workforce Review 2017 looked at the staff that imaging "
                        "networks employ, and at how many more they will need in ten years.",
                        "The Imaging Workforce Review 2017 heard from every imaging network in "
                        "England during the winter of 2016.",
                    ],
                ),
                (
                    "2 What the review found",
                    [
                        "Vacancies for radiographers were highest in the north of England, and "
                        "agency staff filled most of the gaps in reporting.",
                    ],
                ),
            ],
            [
                (
                    "3 Recommendations",
                    [
                        "The recommendations of this review rest on three principles:",
                        "A. Staff are the first constraint on imaging capacity.",
                        "B. Training must be planned across the whole network.",
                        "C. Every role needs a clear career path.",
                        "Areas of change: training",
                        "Recommendation 1: Train two hundred more reporting radiographers each "
                        "year for ten years.",
                        "Reporting radiographers take on plain film reports within the scope their "
                        "network agrees, and free radiologists for complex examinations.",
                        "Recommendation 2: Fund a training academy in every imaging network.",
                        "Academies should share their courses so that no network builds its own "
                        "from nothing.",
                    ],
                ),
            ],
            [
                (
                    None,
                    [
                        "Areas of change: retention",
                        "Recommendation 3: Offer flexible rotas to radiographers who return from "
                        "career breaks.",
                        "Returners bring experience that takes years to replace, and most of them "
                        "ask for fewer night shifts.",
                        "Recommendation 4: Publish vacancy rates for every network each quarter.",
                    ],
                ),
            ],
        ],
    }
)

HTML_DOCUMENT = {
    "id": "turnaround-page-2023",
    "title": "Diagnostic imaging reporting turnaround times (test page)",
    "publisher": "NHS England",
    "published": "2023-08-01",
    "html": """<!DOCTYPE html><html><head><title>Reporting turnaround times</title>
<script>window.tracking = true;</script><style>body { color: black; }</style></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<main><h1>Diagnostic imaging reporting turnaround times</h1>
<h2>Outsourced reporting</h2>
<p>Independent sector reporting providers should return routine reports within seven days
of receiving the images, with the provider's performance reviewed at each contract meeting.</p>
<h2>Audit</h2><p>Trusts should audit a sample of outsourced reports every year.</p>
</main><footer>Copyright NHS England</footer></body></html>""",
}

FACTS = [
    Fact(
        "What is the maximum time for an examination to be reported?",
        "network-guide-2021",
        3,
        "four weeks",
    ),
    Fact(
        "Who chairs the imaging network board?",
        "network-guide-2021",
        2,
        "senior responsible officer",
    ),
    Fact(
        "Where should community diagnostic centres be located?",
        "diagnostics-review-2020",
        2,
        "away from acute hospital",
    ),
    Fact(
        "How much should CT capacity grow over five years?",
        "diagnostics-review-2020",
        3,
        "doubled",
    ),
    Fact(
        "How quickly should outsourced reporting providers return routine reports?",
        "turnaround-page-2023",
        1,
        "seven days",
    ),
]

# Questions the generated corpus does not answer.
OUT_OF_SCOPE = [
    "What is the price of a litre of petrol in Aberdeen?",
    "How many goals did the football team score last season?",
]


def write_pdf(path: Path, document: dict) -> None:
    """Write a document as a PDF: title page, then content pages with header and footer."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    pdf.setTitle(document["title"])
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(72, height - 200, document["title"])
    pdf.setFont("Helvetica", 12)
    date = document.get("cover_date", document["published"])
    pdf.drawString(72, height - 230, f"{document['publisher']}, {date}")
    pdf.showPage()
    for number, sections in enumerate(document["pages"], start=2):
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, height - 40, f"{document['title']} | Classification: Official")
        pdf.drawString(width - 120, 30, f"Page {number}")
        y = height - 90
        for heading, paragraphs in sections:
            if heading:  # None: the page goes on with the previous page's section
                pdf.setFont("Helvetica-Bold", 13)
                pdf.drawString(72, y, heading)
                y -= 24
            pdf.setFont("Helvetica", 10)
            for paragraph in paragraphs:
                for line in textwrap.wrap(paragraph, 95):
                    pdf.drawString(72, y, line)
                    y -= 14
                y -= 10
            y -= 8
        pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())


def write_corpus(folder: Path) -> Path:
    """Write every document and a manifest into `folder`; return the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for document in DOCUMENTS:
        write_pdf(folder / f"{document['id']}.pdf", document)
        entry = {k: document[k] for k in ("id", "title", "publisher", "published")}
        entry["format"] = "pdf"
        entry["url"] = f"https://example.org/guidance/{document['id']}.pdf"
        if "superseded_by" in document:
            entry["superseded_by"] = document["superseded_by"]
        entries.append(entry)
    (folder / f"{HTML_DOCUMENT['id']}.html").write_text(HTML_DOCUMENT["html"], encoding="utf-8")
    entries.append(
        {k: HTML_DOCUMENT[k] for k in ("id", "title", "publisher", "published")}
        | {"format": "html", "url": f"https://example.org/guidance/{HTML_DOCUMENT['id']}/"}
    )
    manifest = folder / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"documents": entries}, sort_keys=False), encoding="utf-8")
    return manifest
