"""Downloads the manifest's documents into a local cache, or copies them from a mirror folder."""

from __future__ import annotations

import datetime as dt
import email.utils
import errno
import functools
import hashlib
import ipaddress
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from ingest.errors import FetchError, IgaError, ManifestError, NetworkUnreachable
from ingest.resolve import Link, LinkNotFound, choose_link, link_score, page_links
from ingest.settings import Settings
from ingest.stored import cached_path, load_record
from ingest.stored import record_path as _record_path
from ingest.types import DocumentFormat, FetchRecord, Manifest, ManifestEntry

USER_AGENT = "imaging-guidance-assistant/0.1 (fetches NHS imaging guidance for offline search)"
CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 8 * 1024  # kept from the start of each file for the format checks
PDF_MAGIC_WINDOW = 1024
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 10.0
RETRY_AFTER_MAX_S = 30.0
PROBE_HOSTS = 2  # other hosts tried before declaring the whole network unreachable
PROBE_TIMEOUT_S = 5.0

FINAL_STATUSES = {403, 404, 410}
HTML_MARKER = re.compile(rb"<(!doctype\s+html|html|head|body|title|meta)\b", re.IGNORECASE)
T = TypeVar("T")
MIRROR_HINT = "download the files by hand into a folder and rerun with --mirror FOLDER"


class FetchOutcome(BaseModel):
    """What happened to one document in a fetch run."""

    doc_id: str
    status: Literal["downloaded", "unchanged", "copied", "failed", "skipped"]
    message: str = ""
    reason: str = Field(default="", description="The problem alone, short, without next steps.")
    offline: bool = Field(default=False, description="Not fetched because the network is down.")
    record: FetchRecord | None = None


def fetch_documents(
    manifest: Manifest,
    settings: Settings,
    *,
    mirror: Path | None = None,
    only: Sequence[str] | None = None,
    on_progress: Callable[[FetchOutcome], None] | None = None,
) -> list[FetchOutcome]:
    """Return one outcome per document, in manifest order, after fetching each into the cache.

    Args:
        manifest: The documents to fetch.
        settings: `cache_dir`, `timeout_s`, `retries` (attempts per document) and `max_bytes`.
        mirror: A folder holding `<id>.pdf` / `<id>.html`, used instead of the network.
        only: Fetch just these document ids (ManifestError when one is not in the manifest).
        on_progress: Called with each outcome as soon as it is known.

    A bad document fails on its own and never replaces a good cached copy; when the network
    is unreachable the run says so once and skips the remaining network documents.
    """
    # Validate the selection.
    entries = list(manifest.documents)
    if only is not None:
        known = {entry.id for entry in entries}
        unknown = [doc_id for doc_id in only if doc_id not in known]
        if unknown:
            raise ManifestError(
                f"not in the manifest: {', '.join(unknown)}. Known ids: {', '.join(sorted(known))}"
            )
        wanted = set(only)
        entries = [entry for entry in entries if entry.id in wanted]
    if mirror is not None and not mirror.is_dir():
        raise IgaError(f"mirror folder not found: {mirror}. Pass --mirror with an existing folder.")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)

    # Fetch one document at a time; one failure never stops the others.
    outcomes: list[FetchOutcome] = []
    offline: str | None = None
    pages: dict[str, _Page] = {}  # landing pages read this run (a hub serves several entries)
    with _client(settings) as client:
        for index, entry in enumerate(entries):
            if entry.uploaded_at is not None:
                outcome = _from_mirror(entry, settings.uploads_dir, settings)
            elif mirror is not None:
                outcome = _from_mirror(entry, mirror, settings)
            elif not entry.has_download_url:
                outcome = _problem(entry, "no direct download URL", hint=_by_hand(entry))
            elif offline is not None and not _is_loopback(entry.source_url):
                outcome = _problem(
                    entry,
                    "skipped, network unreachable",
                    hint=_by_hand(entry),
                    status="skipped",
                    offline=True,
                )
            else:
                others = [
                    e.source_url
                    for e in entries[index + 1 :]
                    if e.has_download_url and e.source_url
                ]
                try:
                    outcome = _from_network(client, entry, settings, other_urls=others, pages=pages)
                except NetworkUnreachable as exc:
                    offline = str(exc)
                    outcome = _problem(entry, offline, hint=MIRROR_HINT, offline=True)
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome)
    return outcomes


