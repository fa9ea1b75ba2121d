"""The app in a real headless Chromium: ask, read, copy, export, open the evidence, on any screen.

One server and one browser serve the whole module; each test opens its own page (a fresh
browser context where storage or the clipboard matter). Screenshots go to
artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assistant.app import RunningServer, serve
from tests.http_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[1] / "artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TURNAROUND = "What is the maximum time for an examination to be reported?"
QUOTE = "No examination should take longer than four weeks to be reported."
CITATION = (
    "Diagnostic imaging network implementation guide. NHS England, 1 April 2021, p. 3. "
    "Section: 3 Reporting turnaround. "
    "Available at: https://example.org/guidance/network-guide-2021.pdf#page=3"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
# Gradio keeps its status trackers (timers, "processing | 1.2s") in the page even for
# events with show_progress="hidden", at opacity 0: count only those a user could see.
SHOWN_SPINNERS = """() => Array.from(document.querySelectorAll(
    '.progress-text, .timer, .eta-bar, .loader')).filter(e => {
    for (let p = e; p; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.display === 'none' || style.visibility === 'hidden'
            || Number(style.opacity) === 0) return false;
    }
    return e.getClientRects().length > 0;
}).map(e => (e.closest('[id]') || {}).id + ': ' + e.textContent)"""


@pytest.fixture(scope="module")
def running(built_settings, assistant) -> Iterator[RunningServer]:
    server = serve(built_settings, port=free_port(), assistant=assistant, block=False)
    assert server is not None
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, running):
    """A fresh browser profile (its own storage), allowed to use the clipboard."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=running.url[:-1])
    yield context
    context.close()


def open_app(context, running, *, viewport=None):
    page = context.new_page()
    if viewport:
        page.set_viewport_size(viewport)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(running.url)
    page.locator("#iga-question textarea").wait_for()
    return page, problems


def ask(page, question: str, *, answers: int = 1):
    """Ask in the chat and wait until the chat holds `answers` answers."""
    page.locator("#iga-question textarea").fill(question)
    page.locator("#iga-ask").click()
    page.locator("#iga-chat .iga-copy-answer").nth(answers - 1).wait_for(timeout=30_000)
    return page.locator("#iga-chat .bot-row").last


