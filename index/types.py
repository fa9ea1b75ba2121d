"""The records the index stage hands on: index metadata, search filters and search hits."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from ingest.types import ManifestEntry, Passage


class Mode(StrEnum):
    dense = "dense"
    bm25 = "bm25"
    hybrid = "hybrid"


class ModelInfo(BaseModel):
    """The embedding model an index was built with; queries must use the same."""

    name: str
    sha256: str | None = Field(description="sha256 of the weights file, when one was found.")
    dimension: int
    dtype: str


class IndexedDocument(BaseModel):
    """A document as the index knows it: its manifest entry plus what was indexed of it."""

    entry: ManifestEntry
    sha256: str
    pages: int
    passages: int
    empty_pages: list[int] = Field(default_factory=list)
    fetched_at: dt.datetime | None = None
    source_url: str | None = Field(default=None, description="Final URL it was fetched from.")
    file_url: str | None = Field(
        default=None,
        description="The official file: the manifest's url, or the link found on its landing "
        "page (after redirects).",
    )
    previous_sha256: str | None = Field(
        default=None, description="sha256 of the version this one replaced, if it was updated."
    )
    updated_at: dt.datetime | None = Field(
        default=None, description="When a new version of the file replaced the previous one."
    )

    @property
    def official_url(self) -> str | None:
        """The URL to cite: the manifest's url, else the file found on the landing page."""
        return self.entry.url or self.file_url


class Calibration(BaseModel):
    """The not-covered threshold, calibrated by `iga eval --calibrate` and kept with the index."""

    threshold: float = Field(description="Confidence below which: not covered.")
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weights of the evidence signals added to the dense cosine (none: dense only).",
    )
    question_set: str
    calibrated_at: dt.datetime
    answered_rate: float
    declined_rate: float


# Bump when the files of an index version change shape: a build then rewrites a served version
# of an older format, and a reader refuses one with a clear message.
INDEX_FORMAT = 2


class IndexMeta(BaseModel):
    """Everything a reader needs to trust an index version: model, documents, sizes, stores."""

    format: int = Field(default=1, description="Layout of the version's files (INDEX_FORMAT).")
    version: str
    created_at: dt.datetime
    model: ModelInfo
    documents: dict[str, IndexedDocument]
    failures: dict[str, str] = Field(default_factory=dict, description="doc id -> last error.")
    passages: int
    dense_kind: str = Field(description="'flat' (exact) or 'hnsw' (approximate).")
    chunking: dict[str, str | int]
    build_seconds: float = 0.0
    build_stages: dict[str, float] = Field(
        default_factory=dict, description="Wall seconds per build stage (index/build.py STAGES)."
    )
    calibration: Calibration | None = None


class SearchFilters(BaseModel):
    """Restricts a search to some documents, publishers or publication years (inclusive)."""

    doc_ids: list[str] | None = None
    publishers: list[str] | None = None
    year_from: int | None = None
    year_to: int | None = None

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.publishers or self.year_from or self.year_to)


class Hit(BaseModel):
    """One retrieved passage with its document and how each retriever ranked it."""

    passage: Passage
    document: IndexedDocument
    score: float = Field(description="Fused (RRF) score in hybrid mode, else the retriever's.")
    dense_score: float | None = Field(default=None, description="Cosine similarity to the query.")
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None
    rank: int = 0
    row: int = Field(default=-1, description="The passage's row in the index version.")