# --- network -------------------------------------------------------------------------------


class _Transient(Exception):
    """A failure worth retrying: timeout, 5xx, 429, connection reset."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Staged:
    """A fully written, fsynced temp file in the cache folder, not yet under its final name."""

    path: Path
    size: int
    sha256: str
    head: bytes


def _client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.timeout_s,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class _Page:
    """A landing page as read: where it ended up (after redirects), its links and validators."""

    url: str
    links: list[Link]
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class _Source:
    """Where one document's file is requested from, and the landing page it was found on."""

    url: str
    landing_page: str | None = None
    page_etag: str | None = None
    page_last_modified: str | None = None


def _from_network(
    client: httpx.Client,
    entry: ManifestEntry,
    settings: Settings,
    *,
    other_urls: list[str],
    pages: dict[str, _Page],
) -> FetchOutcome:
    """Return the outcome of downloading one entry, retrying transient failures with backoff."""
    previous = load_record(settings, entry.id)
    intact = _cache_intact(settings, entry, previous)
    # Revalidate only what we can trust: bytes on disk matching the record, and a record that
    # satisfies the current pin. Anything else downloads afresh.
    trusted = previous if intact and previous and entry.sha256 in (None, previous.sha256) else None
    try:
        source = _locate(client, entry, settings, trusted, other_urls=other_urls, pages=pages)
        conditional = _validators(trusted) if trusted and trusted.url == source.url else {}
        return _retrying(
            lambda: _attempt(
                client, entry, settings, source, conditional, previous if intact else None
            ),
            entry=entry,
            url=source.url,
            settings=settings,
            other_urls=other_urls,
        )
    except FetchError as exc:
        return _problem(entry, str(exc))


def _validators(record: FetchRecord, *, page: bool = False) -> dict[str, str]:
    """Return the conditional-GET headers for the file (or its landing page) in a record."""
    etag = record.page_etag if page else record.etag
    modified = record.page_last_modified if page else record.last_modified
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def _locate(
    client: httpx.Client,
    entry: ManifestEntry,
    settings: Settings,
    trusted: FetchRecord | None,
    *,
    other_urls: list[str],
    pages: dict[str, _Page],
) -> _Source:
    """Return where to download the entry's file: its `url`, or the link its landing page gives.

    A hub page that links the publication page rather than the file is followed one step.
    An unchanged landing page (304) keeps the file URL found on it last time.
    """
    if entry.url is not None or entry.format is not DocumentFormat.pdf:
        url = entry.url or entry.landing_page
        assert url is not None
        return _Source(url=url)
    assert entry.landing_page is not None

    def read(url: str, conditional: dict[str, str]) -> _Page | None:
        if url not in pages:
            page = _retrying(
                lambda: _read_page(client, entry, settings, url, conditional),
                entry=entry,
                url=url,
                settings=settings,
                other_urls=other_urls,
            )
            if page is None:  # not modified since the last run
                return None
            pages[url] = page
        return pages[url]

    remembered = trusted if trusted and trusted.landing_page == entry.landing_page else None
    hub = read(entry.landing_page, _validators(remembered, page=True) if remembered else {})
    if hub is None:
        assert remembered is not None and remembered.url is not None
        return _Source(
            url=remembered.url,
            landing_page=entry.landing_page,
            page_etag=remembered.page_etag,
            page_last_modified=remembered.page_last_modified,
        )
    found = functools.partial(
        _Source,
        landing_page=entry.landing_page,
        page_etag=hub.etag,
        page_last_modified=hub.last_modified,
    )
    # The file linked from this page, unless a publication page it links fits the title better
    # (a hub page lists documents by their pages, and some of their files by name).
    try:
        file = choose_link(entry, hub.links, page=hub.url, files=True)
    except LinkNotFound as missing:
        if missing.tie:
            raise
        file, not_found = None, missing
    try:
        publication = choose_link(entry, hub.links, page=hub.url, files=False)
    except LinkNotFound:
        publication = None
    if publication is not None and (
        file is None or link_score(entry, publication) > link_score(entry, file)
    ):
        page = read(publication.url, {})
        assert page is not None
        return found(url=choose_link(entry, page.links, page=page.url, files=True).url)
    if file is None:
        raise not_found
    return found(url=file.url)