def in_view(page, locator) -> bool:
    """Whether an element lies (at least partly) inside the window."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] < size["height"] and box["y"] + box["height"] > 0


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_question_gets_a_cited_answer_at_once_and_its_sources(context, running):
    page, problems = open_app(context, running)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # Focus starts in the question box.
    assert page.evaluate("!!document.activeElement.closest('#iga-question')")

    # Record the Ask button's states: it is locked while the answer is prepared.
    page.evaluate(
        """() => { window.askStates = [];
        new MutationObserver(() => window.askStates.push(
            document.querySelector('#iga-ask').disabled)).observe(
            document.body, {subtree: true, attributes: true, childList: true}); }"""
    )
    page.evaluate(
        f"""() => {{ window.spinnersSeen = [];
        const look = () => window.spinnersSeen.push(...({SHOWN_SPINNERS})());
        window.spinnerWatch = setInterval(look, 50); }}"""
    )
    page.locator("#iga-question textarea").fill(TURNAROUND)
    page.locator("#iga-ask").click()
    page.locator("#iga-chat").get_by_text(TURNAROUND).wait_for(timeout=5_000)
    reply = page.locator("#iga-chat .bot-row").filter(has_text="four weeks").last
    reply.wait_for(timeout=30_000)
    assert "[1]" in reply.inner_text()
    assert "Diagnostic imaging network implementation guide" in reply.inner_text()
    assert True in page.evaluate("window.askStates"), "Ask was never disabled"
    assert page.locator("#iga-ask").is_enabled()
    # One progress line, not spinners and timers: none was seen while the answer was
    # prepared, and none shows after it.
    assert page.locator("#iga-chat").get_by_text("Searching the guidance").count() == 0
    assert page.evaluate("window.spinnersSeen") == []
    page.wait_for_timeout(1_000)
    assert page.evaluate(SHOWN_SPINNERS) == []

    # The sources: the quoted sentence highlighted and scrolled into its box, which the
    # keyboard can reach.
    sources = page.locator("#iga-sources-html")
    marked = sources.locator("mark").first
    marked.wait_for(timeout=10_000)
    assert "four weeks" in marked.inner_text()
    box = sources.locator(".iga-passage").first
    assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
    box.focus()
    assert page.evaluate("document.activeElement.classList.contains('iga-passage')")
    mark_box, passage_box = marked.bounding_box(), box.bounding_box()
    assert passage_box["y"] <= mark_box["y"] < passage_box["y"] + passage_box["height"]
    link = sources.get_by_role("link", name="Local copy, p. 3")
    assert link.get_attribute("href") == "/doc/network-guide-2021#page=3"
    screenshot(page, "desktop-answer.png")

    # A second answer replaces the sources; selecting the first answer brings its back.
    ask(page, "Where should CDCs be located?", answers=2)
    sources.filter(has_text="away from acute hospital sites").wait_for(timeout=30_000)
    reply.click()
    sources.filter(has_text="four weeks").wait_for(timeout=10_000)

    # Offline: nothing fetched from anywhere but the app, and the policy blocked nothing.
    origin = urlsplit(running.url).netloc
    assert {urlsplit(u).netloc for u in requested if u.startswith("http")} == {origin}
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_highlight_is_scrolled_into_a_long_passage_box(context, running):
    page, _ = open_app(context, running)
    page.set_viewport_size({"width": 1280, "height": 600})
    ask(page, "How should PACS be procured across an imaging network?")
    for box in page.locator("#iga-sources-html .iga-passage").all():
        mark = box.locator("mark").first
        if mark.count():
            outer, inner = box.bounding_box(), mark.bounding_box()
            assert outer["y"] <= inner["y"] <= outer["y"] + outer["height"] - 4


def test_copy_citation_and_copy_answer_give_plain_text(context, running):
    page, _ = open_app(context, running)
    ask(page, TURNAROUND)
    page.locator("#iga-sources-html").get_by_role("button", name="Copy citation").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == CITATION

    page.locator("#iga-chat .iga-copy-answer").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(QUOTE + " [1]")
    assert f"References\n[1] {CITATION}" in copied
    assert "**" not in copied and "\\" not in copied and "/doc/" not in copied


def test_conversation_exports_as_markdown_and_word(context, running, assistant, tmp_path):
    from docx import Document

    page, _ = open_app(context, running)
    ask(page, TURNAROUND)
    ask(page, "How much does a litre of petrol cost in Aberdeen?", answers=2)
    version = assistant.index.meta.version
    sha256 = assistant.index.meta.documents["network-guide-2021"].sha256

    # The exports are rewritten just after each answer shows: wait for the one with both.
    for _ in range(20):
        with page.expect_download() as markdown_download:
            page.locator("#iga-export-md").click()
        markdown = markdown_download.value
        text = Path(markdown.path()).read_text(encoding="utf-8")
        if "## 2. " in text:
            break
        page.wait_for_timeout(500)
    assert re.fullmatch(r"iga-conversation-\d{4}-\d{2}-\d{2}\.md", markdown.suggested_filename)
    assert f"## 1. {TURNAROUND}" in text and f"> {QUOTE} [1]" in text
    assert "Available at: <https://example.org/guidance/network-guide-2021.pdf#page=3>" in text
    assert f"Index version {version}" in text and sha256 in text
    assert "Nearest passages (not an answer)" in text  # the second, declined, question

    with page.expect_download() as word_download:
        page.locator("#iga-export-docx").click()
    word = word_download.value
    assert re.fullmatch(r"iga-conversation-\d{4}-\d{2}-\d{2}\.docx", word.suggested_filename)
    path = tmp_path / word.suggested_filename
    word.save_as(path)
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "export-first-paragraphs.txt").write_text("\n".join(paragraphs[:12]))
    assert paragraphs[0] == "Imaging Guidance Assistant: conversation"
    assert any(f"Index version {version}" in p for p in paragraphs)
    assert f"1. {TURNAROUND}" in paragraphs
    assert f"{QUOTE} [1]" in paragraphs
    assert any(p.startswith(f"[1] {CITATION}") and sha256 in p for p in paragraphs)
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert "network-guide-2021" in cells and sha256 in cells


def test_reload_keeps_the_conversation_until_a_new_one_is_started(context, running):
    page, _ = open_app(context, running)
    ask(page, TURNAROUND)
    page.reload()
    page.locator("#iga-chat").get_by_text("four weeks").first.wait_for(timeout=15_000)
    page.locator("#iga-sources-html mark").first.wait_for(timeout=10_000)
    page.locator("#iga-export-md").wait_for(timeout=10_000)

    page.get_by_role("button", name="New conversation").click()
    page.locator("#iga-chat .iga-copy-answer").wait_for(state="detached", timeout=10_000)
    page.reload()
    page.locator("#iga-question textarea").wait_for()
    page.wait_for_timeout(1500)  # the stored conversation would be back by now
    assert page.locator("#iga-chat .iga-copy-answer").count() == 0


def test_pdf_viewer_opens_the_cited_page_with_the_quote_highlighted(context, running):
    page, problems = open_app(context, running)
    ask(page, TURNAROUND)
    with context.expect_page() as opened:
        page.locator("#iga-sources-html").get_by_role(
            "link", name="Open at the quote"
        ).first.click()
    viewer = opened.value
    viewer.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    viewer.locator("body[data-state=ready]").wait_for(state="attached", timeout=30_000)
    assert urlsplit(viewer.url).path == "/view/network-guide-2021"
    assert viewer.locator("#iga-page-number").inner_text() == "3"
    assert viewer.locator("body").get_attribute("data-found") == "2"  # both quoted sentences
    marked = " ".join(viewer.locator(".textLayer .highlight").all_inner_texts())
    assert "four weeks" in marked and "twenty-four hours" in marked
    assert "Networks should plan" not in marked
    assert in_view(viewer, viewer.locator(".textLayer .highlight").first)
    assert viewer.locator("#iga-page canvas").count() == 1
    screenshot(viewer, "pdf-viewer.png")
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_web_page_opens_at_the_quoted_passage(context, running):
    page, _ = open_app(context, running)
    ask(page, "How quickly should outsourced reporting providers return routine reports?")
    link = page.locator("#iga-sources-html a.iga-open").first
    href = link.get_attribute("href")
    assert href.startswith("/doc/turnaround-page-2023#:~:text=Independent%20sector")
    with context.expect_page() as opened:
        link.click()
    document = opened.value
    document.wait_for_load_state()
    passage = document.get_by_text("return routine reports within seven days")
    assert in_view(document, passage)


def test_phone_shows_the_answer_and_its_sources_right_under_it(context, running):
    page, _ = open_app(context, running, viewport=PHONE)
    ask(page, TURNAROUND)
    answer = ask(page, "Who chairs the imaging network board?", answers=2)
    page.wait_for_timeout(500)
    assert in_view(page, answer), "the answer is out of view after asking"
    chat, sources = page.locator("#iga-chat").bounding_box(), page.locator("#iga-sources")
    assert 0 <= sources.bounding_box()["y"] - (chat["y"] + chat["height"]) < 40
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-answer.png")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_nothing_overlaps(context, running, viewport):
    page, _ = open_app(context, running, viewport=viewport)
    ask(page, TURNAROUND)
    parts = ["#iga-chat", "#iga-ask-row", "#iga-actions", "#iga-sources", "#iga-filters"]
    boxes = {name: page.locator(name).bounding_box() for name in parts}
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            x, y = boxes[a], boxes[b]
            apart = (
                x["x"] + x["width"] <= y["x"] + 1
                or y["x"] + y["width"] <= x["x"] + 1
                or x["y"] + x["height"] <= y["y"] + 1
                or y["y"] + y["height"] <= x["y"] + 1
            )
            assert apart, f"{a} overlaps {b} at {viewport['width']} px"
    # The first message is not covered by a label chip. (Measured with the chat scrolled to
    # its top, both boxes at once: a chat that has scrolled on to the answer moves its first
    # message above its own top, which no chip does.)
    page.evaluate(
        "document.querySelectorAll('#iga-chat, #iga-chat *').forEach(e => { e.scrollTop = 0; })"
    )
    first = page.locator("#iga-chat .message-row").first.bounding_box()
    chat = page.locator("#iga-chat").bounding_box()
    assert page.locator("#iga-chat label, #iga-chat [data-testid=block-label]").count() == 0
    assert first["y"] >= chat["y"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_text_contrast_meets_wcag_aa(context, running, viewport):
    page, _ = open_app(context, running, viewport=viewport)
    ask(page, TURNAROUND)
    page.get_by_text("Filters and search settings").click()
    page.get_by_text("Published from").wait_for()
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the test, not served
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['color-contrast']})).violations
            .flatMap(v => v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary))"""
    )
    assert result == []


