"""Cleaning rules on plain strings and hand-made lines (no PDF parser involved)."""

from __future__ import annotations

import pytest

from ingest.clean import (
    Block,
    Line,
    RawPage,
    Vocabulary,
    assemble,
    clean_pages,
    is_contents_page,
    join_wrapped,
    keep_line_end_hyphen,
    normalize_text,
    printed_page_labels,
    remove_running_lines,
    running_key,
)

BODY = (
    "Imaging networks should agree one reporting standard across all member trusts so that\n"
    "turnaround times can be compared fairly between sites and over time.\n"
)


def _texts(pages: list[RawPage]) -> list[list[str]]:
    return [[line.text for line in page.lines] for page in pages]


def _laid_out(rows: list[tuple[str, float, bool, float]], height: float = 842.0) -> RawPage:
    """A page from (text, size, bold, baseline) rows."""
    return RawPage(tuple(Line(t, s, b, y) for t, s, b, y in rows), height=height)


# -- characters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "e\ufb03cient \ufb01ndings \ufb02ow", "efficient findings flow", id="ligatures"
        ),
        pytest.param(
            "NHS\u00a0England\u2009and\u202fpartners", "NHS England and partners", id="odd-spaces"
        ),
        pytest.param("radi\u00adology", "radiology", id="soft-hyphen"),
        pytest.param("zero\u200bwidth\ufeff", "zerowidth", id="zero-width"),
        pytest.param("\uf0b7 Word symbol bullet", "• Word symbol bullet", id="symbol-font-bullet"),
        pytest.param("\u25cf Round bullet", "• Round bullet", id="black-circle-bullet"),
        pytest.param("\u201cquoted\u201d", "\u201cquoted\u201d", id="curly-quotes-stay"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_running_key_ignores_numbers_case_and_spacing() -> None:
    assert running_key("2  |  Imaging Network Guide") == running_key("17 | imaging network guide")
    assert running_key("iv") == running_key("12") == "#"
    assert running_key("civic") != "#"


# -- running headers and footers --------------------------------------------------------------


TOPICS = ["Reporting standards.", "Outsourcing spend.", "Workforce census.", "Equipment age."]


def test_running_header_and_footer_removed_without_layout() -> None:
    pages = [
        RawPage.from_text(f"Imaging network guide\n{topic}\nPage {n} of 4")
        for n, topic in enumerate(TOPICS, start=1)
    ]
    assert _texts(remove_running_lines(pages)) == [[topic] for topic in TOPICS]


def test_running_lines_found_by_position_with_layout() -> None:
    # The footer comes first in reading order (as in Word files) but sits at the page bottom.
    def page(n: int) -> RawPage:
        return _laid_out(
            [
                (f"{n} | Imaging network guide", 9, False, 30.0),
                ("Reporting standards", 16, True, 760.0),
                (f"Paragraph {n} of the body text.", 11, False, 730.0),
            ]
        )

    cleaned = _texts(remove_running_lines([page(n) for n in range(1, 6)]))
    assert cleaned[0] == ["Reporting standards", "Paragraph 1 of the body text."]
    # A repeated line in the body of the page is content, not a running header.
    assert all("Reporting standards" in lines for lines in cleaned)


@pytest.mark.parametrize(
    "counter",
    [
        pytest.param("7", id="bare-number"),
        pytest.param("Page 7", id="page-n"),
        pytest.param("Page 7 of 12", id="page-n-of-m"),
        pytest.param("7/12", id="browser-counter"),
        pytest.param("vii", id="roman"),
    ],
)
def test_page_counter_removed_even_on_short_documents(counter: str) -> None:
    pages = [RawPage.from_text(f"{BODY}{counter}")]
    assert _texts(remove_running_lines(pages))[0] == BODY.strip().split("\n")


def test_numbers_in_body_text_kept() -> None:
    text = "Turnaround\n" + BODY + "In 2023, 7 networks met the target.\nTable\n12"
    pages = [RawPage.from_text(text), RawPage.from_text(BODY)]
    assert "In 2023, 7 networks met the target." in _texts(remove_running_lines(pages))[0]


# -- contents pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [
                "Contents",
                "Executive summary ........ 2",
                "Introduction ......... 4",
                "Approach .... 6",
            ],
            True,
            id="dotted-leaders",
        ),
        pytest.param(
            [
                "Contents",
                "1. Executive summary 9",
                "2. Recommendations 13",
                "6. Areas of work in the",
                "sector",
                "6A. Clinical coding 63",
                "7. Conclusions 197",
            ],
            True,
            id="title-and-page-numbers",
        ),
        pytest.param(
            ["Contents", "Children's data dashboard", "Better for children", "Better for staff"],
            False,
            id="web-page-menu-without-numbers",
        ),
        pytest.param([*BODY.split("\n"), "Scanners installed in 2023: 14"], False, id="body-text"),
    ],
)
def test_contents_page_detection(lines: list[str], expected: bool) -> None:
    assert is_contents_page(lines) is expected


