"""Fetch against a local HTTP server and mirror folders: caching, revalidation, rejection."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from ingest.errors import IgaError, ManifestError
from ingest.fetch import USER_AGENT, FetchOutcome, cached_path, fetch_documents, load_record
from ingest.manifest import load_manifest
from ingest.settings import Settings
from ingest.types import Manifest, ManifestEntry
from tests.http_server import LocalServer, Route, serving

LANDING = "https://www.example.org/imaging/landing-page/"
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Reporting turnaround times</title></head>"
    b"<body><h1>Turnaround times</h1><p>No examination should wait over 4 weeks.</p></body></html>"
)
ERROR_PAGE = b"<html><head><title>Access denied</title></head><body>Enable cookies</body></html>"
LAST_MODIFIED = "Wed, 21 Apr 2021 10:00:00 GMT"


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, "Diagnostic imaging network implementation guide (test copy)")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", timeout_s=2.0, retries=2, max_bytes=1_000_000)


def entry(doc_id: str, url: str | None = None, *, format: str = "pdf", **fields) -> ManifestEntry:
    return ManifestEntry(
        id=doc_id,
        title=f"Title of {doc_id}",
        publisher="NHS England",
        published=dt.date(2021, 4, 1),
        format=format,
        url=url,
        landing_page=fields.pop("landing_page", LANDING),
        **fields,
    )


def run(settings: Settings, *entries: ManifestEntry, **options) -> dict[str, FetchOutcome]:
    outcomes = fetch_documents(Manifest(documents=list(entries)), settings, **options)
    return {outcome.doc_id: outcome for outcome in outcomes}


def leftovers(settings: Settings) -> list[str]:
    return sorted(path.name for path in settings.cache_dir.glob(".*.part"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- downloading ---------------------------------------------------------------------------


def test_download_caches_file_and_record(server, settings, pdf_bytes):
    server.routes["/guide.pdf"] = Route(pdf_bytes, etag='"v1"', last_modified=LAST_MODIFIED)

    outcome = run(settings, entry("guide", server.url("/guide.pdf")))["guide"]

    assert outcome.status == "downloaded", outcome.message
    path = cached_path(settings, entry("guide"))
    assert path.read_bytes() == pdf_bytes
    record = load_record(settings, "guide")
    assert record == outcome.record
    assert record is not None
    assert (record.source, record.url, record.final_url) == (
        "network",
        server.url("/guide.pdf"),
        server.url("/guide.pdf"),
    )
    assert record.size == len(pdf_bytes)
    assert record.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    assert (record.etag, record.last_modified) == ('"v1"', LAST_MODIFIED)
    assert record.content_type == "application/pdf"
    assert record.path == "guide.pdf"
    assert server.hits_for("/guide.pdf")[0].headers["User-Agent"] == USER_AGENT
    assert leftovers(settings) == []


def test_html_page_is_accepted_for_format_html(server, settings):
    server.routes["/long-read/"] = Route(HTML_PAGE, content_type="text/html; charset=utf-8")

    outcome = run(settings, entry("tat", server.url("/long-read/"), format="html"))["tat"]

    assert outcome.status == "downloaded", outcome.message
    assert cached_path(settings, entry("tat", format="html")).read_bytes() == HTML_PAGE


def test_redirect_is_followed_and_final_url_recorded(server, settings, pdf_bytes):
    server.routes["/old/guide.pdf"] = Route(redirect_to=server.url("/new/guide.pdf"))
    server.routes["/new/guide.pdf"] = Route(pdf_bytes)

    outcome = run(settings, entry("guide", server.url("/old/guide.pdf")))["guide"]

    assert outcome.status == "downloaded", outcome.message
    assert outcome.record is not None
    assert outcome.record.url == server.url("/old/guide.pdf")
    assert outcome.record.final_url == server.url("/new/guide.pdf")


def test_rerun_revalidates_with_conditional_get_and_downloads_nothing(server, settings, pdf_bytes):
    server.routes["/guide.pdf"] = Route(pdf_bytes, etag='"v1"', last_modified=LAST_MODIFIED)
    doc = entry("guide", server.url("/guide.pdf"))
    first = run(settings, doc)["guide"]
    mtime = cached_path(settings, doc).stat().st_mtime_ns

    second = run(settings, doc)["guide"]

    assert second.status == "unchanged", second.message
    assert second.record == first.record
    revalidation = server.hits_for("/guide.pdf")[1]
    assert revalidation.headers["If-None-Match"] == '"v1"'
    assert revalidation.headers["If-Modified-Since"] == LAST_MODIFIED
    assert revalidation.status == 304
    assert server.full_downloads("/guide.pdf") == 1
    assert cached_path(settings, doc).stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.unlink(), id="cached-file-missing"),
        pytest.param(lambda path: path.write_bytes(b"%PDF-1.7 edited"), id="cached-file-altered"),
    ],
)
def test_damaged_cache_is_downloaded_again_unconditionally(server, settings, pdf_bytes, damage):
    server.routes["/guide.pdf"] = Route(pdf_bytes, etag='"v1"', last_modified=LAST_MODIFIED)
    doc = entry("guide", server.url("/guide.pdf"))
    run(settings, doc)
    damage(cached_path(settings, doc))

    outcome = run(settings, doc)["guide"]

    assert outcome.status == "downloaded", outcome.message
    again = server.hits_for("/guide.pdf")[1]
    assert "If-None-Match" not in again.headers
    assert "If-Modified-Since" not in again.headers
    assert cached_path(settings, doc).read_bytes() == pdf_bytes


# --- rejecting what is not what it claims --------------------------------------------------


@pytest.mark.parametrize(
    ("make_route", "doc_format", "pin", "max_bytes", "expected"),
    [
        pytest.param(
            lambda pdf: Route(ERROR_PAGE, content_type="text/html"),
            "pdf",
            None,
            None,
            "got an HTML page, not a PDF",
            id="html-error-page-as-pdf",
        ),
        pytest.param(lambda pdf: Route(b""), "pdf", None, None, "empty file", id="empty-file"),
        pytest.param(
            lambda pdf: Route(b"PK\x03\x04 a zip archive"),
            "pdf",
            None,
            None,
            "not a PDF",
            id="not-a-pdf",
        ),
        pytest.param(
            lambda pdf: Route(b"%PDF-1.7\n" + b"x" * 20_000),
            "pdf",
            None,
            10_000,
            "too large: the server declares",
            id="declared-length-over-cap",
        ),
        pytest.param(
            lambda pdf: Route(b"%PDF-1.7\n" + b"x" * 20_000, send_length=False),
            "pdf",
            None,
            10_000,
            "too large: the download exceeded",
            id="streamed-over-cap",
        ),
        pytest.param(
            lambda pdf: Route(pdf),
            "pdf",
            "0" * 64,
            None,
            "does not match the manifest pin",
            id="sha256-pin-mismatch",
        ),
        pytest.param(
            lambda pdf: Route(pdf),
            "html",
            None,
            None,
            "got a PDF where an HTML page was expected",
            id="pdf-served-for-html",
        ),
        pytest.param(
            lambda pdf: Route(b"\x00\x01\x02binary" * 50, content_type="text/html"),
            "html",
            None,
            None,
            "not an HTML page",
            id="binary-served-for-html",
        ),
    ],
)
def test_rejects_what_is_not_what_it_claims(
    server, settings, pdf_bytes, make_route, doc_format, pin, max_bytes, expected
):
    if max_bytes is not None:
        settings = settings.model_copy(update={"max_bytes": max_bytes})
    server.routes["/doc"] = make_route(pdf_bytes)
    doc = entry("bad-doc", server.url("/doc"), format=doc_format, sha256=pin)

    outcome = run(settings, doc)["bad-doc"]

    assert outcome.status == "failed"
    assert outcome.message.startswith("bad-doc: ")
    assert expected in outcome.message
    assert outcome.record is None
    assert not cached_path(settings, doc).exists()
    assert load_record(settings, "bad-doc") is None
    assert leftovers(settings) == []
    assert len(server.hits_for("/doc")) == 1  # final at once: not retried


@pytest.mark.parametrize("status", [403, 404, 410])
def test_gone_is_final_at_once_and_points_at_landing_page(server, settings, status):
    server.routes["/gone.pdf"] = Route(status=status)

    outcome = run(settings, entry("gone", server.url("/gone.pdf")))["gone"]

    assert outcome.status == "failed"
    assert f"HTTP {status}" in outcome.message
    assert server.url("/gone.pdf") in outcome.message
    assert LANDING in outcome.message
    assert len(server.hits_for("/gone.pdf")) == 1


@pytest.mark.parametrize(
    ("breakage", "pin"),
    [
        pytest.param(Route(ERROR_PAGE, content_type="text/html"), None, id="html-error-page"),
        pytest.param(Route(b""), None, id="empty-file"),
        pytest.param(Route(b"%PDF-1.7 trunc", declared_length=50_000), None, id="truncated"),
        pytest.param(Route(status=500), None, id="server-error"),
        pytest.param(None, "f" * 64, id="pin-no-longer-matches"),
    ],
)
def test_failure_keeps_previous_copy_and_does_not_stop_others(
    server, settings, pdf_bytes, breakage, pin
):
    server.routes["/guide.pdf"] = Route(pdf_bytes, etag='"v1"')
    server.routes["/other.pdf"] = Route(pdf_bytes)
    good = entry("guide", server.url("/guide.pdf"))
    run(settings, good)
    before = load_record(settings, "guide")
    if breakage is not None:
        server.routes["/guide.pdf"] = breakage

    outcomes = run(
        settings,
        entry("guide", server.url("/guide.pdf"), sha256=pin),
        entry("other", server.url("/other.pdf")),
    )

    assert outcomes["guide"].status == "failed"
    assert outcomes["guide"].message.startswith("guide: ")
    assert outcomes["other"].status == "downloaded", outcomes["other"].message
    assert cached_path(settings, good).read_bytes() == pdf_bytes
    assert load_record(settings, "guide") == before
    assert leftovers(settings) == []


# --- timeouts, retries, unreachable network ------------------------------------------------


def test_slow_server_times_out_within_bounded_time(server, settings, pdf_bytes):
    settings = settings.model_copy(update={"timeout_s": 0.5, "retries": 2})
    server.routes["/slow.pdf"] = Route(pdf_bytes, delay_s=3.0)

    started = time.monotonic()
    outcome = run(settings, entry("slow", server.url("/slow.pdf")))["slow"]
    elapsed = time.monotonic() - started

    assert outcome.status == "failed"
    assert "ReadTimeout" in outcome.message
    assert "gave up after 2 attempts" in outcome.message
    assert len(server.hits_for("/slow.pdf")) == 2
    assert elapsed < 2.5  # two 0.5 s timeouts and one 0.5 s backoff


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param(503, {}, id="503-then-ok"),
        pytest.param(429, {"Retry-After": "0"}, id="429-then-ok"),
    ],
)
def test_transient_errors_are_retried(server, settings, pdf_bytes, status, headers):
    server.routes["/busy.pdf"] = Route(pdf_bytes, statuses=[status], headers=headers)

    outcome = run(settings, entry("busy", server.url("/busy.pdf")))["busy"]

    assert outcome.status == "downloaded", outcome.message
    assert [hit.status for hit in server.hits_for("/busy.pdf")] == [status, 200]


def test_unreachable_network_is_reported_once_and_the_rest_skipped(server, settings, pdf_bytes):
    server.routes["/local.pdf"] = Route(pdf_bytes)
    documents = [
        entry("first", "http://guidance.example.invalid/first.pdf"),
        entry("second", "http://other-host.example.invalid/second.pdf"),
        entry("by-hand", download="manual"),
        entry("third", "https://guidance.example.invalid/third.pdf"),
        entry("on-this-machine", server.url("/local.pdf")),
    ]

    started = time.monotonic()
    outcomes = run(settings, *documents)
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert outcomes["first"].status == "failed"
    assert "network unreachable" in outcomes["first"].message
    assert "--mirror" in outcomes["first"].message
    for doc_id in ("second", "third"):
        assert outcomes[doc_id].status == "skipped"
        assert "network unreachable" in outcomes[doc_id].message
        assert "--mirror" in outcomes[doc_id].message
    assert "could not resolve" not in outcomes["second"].message  # said once, not per document
    assert outcomes["by-hand"].status == "failed"
    assert outcomes["on-this-machine"].status == "downloaded"  # loopback is not "the network"


def test_connection_refused_on_loopback_fails_fast_and_others_proceed(server, settings, pdf_bytes):
    server.routes["/ok.pdf"] = Route(pdf_bytes)
    refused = f"http://127.0.0.1:{closed_port()}/guide.pdf"

    started = time.monotonic()
    outcomes = run(settings, entry("down", refused), entry("up", server.url("/ok.pdf")))

    assert time.monotonic() - started < 2
    assert outcomes["down"].status == "failed"
    assert "could not connect to 127.0.0.1" in outcomes["down"].message
    assert outcomes["up"].status == "downloaded"


# --- entries without a direct URL, and the mirror ------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"download": "manual"}, id="manual-without-url"),
        pytest.param({"url": LANDING, "download": "manual"}, id="manual-with-url"),
    ],
)
def test_entry_without_direct_url_says_where_to_get_it(server, settings, fields):
    outcome = run(settings, entry("by-hand", **fields))["by-hand"]

    assert outcome.status == "failed"
    assert outcome.message.startswith("by-hand: ")
    assert f"download it from {LANDING}" in outcome.message
    assert "save it as by-hand.pdf" in outcome.message
    assert "--mirror FOLDER" in outcome.message
    assert server.hits == []


@pytest.fixture
def mirror(tmp_path: Path, pdf_bytes: bytes) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "guide.pdf").write_bytes(pdf_bytes)
    (folder / "tat.html").write_bytes(HTML_PAGE)
    return folder


def test_mirror_copies_files_and_records_them(settings, mirror, pdf_bytes):
    documents = [entry("guide"), entry("tat", "http://never.example.invalid/", format="html")]

    outcomes = run(settings, *documents, mirror=mirror)

    assert [o.status for o in outcomes.values()] == ["copied", "copied"]
    assert cached_path(settings, documents[0]).read_bytes() == pdf_bytes
    record = load_record(settings, "guide")
    assert record is not None
    assert record.source == "mirror"
    assert record.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    assert record.final_url == (mirror / "guide.pdf").resolve().as_uri()


def test_mirror_rerun_is_unchanged_and_rewrites_nothing(settings, mirror):
    doc = entry("guide")
    run(settings, doc, mirror=mirror)
    file_mtime = cached_path(settings, doc).stat().st_mtime_ns
    record_bytes = (settings.cache_dir / "guide.json").read_bytes()

    outcome = run(settings, doc, mirror=mirror)["guide"]

    assert outcome.status == "unchanged", outcome.message
    assert cached_path(settings, doc).stat().st_mtime_ns == file_mtime
    assert (settings.cache_dir / "guide.json").read_bytes() == record_bytes


@pytest.mark.parametrize(
    ("content", "fields", "max_bytes", "expected"),
    [
        pytest.param(None, {}, None, "not in the mirror folder: expected", id="missing-file"),
        pytest.param(ERROR_PAGE, {}, None, "got an HTML page, not a PDF", id="html-as-pdf"),
        pytest.param(b"", {}, None, "empty file", id="empty-file"),
        pytest.param(b"%PDF-1.7" + b"x" * 2_000, {}, 1_000, "too large", id="over-cap"),
        pytest.param(b"%PDF-1.7 x", {"sha256": "a" * 64}, None, "manifest pin", id="pin-mismatch"),
    ],
)
def test_mirror_rejects_bad_files(tmp_path, settings, content, fields, max_bytes, expected):
    folder = tmp_path / "mirror"
    folder.mkdir()
    if content is not None:
        (folder / "doc.pdf").write_bytes(content)
    if max_bytes is not None:
        settings = settings.model_copy(update={"max_bytes": max_bytes})

    outcome = run(settings, entry("doc", **fields), mirror=folder)["doc"]

    assert outcome.status == "failed"
    assert outcome.message.startswith("doc: ")
    assert expected in outcome.message
    if content is None:
        assert str(folder / "doc.pdf") in outcome.message
    assert not cached_path(settings, entry("doc")).exists()
    assert leftovers(settings) == []


def test_missing_mirror_folder_is_an_error(tmp_path, settings):
    with pytest.raises(IgaError, match="mirror folder not found"):
        run(settings, entry("guide"), mirror=tmp_path / "nowhere")


@pytest.mark.corpus
def test_shared_dev_corpus_is_copied_from_its_mirror_with_pins_checked(tmp_path, shared_corpus):
    manifest = load_manifest(shared_corpus / "manifest.yaml")
    settings = Settings(data_dir=tmp_path / "data")

    outcomes = fetch_documents(manifest, settings, mirror=shared_corpus)

    assert {o.status for o in outcomes} == {"copied"}, [o.message for o in outcomes]
    for doc in manifest.documents:
        record = load_record(settings, doc.id)
        assert record is not None
        assert record.sha256 == doc.sha256


# --- selection, progress, records ----------------------------------------------------------


def test_only_fetches_the_selected_documents(settings, mirror):
    outcomes = run(
        settings, entry("guide"), entry("tat", format="html"), mirror=mirror, only=["tat"]
    )

    assert list(outcomes) == ["tat"]
    assert not cached_path(settings, entry("guide")).exists()


def test_only_with_an_unknown_id_raises_naming_it(settings, mirror):
    with pytest.raises(ManifestError, match="not-a-document"):
        run(settings, entry("guide"), mirror=mirror, only=["not-a-document"])


def test_progress_is_reported_per_document_in_order(settings, mirror):
    seen: list[FetchOutcome] = []
    report: Callable[[FetchOutcome], None] = seen.append

    outcomes = fetch_documents(
        Manifest(documents=[entry("guide"), entry("missing")]),
        settings,
        mirror=mirror,
        on_progress=report,
    )

    assert seen == outcomes
    assert [o.status for o in seen] == ["copied", "failed"]


def test_load_record_is_none_when_absent_or_unreadable(settings):
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / "corrupt.json").write_text("{not json", encoding="utf-8")

    assert load_record(settings, "absent") is None
    assert load_record(settings, "corrupt") is None
