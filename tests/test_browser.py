"""The app in a real headless Chromium: ask, read the answer, open its sources."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assistant.answer import Assistant
from assistant.app import RunningServer, serve

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[1] / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def running(built_settings) -> Iterator[RunningServer]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve(built_settings, port=port, assistant=Assistant.load(built_settings), block=False)
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


def test_question_gets_a_cited_answer_and_its_sources(running, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(running.url)

    # Ask.
    page.locator("#iga-question textarea").fill(
        "What is the maximum time for an examination to be reported?"
    )
    page.locator("#iga-ask").click()
    reply = page.locator(".message-row, .message").filter(has_text="four weeks").last
    reply.wait_for(timeout=30_000)
    assert "[1]" in reply.inner_text()
    assert "Diagnostic imaging network implementation guide" in reply.inner_text()

    # Open the sources panel (if closed) and find the quoted sentence highlighted.
    sources = page.locator("#iga-sources-html")
    if not sources.is_visible():
        page.get_by_text("Sources: 1 cited passage").click()
    marked = sources.locator("mark").first
    marked.wait_for(timeout=10_000)
    assert "four weeks" in marked.inner_text()
    link = sources.get_by_role("link", name="Local copy, p. 3")
    assert link.get_attribute("href") == "/doc/network-guide-2021#page=3"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "answer.png"), full_page=True)

    # A second answer replaces the sources; selecting the first answer brings its back.
    page.locator("#iga-question textarea").fill("Where should CDCs be located?")
    page.locator("#iga-ask").click()
    sources.filter(has_text="away from acute hospital sites").wait_for(timeout=30_000)
    reply.click()
    sources.filter(has_text="four weeks").wait_for(timeout=10_000)

    # Offline: the page fetched nothing from anywhere but the app.
    origin = urlsplit(running.url).netloc
    assert {urlsplit(u).netloc for u in requested if u.startswith("http")} == {origin}
    page.close()


def test_passage_markup_is_shown_as_text(running, browser):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(running.url)
    page.locator("#iga-question textarea").fill(
        "How must suppliers' viewers treat markup inside report text?"
    )
    page.locator("#iga-ask").click()
    passage = page.locator("#iga-sources-html").filter(has_text="<script>alert(1)</script>")
    passage.wait_for(timeout=30_000)
    assert dialogs == []
    page.close()