def test_contents_page_marked_not_content_and_keeps_one_entry_per_line() -> None:
    contents = (
        "Contents\nIntroduction ............ 1\nGovernance .............. 2\nFunding ......... 3"
    )
    pages = clean_pages([RawPage.from_text(contents), RawPage.from_text(BODY)])
    assert [page.kind for page in pages] == ["contents", "content"]
    assert "Introduction ............ 1\nGovernance" in pages[0].text
    assert pages[0].headings == []


# -- hyphens at line ends ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "vocabulary", "keep"),
    [
        pytest.param("the recom-", "mendation", Vocabulary(), False, id="split-word"),
        pytest.param("a long-", "term plan", Vocabulary(), True, id="known-suffix"),
        pytest.param("all non-", "clinical staff", Vocabulary(), True, id="known-prefix"),
        pytest.param("with AI-", "assisted coding", Vocabulary(), True, id="capitals"),
        pytest.param("see www.nhs.uk/imaging-", "guidance", Vocabulary(), True, id="web-address"),
        pytest.param("at: rf-tr.team-", "comms@nhs.net", Vocabulary(), True, id="e-mail-address"),
        pytest.param(
            "the informa-",
            "tion",
            Vocabulary(words=frozenset({"information"})),
            False,
            id="document-writes-it-whole",
        ),
        pytest.param(
            "the skills-",
            "clustering",
            Vocabulary(compounds=frozenset({"skills-clustering"})),
            True,
            id="document-writes-it-hyphenated",
        ),
        pytest.param(
            "each trust-",
            "wide scheme",
            Vocabulary(words=frozenset({"trust", "wide"})),
            True,
            id="two-whole-words",
        ),
        pytest.param(
            "the recom-",
            "mendation",
            Vocabulary(splits_words=False),
            True,
            id="document-never-splits-words",
        ),
    ],
)
def test_line_end_hyphen(left: str, right: str, vocabulary: Vocabulary, keep: bool) -> None:
    assert keep_line_end_hyphen(left, right, vocabulary) is keep


def test_vocabulary_sees_a_document_that_only_breaks_at_real_hyphens() -> None:
    lines = [
        "a data-driven service and a data-",
        "driven network with in-demand skills and",
        "more in-",
        "demand roles and a well-known, well-",
        "known problem",
    ]
    vocabulary = Vocabulary.of([lines])
    assert not vocabulary.splits_words
    assert "driven" in vocabulary.words and "data-driven" in vocabulary.compounds


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        pytest.param("the recom-", "mendation", "the recommendation", id="split-word"),
        pytest.param("a long-", "term plan", "a long-term plan", id="compound"),
        pytest.param("in 2023 -", "after review", "in 2023 - after review", id="spaced-dash"),
        pytest.param(
            "see (https://www.england.nhs.uk/",
            "diagnostics/imaging/)",
            "see (https://www.england.nhs.uk/diagnostics/imaging/)",
            id="wrapped-web-address",
        ),
        pytest.param("across all", "member trusts", "across all member trusts", id="plain-wrap"),
    ],
)
def test_join_wrapped(left: str, right: str, joined: str) -> None:
    assert join_wrapped(left, right) == joined


# -- paragraphs -------------------------------------------------------------------------------


def test_wrapped_lines_rejoined_and_paragraphs_separated_by_one_blank_line() -> None:
    text = (
        "Imaging networks should agree one reporting standard across all member trusts so\n"
        "that turnaround times can be compared.\n"
        "\n"
        "\n"
        "Each   network board meets quarterly and receives a report on the backlog of\n"
        "unreported examinations and on outsourcing spend.\n"
    )
    page = clean_pages([RawPage.from_text(text)])[0]
    paragraphs = page.text.split("\n\n")
    assert len(paragraphs) == 2
    assert paragraphs[0].endswith("member trusts so that turnaround times can be compared.")
    assert "Each network board" in paragraphs[1]
    assert "\n\n\n" not in page.text and "  " not in page.text


