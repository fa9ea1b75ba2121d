"""The records that cross the ingest stage: manifest entries, fetch records, pages and passages."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DocumentFormat(StrEnum):
    pdf = "pdf"
    html = "html"


class ManifestEntry(BaseModel):
    """One document the product serves, as listed in `corpus_manifest.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Slug; also the cached file's name (<id>.pdf or <id>.html).")
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    published: dt.date
    format: DocumentFormat
    url: str | None = Field(default=None, description="Official download (PDF or HTML page).")
    landing_page: str | None = Field(
        default=None,
        description="The page that links the file. Without `url`, fetch reads this page and "
        "downloads the linked file that matches the title (an HTML entry's page is the file).",
    )
    link_text: str | None = Field(
        default=None, description="Hint for hub pages: words the right link's text contains."
    )
    link_pattern: str | None = Field(
        default=None, description="Hint for hub pages: a regular expression the file URL matches."
    )
    download: Literal["direct", "manual"] = Field(
        default="direct",
        description="'manual' when the file cannot be fetched automatically: fetch then tells "
        "the user to download it from the landing page and use --mirror.",
    )
    sha256: str | None = Field(default=None, description="Pin: fetch rejects other bytes.")
    superseded_by: str | None = Field(default=None, description="Manifest id or free text.")
    topics: list[str] = Field(default_factory=list)
    uploaded_at: dt.datetime | None = Field(
        default=None,
        description="Set for documents added in the app: fetch takes the file from the uploads "
        "folder in the data dir.",
    )
    examples: list[str] = Field(
        default_factory=list, description="Questions this document answers, shown in the app."
    )
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(
                "must be a lowercase slug (letters, digits, '.', '_', '-'), e.g. 'girft-radiology-2020'"
            )
        return value

    @field_validator("sha256")
    @classmethod
    def _sha(cls, value: str | None) -> str | None:
        if value is not None and not SHA256.match(value.lower()):
            raise ValueError("must be 64 hexadecimal characters")
        return value.lower() if value else value

    @field_validator("url", "landing_page")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("link_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @property
    def filename(self) -> str:
        """The cached file's name: `<id>.pdf` or `<id>.html`."""
        return f"{self.id}.{self.format.value}"

    @property
    def has_download_url(self) -> bool:
        """Whether fetch can get the file from the network (directly or via its page)."""
        return self.download == "direct" and (self.url or self.landing_page) is not None

    @property
    def source_url(self) -> str | None:
        """The URL fetch requests first: the file itself, else the page that links it."""
        return self.url or self.landing_page


class Manifest(BaseModel):
    """The list of documents; ids are unique."""

    model_config = ConfigDict(extra="forbid")

    documents: list[ManifestEntry]

    @model_validator(mode="after")
    def _unique_ids(self) -> Manifest:
        seen: set[str] = set()
        for entry in self.documents:
            if entry.id in seen:
                raise ValueError(f"document id {entry.id!r} appears more than once")
            seen.add(entry.id)
        return self

    def get(self, doc_id: str) -> ManifestEntry:
        """The entry with this id (KeyError when absent)."""
        for entry in self.documents:
            if entry.id == doc_id:
                return entry
        raise KeyError(doc_id)


class FetchRecord(BaseModel):
    """What fetch knows of one cached file: where it came from and what its bytes are."""

    doc_id: str
    source: Literal["network", "mirror"]
    url: str | None
    final_url: str | None
    fetched_at: dt.datetime
    size: int
    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    path: str = Field(description="File name inside the cache directory.")
    landing_page: str | None = Field(
        default=None, description="The page the file's link was found on (after redirects)."
    )
    page_etag: str | None = None
    page_last_modified: str | None = None


class Heading(BaseModel):
    """A section heading found on a page, with its offset in the cleaned page text."""

    start: int
    text: str
    level: int = 1


class Page(BaseModel):
    """One page's cleaned text. `number` is the 1-based physical page, as a PDF viewer counts."""

    number: int
    label: str | None = Field(default=None, description="Printed page label, where it differs.")
    text: str
    headings: list[Heading] = Field(default_factory=list)
    kind: Literal["content", "contents", "empty"] = "content"


class ExtractedDocument(BaseModel):
    """A document's pages after extraction and cleaning."""

    doc_id: str
    sha256: str
    pages: list[Page]
    seconds: float = 0.0
    parse_seconds: float = Field(default=0.0, description="Of `seconds`, reading and parsing.")
    warnings: list[str] = Field(default_factory=list)

    @property
    def empty_pages(self) -> list[int]:
        """Pages with no text layer (e.g. scanned): not searchable."""
        return [p.number for p in self.pages if p.kind == "empty"]

    @property
    def contents_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.kind == "contents"]


class PageSpan(BaseModel):
    """Where a passage's text lies in one page's cleaned text: [start, end)."""

    page: int
    start: int
    end: int


class Passage(BaseModel):
    """A retrievable unit of text that remembers its document, pages and section."""

    id: str
    doc_id: str
    ordinal: int
    first_page: int
    last_page: int
    section: str | None
    text: str
    spans: list[PageSpan]
    n_tokens: int


class IngestRecord(BaseModel):
    """What ingest made of one document: written last, so its presence means the rest is whole."""

    doc_id: str
    sha256: str = Field(description="sha256 of the source file the passages came from.")
    pages: int
    empty_pages: list[int] = Field(default_factory=list)
    contents_pages: list[int] = Field(default_factory=list)
    passages: int
    seconds: float
    warnings: list[str] = Field(default_factory=list)
    chunking: dict[str, str | int] = Field(
        description="Model and sizes the passages were cut for; a change re-cuts them."
    )
    ingested_at: dt.datetime