def _retrying(
    call: Callable[[], T],
    *,
    entry: ManifestEntry,
    url: str,
    settings: Settings,
    other_urls: list[str],
) -> T:
    """Return `call()`, retrying transient failures with backoff; raise FetchError otherwise."""
    attempts = max(1, settings.retries)
    last = _Transient("no attempt made")
    for attempt in range(attempts):
        try:
            return call()
        except _Transient as exc:
            last = exc
        except httpx.RequestError as exc:
            last = _classify(exc, entry, url, settings, other_urls)
        except httpx.InvalidURL as exc:
            raise FetchError(
                entry.id, f"invalid url {url}: {exc}; fix it in the manifest"
            ) from None
        if attempt + 1 < attempts:
            time.sleep(_backoff(attempt, last.retry_after))
    raise FetchError(entry.id, f"{last} (gave up after {attempts} attempts); rerun later")


def _check_response(
    response: httpx.Response, entry: ManifestEntry, settings: Settings, *, page: bool
) -> None:
    """Raise _Transient or FetchError unless the response is a success within the size cap."""
    final_url = str(response.url)
    if response.status_code in FINAL_STATUSES:
        gone = "the page has moved or is gone" if page else "the file has moved or is gone"
        fix = (
            "Update `landing_page` in the manifest"
            if page
            else f"Check the document's landing_page ({entry.landing_page or 'none given'}) "
            "and update `url` in the manifest"
        )
        raise FetchError(entry.id, f"HTTP {response.status_code} for {final_url}: {gone}. {fix}.")
    if response.status_code == 429 or response.status_code >= 500:
        raise _Transient(
            f"HTTP {response.status_code} from {final_url}",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if not response.is_success:
        field = "landing_page" if page else "url"
        raise FetchError(
            entry.id,
            f"HTTP {response.status_code} for {final_url}; check `{field}` in the manifest",
        )
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > settings.max_bytes:
        raise FetchError(
            entry.id, _too_big(int(declared), settings.max_bytes, "the server declares")
        )


def _read_page(
    client: httpx.Client,
    entry: ManifestEntry,
    settings: Settings,
    url: str,
    conditional: dict[str, str],
) -> _Page | None:
    """Return the landing page's links, or None when a conditional GET says it is unchanged."""
    with client.stream("GET", url, headers=conditional) as response:
        if response.status_code == 304 and conditional:
            return None
        _check_response(response, entry, settings, page=True)
        body = bytearray()
        for chunk in response.iter_bytes(CHUNK_BYTES):
            body += chunk
            if len(body) > settings.max_bytes:
                raise FetchError(
                    entry.id, _too_big(len(body), settings.max_bytes, f"the page {url} exceeded")
                )
        final_url = str(response.url)
    head = bytes(body[:HEAD_BYTES])
    if b"%PDF-" in head[:PDF_MAGIC_WINDOW] or not HTML_MARKER.search(head):
        raise FetchError(
            entry.id,
            f"the landing page {final_url} is not an HTML page: set `url:` to the file itself",
        )
    return _Page(
        url=final_url,
        links=page_links(bytes(body), final_url),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _attempt(
    client: httpx.Client,
    entry: ManifestEntry,
    settings: Settings,
    source: _Source,
    conditional: dict[str, str],
    previous: FetchRecord | None,
) -> FetchOutcome:
    """Return the outcome of one GET; raise _Transient or FetchError when it did not work."""
    with client.stream("GET", source.url, headers=conditional) as response:
        # Read the status before any bytes.
        final_url = str(response.url)
        if response.status_code == 304 and conditional and previous is not None:
            return FetchOutcome(
                doc_id=entry.id,
                status="unchanged",
                message="not modified (conditional GET answered 304)",
                record=_with_page(previous, source),
            )
        _check_response(response, entry, settings, page=False)

        # Stream into a temp file, then check the bytes are what the manifest claims.
        staged = _stage(
            response.iter_bytes(CHUNK_BYTES),
            directory=settings.cache_dir,
            name=entry.filename,
            max_bytes=settings.max_bytes,
            doc_id=entry.id,
        )
    try:
        _check_content(entry, staged.head, staged.size, origin=final_url)
        _check_pin(entry, staged.sha256)
        same = previous is not None and previous.sha256 == staged.sha256
        status: Literal["downloaded", "unchanged"] = "unchanged" if same else "downloaded"
        message = (
            "downloaded again; content identical"
            if same
            else f"{_human(staged.size)} from {final_url}"
        )
        os.replace(staged.path, cached_path(settings, entry))
        _fsync_dir(settings.cache_dir)
    finally:
        staged.path.unlink(missing_ok=True)
    record = _with_page(
        FetchRecord(
            doc_id=entry.id,
            source="network",
            url=source.url,
            final_url=final_url,
            fetched_at=dt.datetime.now(dt.UTC),
            size=staged.size,
            sha256=staged.sha256,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            path=entry.filename,
        ),
        source,
    )
    if same and previous is not None:
        record = record.model_copy(update={"fetched_at": previous.fetched_at})
    _write_record(settings, record)
    return FetchOutcome(doc_id=entry.id, status=status, message=message, record=record)


def _with_page(record: FetchRecord, source: _Source) -> FetchRecord:
    """Return the record with the landing page its file's link was found on, if any."""
    return record.model_copy(
        update={
            "landing_page": source.landing_page,
            "page_etag": source.page_etag,
            "page_last_modified": source.page_last_modified,
        }
    )


def _classify(
    exc: httpx.RequestError,
    entry: ManifestEntry,
    url: str,
    settings: Settings,
    other_urls: list[str],
) -> _Transient:
    """Return the transport failure as retryable, or raise NetworkUnreachable / FetchError."""
    host = urlsplit(url).hostname or url
    cause = _os_error(exc)
    no_route = isinstance(cause, socket.gaierror) or getattr(cause, "errno", None) in {
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.ECONNREFUSED,
    }
    if isinstance(exc, httpx.ConnectError) and no_route:
        what = (
            f"could not resolve {host}"
            if isinstance(cause, socket.gaierror)
            else f"could not connect to {host} ({cause})"
        )
        # A loopback server being down says nothing about the internet.
        if not _is_loopback(url) and not _any_reachable(other_urls, settings):
            raise NetworkUnreachable(
                f"network unreachable ({what}; no other document host answers either)"
            )
        raise FetchError(entry.id, f"{what}: check `url` in the manifest, or {MIRROR_HINT}")
    if (
        isinstance(exc, httpx.ConnectTimeout)
        and not _is_loopback(url)
        and not _any_reachable(other_urls, settings)
    ):
        raise NetworkUnreachable(
            f"network unreachable (connecting to {host} timed out after "
            f"{settings.timeout_s:g} s and no other document host answers)"
        )
    if isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
        return _Transient(f"{type(exc).__name__} fetching {url}: {exc or 'no detail'}")
    raise FetchError(entry.id, f"{type(exc).__name__} fetching {url}: {exc}")


def _any_reachable(urls: Iterable[str], settings: Settings) -> bool:
    """Return whether any of a few other non-loopback hosts answers at all (any HTTP status)."""
    probed: set[str] = set()
    with _client(settings) as client:
        for url in urls:
            parts = urlsplit(url)
            if _is_loopback(url) or parts.netloc in probed:
                continue
            probed.add(parts.netloc)
            try:
                client.head(
                    f"{parts.scheme}://{parts.netloc}/",
                    follow_redirects=False,
                    timeout=min(settings.timeout_s, PROBE_TIMEOUT_S),
                )
                return True
            except httpx.TransportError:
                pass
            if len(probed) >= PROBE_HOSTS:
                break
    return False


def _os_error(exc: BaseException) -> OSError | None:
    """Return the OSError at the root of an httpx exception chain, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _is_loopback(url: str | None) -> bool:
    return is_loopback_host(urlsplit(url or "").hostname or "")


def is_loopback_host(host: str) -> bool:
    """Return whether a host name or address is this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_MAX_S)
    return min(BACKOFF_BASE_S * 2**attempt, BACKOFF_MAX_S)


def _retry_after(value: str | None) -> float | None:
    """Return a Retry-After header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# --- mirror --------------------------------------------------------------------------------


def _from_mirror(entry: ManifestEntry, mirror: Path, settings: Settings) -> FetchOutcome:
    """Return the outcome of copying one entry's file from the mirror folder."""
    source = mirror / entry.filename
    try:
        # Check the file before copying it.
        if not source.is_file():
            return _problem(
                entry,
                "not in the mirror folder",
                hint=f"expected {source}; {_where_to_get(entry)}",
            )
        size = source.stat().st_size
        if size > settings.max_bytes:
            raise FetchError(entry.id, _too_big(size, settings.max_bytes, f"{source} is"))
        previous = load_record(settings, entry.id)
        sha256 = _sha256_file(source)
        _check_pin(entry, sha256)
        if _cache_intact(settings, entry, previous) and previous and previous.sha256 == sha256:
            return FetchOutcome(
                doc_id=entry.id,
                status="unchanged",
                message="cached copy already identical",
                record=previous,
            )

        # Copy through a temp file, then check what was actually copied.
        staged = _stage(
            _read_chunks(source),
            directory=settings.cache_dir,
            name=entry.filename,
            max_bytes=settings.max_bytes,
            doc_id=entry.id,
        )
        try:
            _check_content(entry, staged.head, staged.size, origin=str(source))
            _check_pin(entry, staged.sha256)
            os.replace(staged.path, cached_path(settings, entry))
            _fsync_dir(settings.cache_dir)
        finally:
            staged.path.unlink(missing_ok=True)
    except FetchError as exc:
        return _problem(entry, str(exc))
    except OSError as exc:
        return _problem(entry, f"could not copy {source}: {exc}")
    record = FetchRecord(
        doc_id=entry.id,
        source="mirror",
        url=entry.url,
        final_url=source.resolve().as_uri(),
        fetched_at=dt.datetime.now(dt.UTC),
        size=staged.size,
        sha256=staged.sha256,
        content_type="application/pdf" if entry.format is DocumentFormat.pdf else "text/html",
        path=entry.filename,
    )
    _write_record(settings, record)
    return FetchOutcome(
        doc_id=entry.id,
        status="copied",
        message=f"{_human(staged.size)} from {source}",
        record=record,
    )


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


# --- files ---------------------------------------------------------------------------------


def _stage(
    chunks: Iterable[bytes], *, directory: Path, name: str, max_bytes: int, doc_id: str
) -> _Staged:
    """Return the chunks written to an fsynced temp file beside `name` (removed on any error)."""
    # Remove leftovers of a run that was killed mid-download.
    for stale in directory.glob(f".{name}.*.part"):
        stale.unlink(missing_ok=True)
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    with tempfile.NamedTemporaryFile(
        dir=directory, prefix=f".{name}.", suffix=".part", delete=False
    ) as handle:
        path = Path(handle.name)
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(doc_id, _too_big(size, max_bytes, "the download exceeded"))
                digest.update(chunk)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return _Staged(path=path, size=size, sha256=digest.hexdigest(), head=bytes(head))


def _write_record(settings: Settings, record: FetchRecord) -> None:
    """Write the record JSON atomically: temp file, fsync, rename."""
    target = _record_path(settings, record.doc_id)
    data = record.model_dump_json(indent=2).encode("utf-8")
    staged = _stage(
        [data],
        directory=settings.cache_dir,
        name=target.name,
        max_bytes=len(data),
        doc_id=record.doc_id,
    )
    try:
        os.replace(staged.path, target)
        _fsync_dir(settings.cache_dir)
    finally:
        staged.path.unlink(missing_ok=True)


def _cache_intact(settings: Settings, entry: ManifestEntry, record: FetchRecord | None) -> bool:
    """Return whether the cached file exists and still has the bytes its record describes."""
    path = cached_path(settings, entry)
    if record is None or not path.is_file() or path.stat().st_size != record.size:
        return False
    return _sha256_file(path) == record.sha256


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _read_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- checks and messages -------------------------------------------------------------------


def _check_content(entry: ManifestEntry, head: bytes, size: int, *, origin: str) -> None:
    """Raise FetchError when the bytes are empty or not the format the manifest claims."""
    if size == 0:
        raise FetchError(entry.id, f"empty file from {origin}")
    is_pdf = b"%PDF-" in head[:PDF_MAGIC_WINDOW]
    if entry.format is DocumentFormat.pdf and not is_pdf:
        if HTML_MARKER.search(head):
            raise FetchError(
                entry.id,
                f"got an HTML page, not a PDF, from {origin} (often an error, login or cookie "
                f"page): open it in a browser, save the PDF as {entry.filename} and use --mirror",
            )
        raise FetchError(entry.id, f"not a PDF (no %PDF- header in the first bytes) from {origin}")
    if entry.format is DocumentFormat.html:
        if is_pdf:
            raise FetchError(entry.id, f"got a PDF where an HTML page was expected, from {origin}")
        if b"\x00" in head or not HTML_MARKER.search(head):
            raise FetchError(entry.id, f"not an HTML page (binary or no HTML tags) from {origin}")


def _check_pin(entry: ManifestEntry, sha256: str) -> None:
    if entry.sha256 is not None and sha256 != entry.sha256:
        raise FetchError(
            entry.id,
            f"sha256 {sha256} does not match the manifest pin {entry.sha256}: the file changed "
            "upstream or is a different edition. Check it, then update or remove `sha256`.",
        )


def _problem(
    entry: ManifestEntry,
    reason: str,
    *,
    hint: str | None = None,
    status: Literal["failed", "skipped"] = "failed",
    offline: bool = False,
) -> FetchOutcome:
    """Return a failed (or skipped) outcome; its message starts with the id and ends with `hint`."""
    reason = reason.removeprefix(f"{entry.id}: ")
    message = f"{entry.id}: {reason}" + (f": {hint}" if hint else "")
    return FetchOutcome(
        doc_id=entry.id, status=status, message=message, reason=reason, offline=offline
    )


def _by_hand(entry: ManifestEntry) -> str:
    """Return how to fetch this document without the network."""
    return (
        f"{_where_to_get(entry)}, save it as {entry.filename} in a folder "
        "and rerun with --mirror FOLDER"
    )


def _where_to_get(entry: ManifestEntry) -> str:
    page = entry.landing_page or entry.url
    return f"download it from {page}" if page else "get the file from its publisher"


def _too_big(size: int, max_bytes: int, what: str) -> str:
    return (
        f"too large: {what} {_human(size)}, over the {_human(max_bytes)} cap "
        "(raise IGA_MAX_BYTES if the document really is this large)"
    )


def _human(size: int) -> str:
    """Return a size in decimal units, as the command line shows them."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"