def test_short_line_ending_a_sentence_ends_the_paragraph() -> None:
    text = (
        "Reporting capacity is planned across the network and reviewed by the board every\n"
        "quarter.\n"
        "Outsourcing is used only when in-house capacity cannot meet the agreed targets for\n"
        "turnaround.\n"
    )
    paragraphs = clean_pages([RawPage.from_text(text)])[0].text.split("\n\n")
    assert len(paragraphs) == 2


@pytest.mark.parametrize("marker", ["•", "-", "–", "1.", "a)", "(ii)"])
def test_list_items_are_their_own_paragraphs(marker: str) -> None:
    text = (
        "Networks should:\n"
        f"{marker} agree one reporting standard across all member trusts and publish it\n"
        "on the network website\n"
        f"{marker} publish turnaround times monthly\n"
    )
    paragraphs = clean_pages([RawPage.from_text(text)])[0].text.split("\n\n")
    assert paragraphs == [
        "Networks should:",
        f"{marker} agree one reporting standard across all member trusts and publish it on "
        "the network website",
        f"{marker} publish turnaround times monthly",
    ]


def test_table_rows_stay_separate_lines() -> None:
    text = (
        "Table 2: Reporting turnaround by modality and by the urgency of the request\n"
        "CT 24 hours\n"
        "MRI 48 hours\n"
        "Ultrasound 7 days\n"
    )
    page = clean_pages([RawPage.from_text(text)])[0]
    assert "CT 24 hours\nMRI 48 hours\nUltrasound 7 days" in page.text


def test_gap_between_lines_separates_paragraphs_with_layout() -> None:
    # Every line is full, so only the extra space before the third line ends a paragraph.
    page = _laid_out(
        [
            ("Imaging networks agree one reporting standard across all", 11, False, 700.0),
            ("member trusts so turnaround can be compared between them", 11, False, 686.0),
            ("Each network board meets quarterly and receives a report", 11, False, 660.0),
            ("on the backlog of unreported examinations and outsourcing", 11, False, 646.0),
        ]
    )
    assert clean_pages([page])[0].text.split("\n\n") == [
        "Imaging networks agree one reporting standard across all member trusts so turnaround "
        "can be compared between them",
        "Each network board meets quarterly and receives a report on the backlog of unreported "
        "examinations and outsourcing",
    ]


# -- headings ---------------------------------------------------------------------------------

PROSE = "The board reviews reporting turnaround, outsourcing spend and the backlog every quarter."


@pytest.mark.parametrize(
    ("heading", "level"),
    [
        pytest.param("1 Introduction", 1, id="number"),
        pytest.param("1. Introduction", 1, id="number-dot"),
        pytest.param("3.2 Workforce", 2, id="section"),
        pytest.param("4.1.3 Reporting radiographers", 3, id="subsection"),
        pytest.param("Chapter 4: Reporting turnaround", 1, id="chapter"),
        pytest.param("Appendix B: Survey questions", 1, id="appendix"),
        pytest.param("Executive summary", 1, id="title-line"),
    ],
)
def test_heading_found_without_layout(heading: str, level: int) -> None:
    page = clean_pages([RawPage.from_text(f"{heading}\n\n{PROSE}\n")])[0]
    assert [(h.text, h.level, h.start) for h in page.headings] == [(heading, level, 0)]
    assert page.text.startswith(heading + "\n\n")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Figure 3: Reporting turnaround by trust", id="figure-caption"),
        pytest.param("Table 2 Turnaround targets", id="table-caption"),
        pytest.param("The board met in March.", id="sentence"),
        pytest.param("• Publish turnaround times", id="bullet"),
        pytest.param("CT 24 18 12", id="table-fragment"),
        pytest.param("Contact imaging@nhs.net", id="email"),
    ],
)
def test_not_a_heading(text: str) -> None:
    page = clean_pages([RawPage.from_text(f"{PROSE}\n\n{text}\n\n{PROSE}\n")])[0]
    assert page.headings == []


def test_numbered_list_items_are_not_headings() -> None:
    text = "\n\n".join(
        ["1. Alder Hey Children's NHS Foundation Trust", "2. Bolton Council", "3. Leeds CCG"]
    )
    page = clean_pages([RawPage.from_text(f"{PROSE}\n\n{text}\n\n{PROSE}")])[0]
    assert page.headings == []


