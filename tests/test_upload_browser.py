"""First run in a real headless Chromium: the empty state, then documents added in the browser
and cited in an answer."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import yaml
from reportlab.pdfgen import canvas

from assistant.app import serve
from ingest.settings import Settings
from tests.corpus_factory import DOCUMENTS
from tests.http_server import free_port
from tests.test_browser import ARGS, CHROMIUM, SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

TITLE = "Regional ultrasound booking protocol"
FACT = "Ultrasound appointments must be booked within nine working days of referral."


def protocol_pdf() -> bytes:
    """A PDF with document information (title, no author) and the invented fact on page 2."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle(TITLE)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(72, 720, TITLE)
    pdf.showPage()
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(72, 760, "1 Booking")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 736, FACT)
    pdf.drawString(72, 722, "Each network reviews its booking times every month with its trusts.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_first_run_then_upload_a_pdf_and_get_it_cited(tmp_path: Path, generated_corpus: Path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    official = generated_corpus / "manifest.yaml"
    before = official.read_bytes()
    settings = Settings(data_dir=tmp_path / "data", manifest=official)
    good = tmp_path / "booking-protocol.pdf"
    good.write_bytes(protocol_pdf())
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n")  # cut off: no xref, no pages

    server = serve(settings, port=free_port(), block=False)
    assert server is not None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)

            # The first-run screen: nothing indexed, what is missing, where to get it.
            first_run = page.locator(".iga-first-run")
            first_run.wait_for(timeout=30_000)
            assert "No guidance indexed yet" in first_run.inner_text()
            total = len(DOCUMENTS) + 1
            assert f"Missing ({total} of {total})" in first_run.inner_text()
            assert "save as network-guide-2021.pdf" in first_run.inner_text()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "first-run.png"), full_page=True)

            # Upload two files: the table is prefilled from each file's metadata.
            page.get_by_role("tab", name="Add documents").click()
            page.locator("#iga-upload input[type=file]").set_input_files([str(good), str(bad)])
            table = page.locator("#iga-upload-table")
            table.get_by_test_id("cell-0-1").get_by_text(TITLE).wait_for(timeout=30_000)
            assert "cannot read this file" in table.get_by_test_id("cell-1-3").inner_text()

            # No author in the PDF: the publisher is typed into its cell.
            publisher = table.get_by_test_id("cell-0-2")
            assert publisher.inner_text().strip() == ""  # reportlab's "anonymous" is no publisher
            # (On a loaded machine the double-click can land before the cell is ready to edit,
            # and the keys go nowhere: the edit is tried again, up to three times.)
            for attempt in range(3):
                publisher.dblclick()
                page.keyboard.press("Control+A")
                page.keyboard.type("North Imaging Network")
                page.keyboard.press("Enter")
                try:
                    publisher.get_by_text("North Imaging Network").wait_for(timeout=10_000)
                    break
                except PlaywrightTimeout:
                    if attempt == 2:
                        raise

            # Add: a progress bar while it builds, then one added and one refused.
            page.locator("#iga-upload-add").click()
            result = page.locator("#iga-upload-result")
            result.locator(".progress-text, .progress-level, .eta-bar").first.wait_for(
                timeout=30_000
            )
            result.get_by_text("1 of 2 added and indexed").wait_for(timeout=240_000)
            text = result.inner_text()
            assert "booking-protocol.pdf: added as regional-ultrasound-booking-protocol-" in text
            assert "truncated.pdf" in text and "truncated.pdf: " in text
            # The first-run screen gives way to the index, without a reload.
            first_run.wait_for(state="hidden", timeout=10_000)
            page.screenshot(path=str(SCREENSHOTS / "upload-done.png"), full_page=True)

            # Ask: the uploaded document answers, cited, with its local copy served.
            page.get_by_role("tab", name="Ask").click()
            page.locator("#iga-question textarea").fill(
                "How soon must ultrasound appointments be booked?"
            )
            page.locator("#iga-ask").click()
            reply = page.locator(".message-row, .message").filter(has_text="nine working days")
            reply.last.wait_for(timeout=60_000)
            assert "[1]" in reply.last.inner_text()
            assert TITLE in reply.last.inner_text()
            sources = page.locator("#iga-sources-html")
            sources.locator("mark").filter(has_text="nine working days").first.wait_for(
                timeout=10_000
            )
            local = sources.get_by_role("link", name="Local copy, p. 2").first
            href = local.get_attribute("href")
            assert href is not None and href.startswith("/doc/regional-ultrasound-booking")
            assert httpx.get(server.url + href.lstrip("/").split("#")[0]).status_code == 200
            browser.close()
    finally:
        server.close()

    # The official manifest is untouched; the local one lists the added document only.
    assert official.read_bytes() == before
    local_entries = yaml.safe_load(settings.local_manifest.read_text(encoding="utf-8"))
    [entry] = local_entries["documents"]
    assert entry["title"] == TITLE and entry["publisher"] == "North Imaging Network"
    assert (settings.uploads_dir / f"{entry['id']}.pdf").read_bytes() == good.read_bytes()
    assert not (settings.uploads_dir / "truncated.pdf").exists()
