"""Files found from their landing pages, against local HTTP servers: the link chosen per entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from ingest.fetch import FetchOutcome, cached_path, fetch_documents, load_record
from ingest.settings import Settings
from ingest.types import Manifest, ManifestEntry
from tests.http_server import LocalServer, Route, serving

GUIDES = {
    "implementation": "Diagnostic imaging network implementation guide",
    "commercial": "Diagnostic imaging network commercial structure and operational governance guide",
    "capital": "Diagnostic imaging network capital equipment planning guide",
    "workforce": "Diagnostic imaging network workforce guidance",
}


def make_pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def page(*links: tuple[str, str], title: str = "Publication") -> bytes:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f'<ul><li><a href="/privacy/">Privacy</a></li>{anchors}'
        '<li><a href="/assets/cookie-policy.pdf">Cookie policy (PDF)</a></li></ul></body></html>'
    ).encode()


def html_route(body: bytes, **fields) -> Route:
    return Route(body=body, content_type="text/html; charset=utf-8", **fields)


def entry(doc_id: str, title: str, landing_page: str, **fields) -> ManifestEntry:
    return ManifestEntry(
        id=doc_id,
        title=title,
        publisher="NHS England",
        published=dt.date(2021, 4, 1),
        format="pdf",
        landing_page=landing_page,
        **fields,
    )


def run(settings: Settings, *entries: ManifestEntry) -> dict[str, FetchOutcome]:
    outcomes = fetch_documents(Manifest(documents=list(entries)), settings)
    return {outcome.doc_id: outcome for outcome in outcomes}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", timeout_s=2.0, retries=2, max_bytes=1_000_000)


def test_publication_page_linking_one_pdf_by_a_relative_link(server, settings):
    pdf = make_pdf("Diagnostics recovery and renewal (test copy)")
    server.routes["/publication/diagnostics-recovery/"] = html_route(
        page(
            (
                "../../wp-content/uploads/2020/11/diagnostics-recovery-and-renewal-v3.pdf",
                "Diagnostics: Recovery and Renewal (PDF, 2 MB)",
            )
        )
    )
    server.routes["/wp-content/uploads/2020/11/diagnostics-recovery-and-renewal-v3.pdf"] = Route(
        body=pdf
    )
    landing = server.url("/publication/diagnostics-recovery/")
    doc = entry("richards", "Diagnostics: Recovery and Renewal", landing)

    outcome = run(settings, doc)["richards"]

    assert outcome.status == "downloaded", outcome.message
    record = load_record(settings, "richards")
    file_url = server.url("/wp-content/uploads/2020/11/diagnostics-recovery-and-renewal-v3.pdf")
    assert record is not None and record.url == file_url and record.final_url == file_url
    assert record.landing_page == landing
    assert record.sha256 == hashlib.sha256(pdf).hexdigest()
    assert cached_path(settings, doc).read_bytes() == pdf
    assert server.full_downloads("/assets/cookie-policy.pdf") == 0


def test_hub_page_listing_four_guides_gives_each_entry_its_own(server, settings):
    links = [(f"/files/B0{n}-{key}.pdf", title) for n, (key, title) in enumerate(GUIDES.items())]
    server.routes["/transforming-imaging/"] = html_route(
        page(*links, title="Transforming imaging services in England")
    )
    for n, key in enumerate(GUIDES):
        server.routes[f"/files/B0{n}-{key}.pdf"] = Route(body=make_pdf(f"{key} guide"))
    hub = server.url("/transforming-imaging/")
    entries = [entry(f"guide-{key}", title, hub) for key, title in GUIDES.items()]

    outcomes = run(settings, *entries)

    for n, key in enumerate(GUIDES):
        assert outcomes[f"guide-{key}"].status == "downloaded", outcomes[f"guide-{key}"].message
        record = load_record(settings, f"guide-{key}")
        assert record is not None and record.url == server.url(f"/files/B0{n}-{key}.pdf")
    # The hub was read once for all four entries.
    assert server.full_downloads("/transforming-imaging/") == 1


def test_link_hint_picks_between_links_that_tie(server, settings):
    server.routes["/hub/"] = html_route(
        page(
            ("/files/2019/plan.pdf", "NHS Long Term Plan"),
            ("/files/2020/plan.pdf", "NHS Long Term Plan"),
        )
    )
    server.routes["/files/2019/plan.pdf"] = Route(body=make_pdf("plan"))
    hub = server.url("/hub/")

    tie = run(settings, entry("plan", "The NHS Long Term Plan", hub))["plan"]
    hinted = run(settings, entry("plan", "The NHS Long Term Plan", hub, link_pattern=r"/2019/"))[
        "plan"
    ]

    assert tie.status == "failed"
    assert f"several PDF links on {hub} match the title equally well" in tie.message
    assert server.url("/files/2020/plan.pdf") in tie.message and "link_pattern" in tie.message
    assert hinted.status == "downloaded", hinted.message


def test_page_without_a_matching_link_names_the_page_and_lists_candidates(server, settings):
    server.routes["/unrelated/"] = html_route(
        page(("/files/annual-accounts-2022.pdf", "Annual report and accounts 2022"))
    )
    landing = server.url("/unrelated/")

    outcome = run(
        settings, entry("girft", "Radiology: GIRFT Programme National Specialty", landing)
    )["girft"]

    assert outcome.status == "failed"
    assert outcome.message.startswith("girft: no PDF link on " + landing + " matches the title")
    assert server.url("/files/annual-accounts-2022.pdf") in outcome.message
    assert server.url("/assets/cookie-policy.pdf") in outcome.message
    assert server.full_downloads("/files/annual-accounts-2022.pdf") == 0
    assert load_record(settings, "girft") is None


def test_redirect_to_another_host_is_followed_and_recorded(server, settings):
    # The original host now redirects to an archive copy on another host (localhost here).
    with serving() as archive:
        archive_base = archive.base_url.replace("127.0.0.1", "localhost")
        archived = f"{archive_base}/ukgwa/20240101000000/plan/publication/"
        server.routes["/publication/plan/"] = Route(redirect_to=archived)
        archive.routes["/ukgwa/20240101000000/plan/publication/"] = html_route(
            page(("files/nhs-long-term-plan-version-1.2.pdf", "The NHS Long Term Plan (PDF)"))
        )
        pdf = make_pdf("long term plan")
        archive.routes[
            "/ukgwa/20240101000000/plan/publication/files/nhs-long-term-plan-version-1.2.pdf"
        ] = Route(body=pdf)

        outcome = run(
            settings, entry("ltp", "The NHS Long Term Plan", server.url("/publication/plan/"))
        )["ltp"]

    assert outcome.status == "downloaded", outcome.message
    record = load_record(settings, "ltp")
    assert record is not None
    assert record.url == f"{archived}files/nhs-long-term-plan-version-1.2.pdf"
    assert record.final_url == record.url and record.url.startswith("http://localhost:")
    assert record.sha256 == hashlib.sha256(pdf).hexdigest()


def test_hub_linking_a_publication_page_is_followed_one_step(server, settings):
    # The hub links one guide's file directly and the other's publication page, which shares
    # most title words with the first file: the better-fitting page wins.
    server.routes["/hub/"] = html_route(
        page(
            ("/files/B00-implementation-guide.pdf", GUIDES["implementation"]),
            ("/publication/workforce-guidance/", GUIDES["workforce"]),
            ("/hub/", "Transforming imaging services in England"),
        )
    )
    server.routes["/files/B00-implementation-guide.pdf"] = Route(body=make_pdf("implementation"))
    server.routes["/publication/workforce-guidance/"] = html_route(
        page(
            ("/files/B1234-workforce-guidance.pdf", "Download the guidance (PDF)"),
            title=GUIDES["workforce"],
        )
    )
    server.routes["/files/B1234-workforce-guidance.pdf"] = Route(body=make_pdf("workforce"))
    hub = server.url("/hub/")

    outcomes = run(
        settings,
        entry("workforce", GUIDES["workforce"], hub),
        entry("implementation", GUIDES["implementation"], hub),
    )

    assert outcomes["workforce"].status == "downloaded", outcomes["workforce"].message
    assert load_record(settings, "workforce").url == server.url(
        "/files/B1234-workforce-guidance.pdf"
    )
    assert load_record(settings, "implementation").url == server.url(
        "/files/B00-implementation-guide.pdf"
    )


def test_unchanged_page_and_file_are_revalidated_and_a_new_version_downloaded(server, settings):
    server.routes["/pub/"] = html_route(
        page(("/files/guide.pdf", GUIDES["implementation"])), etag='"page-1"'
    )
    server.routes["/files/guide.pdf"] = Route(body=make_pdf("first edition"), etag='"file-1"')
    doc = entry("guide", GUIDES["implementation"], server.url("/pub/"))
    first = run(settings, doc)["guide"]

    again = run(settings, doc)["guide"]

    assert first.status == "downloaded" and again.status == "unchanged", again.message
    assert server.hits_for("/pub/")[-1].headers.get("If-None-Match") == '"page-1"'
    assert server.hits_for("/pub/")[-1].status == 304
    assert server.hits_for("/files/guide.pdf")[-1].headers.get("If-None-Match") == '"file-1"'
    assert load_record(settings, "guide").landing_page == server.url("/pub/")

    # A new edition: the page and the file change.
    second_pdf = make_pdf("second edition")
    server.routes["/pub/"] = html_route(
        page(("/files/guide-v2.pdf", GUIDES["implementation"])), etag='"page-2"'
    )
    server.routes["/files/guide-v2.pdf"] = Route(body=second_pdf, etag='"file-2"')
    changed = run(settings, doc)["guide"]

    assert changed.status == "downloaded", changed.message
    record = load_record(settings, "guide")
    assert record.url == server.url("/files/guide-v2.pdf")
    assert record.sha256 == hashlib.sha256(second_pdf).hexdigest()
    assert record.sha256 != first.record.sha256