def test_question_markup_is_shown_as_text(context, running):
    page, _ = open_app(context, running)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    question = "<img src=x onerror=alert(1)>"
    page.locator("#iga-question textarea").fill(question)
    page.locator("#iga-ask").click()
    page.locator("#iga-chat .user-row").get_by_text(question).wait_for(timeout=30_000)
    page.locator("#iga-chat .iga-copy-answer").wait_for(timeout=30_000)
    assert page.locator("#iga-chat img[src=x]").count() == 0
    assert dialogs == []


def test_passage_markup_is_shown_as_text(context, running):
    page, _ = open_app(context, running)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ask(page, "How must suppliers' viewers treat markup inside report text?")
    passage = page.locator("#iga-sources-html").filter(has_text="<script>alert(1)</script>")
    passage.wait_for(timeout=30_000)
    assert dialogs == []


def test_empty_question_says_what_to_do(context, running):
    page, _ = open_app(context, running)
    page.locator("#iga-ask").click()
    page.get_by_text("Type a question in the box first").wait_for(timeout=10_000)
    assert page.locator("#iga-chat .user-row").count() == 0


def test_server_gone_says_what_to_do(context, built_settings, assistant):
    server = serve(built_settings, port=free_port(), assistant=assistant, block=False)
    assert server is not None
    page, _ = open_app(context, server)
    server.close()
    page.locator("#iga-question textarea").fill(TURNAROUND)
    page.locator("#iga-ask").click()
    banner = page.locator("#iga-offline")
    banner.wait_for(timeout=15_000)
    assert "iga serve" in banner.inner_text() and "reload this page" in banner.inner_text()