def test_numbered_heading_on_its_own_line_splits_from_following_text() -> None:
    page = clean_pages([RawPage.from_text(f"2.1 Governance\n{PROSE}")])[0]
    assert page.text == f"2.1 Governance\n\n{PROSE}"
    assert [(h.text, h.level) for h in page.headings] == [("2.1 Governance", 2)]


def test_headings_found_from_type_size_and_bold_with_levels() -> None:
    page = _laid_out(
        [
            ("Reporting turnaround", 20, True, 760.0),
            (PROSE[:60], 11, False, 730.0),
            (PROSE[60:], 11, False, 716.0),
            ("Outsourcing", 14, True, 690.0),
            (PROSE, 11, False, 665.0),
            ("Spend by trust", 11, True, 640.0),
            (PROSE, 11, False, 615.0),
        ]
    )
    other = _laid_out(
        [("Governance", 20, True, 760.0), ("Board", 14, True, 730.0), (PROSE, 11, False, 700.0)]
    )
    pages = clean_pages([page, other])
    assert [(h.text, h.level) for h in pages[0].headings] == [
        ("Reporting turnaround", 1),
        ("Outsourcing", 2),
        ("Spend by trust", 3),
    ]


LONG_HEADING = (  # 17 words
    "Domain 3: Response to the Covid-19 pandemic by the imaging networks and the reporting "
    "services of England"
)


def test_long_bold_heading_and_one_over_prose_that_runs_on_are_headings() -> None:
    # 17 words in bold over prose; and a bold heading whose paragraph runs on past a figure
    # extracted inside it (no closing stop before the figure's labels).
    page = _laid_out(
        [
            (LONG_HEADING, 11, True, 760.0),
            (PROSE, 11, False, 735.0),
            ("Domain 1: Digital maturity", 11, True, 700.0),
            (PROSE + " Networks should then agree how they measure", 11, False, 675.0),
            ("Figure labels in bold", 11, True, 640.0),
        ]
    )
    assert [h.text for h in clean_pages([page])[0].headings] == [
        LONG_HEADING,
        "Domain 1: Digital maturity",
    ]


def test_bold_heading_over_a_first_sentence_cut_by_the_page_break_is_a_heading() -> None:
    # Bold at body size counts only over prose; the page's last paragraph may not have ended
    # its first sentence yet: it goes on over the page.
    first = _laid_out(
        [
            ("Priorities for the imaging networks", 14, True, 760.0),
            (PROSE, 11, False, 735.0),
            ("Protecting and securing data", 11, True, 120.0),
            (
                "As imaging goes digital, network staff will be expected to understand",
                11,
                False,
                95.0,
            ),
            ("online security issues and work with c", 11, False, 81.0),
        ]
    )
    second = _laid_out(
        [
            ("ybersecurity teams across the network.", 11, False, 760.0),
            ("Sharing images", 11, True, 730.0),
            (PROSE, 11, False, 705.0),
        ]
    )
    pages = clean_pages([first, second])
    assert [h.text for h in pages[0].headings] == [
        "Priorities for the imaging networks",
        "Protecting and securing data",
    ]
    # Not so for a short line: a bold label over a few words stays a label.
    label = _laid_out(
        [
            (PROSE, 11, False, 760.0),
            ("Trust name", 11, True, 120.0),
            ("Leeds and York", 11, False, 95.0),
        ]
    )
    assert clean_pages([label, second])[0].headings == []


def test_long_bold_line_that_introduces_no_prose_is_not_a_heading() -> None:
    # Over 14 words, even a line in larger type must introduce prose: here a table row follows.
    page = _laid_out(
        [
            (PROSE[:40], 11, False, 790.0),
            (LONG_HEADING, 14, True, 760.0),
            ("CT 24 hours", 11, False, 735.0),
            (PROSE, 11, False, 700.0),
        ]
    )
    assert clean_pages([page])[0].headings == []


def test_bold_table_header_row_is_not_a_heading() -> None:
    page = _laid_out(
        [
            ("Table 4: Turnaround by modality", 11, True, 760.0),
            ("Modality Target", 11, True, 735.0),
            ("CT 24 hours", 11, False, 710.0),
            ("Trust name", 11, True, 680.0),
            ("MRI 48 hours", 11, False, 655.0),
        ]
    )
    assert clean_pages([page])[0].headings == []


def test_heading_offsets_point_at_heading_text() -> None:
    text = f"1 Introduction\n\n{PROSE}\n\n2 Governance\n\n{PROSE}\n\n2.1 Board\n\n{PROSE}"
    page = clean_pages([RawPage.from_text(text)])[0]
    assert [h.text for h in page.headings] == ["1 Introduction", "2 Governance", "2.1 Board"]
    for heading in page.headings:
        assert page.text[heading.start : heading.start + len(heading.text)] == heading.text
        assert heading.start == 0 or page.text[heading.start - 2 : heading.start] == "\n\n"


def test_assemble_skips_empty_blocks_and_counts_offsets() -> None:
    text, headings = assemble(
        [Block("Title", heading_level=1), Block(""), Block("Body."), Block("Next", 2)]
    )
    assert text == "Title\n\nBody.\n\nNext"
    assert [(h.start, h.text, h.level) for h in headings] == [(0, "Title", 1), (14, "Next", 2)]


# -- page kinds -------------------------------------------------------------------------------


def test_page_without_text_is_empty() -> None:
    pages = clean_pages([RawPage.from_text(BODY), RawPage((), height=842.0, has_images=True)])
    assert [(page.kind, page.text) for page in pages] == [
        ("content", BODY.strip().replace("\n", " ")),
        ("empty", ""),
    ]


def test_scanned_page_with_running_header_is_empty() -> None:
    def page(n: int, scanned: bool = False) -> RawPage:
        body = (
            [] if scanned else [("Reporting standards apply to every network.", 11, False, 700.0)]
        )
        return RawPage(
            tuple(Line(*row) for row in [("Imaging network guide", 9, False, 810.0), *body]),
            height=842.0,
            has_images=scanned,
        )

    pages = clean_pages([page(1), page(2), page(3, scanned=True), page(4)])
    assert [p.kind for p in pages] == ["content", "content", "empty", "content"]


def test_intentionally_blank_page_is_content_without_text() -> None:
    pages = [RawPage.from_text(f"Imaging network guide\n{topic}") for topic in TOPICS]
    pages.append(RawPage.from_text("Imaging network guide\n\n5"))
    cleaned = clean_pages(pages)
    assert (cleaned[-1].kind, cleaned[-1].text) == ("content", "")


def _numbered_pages(footer: str, count: int, offset: int) -> list[RawPage]:
    cover = RawPage.from_text("Imaging network guide\nApril 2021")
    body = [
        RawPage.from_text(
            f"Heading {n}\nSome body text on this page.\n{footer.format(n=n + offset)}"
        )
        for n in range(2, count + 2)
    ]
    return [cover, *body]


@pytest.mark.parametrize(
    "footer",
    [
        pytest.param("{n} | Imaging network guide", id="number-bar-title"),
        pytest.param("Imaging network guide | {n}", id="title-bar-number"),
        pytest.param("Page {n} of 12", id="page-n-of-m"),
        pytest.param("{n}", id="bare-number"),
    ],
)
def test_printed_page_numbers_become_labels_when_offset_from_physical(footer):
    pages = _numbered_pages(footer, count=6, offset=-1)
    assert printed_page_labels(pages) == [None, "1", "2", "3", "4", "5", "6"]


def test_printed_numbers_equal_to_physical_pages_give_no_labels():
    assert printed_page_labels(_numbered_pages("{n} | Guide", count=6, offset=0)) == [None] * 7


def test_printed_numbers_without_a_consistent_offset_give_no_labels():
    pages = _numbered_pages("{n} | Guide", count=6, offset=-1)
    pages[2:5] = [RawPage.from_text(f"Text\nMore text\n{n} | Guide") for n in (40, 9, 17)]
    assert printed_page_labels(pages) == [None] * 7


def test_cleaned_pages_carry_printed_labels():
    pages = clean_pages(_numbered_pages("{n} | Imaging network guide", count=6, offset=-1))
    assert [p.label for p in pages] == [None, "1", "2", "3", "4", "5", "6"]
    assert all("Imaging network guide" not in p.text for p in pages[1:])


def test_running_header_of_a_three_page_document_is_removed():
    cover = RawPage.from_text("Imaging network guide\nApril 2021")
    body = [
        RawPage.from_text(f"Imaging network guide | Classification: Official\n{text}")
        for text in ("Networks share reporting.", "Boards meet monthly.")
    ]
    cleaned = remove_running_lines([cover, *body])
    assert [line.text for page in cleaned[1:] for line in page.lines] == [
        "Networks share reporting.",
        "Boards meet monthly.",
    ]
