"""The one settings object: defaults, overridden by environment variables (IGA_*) and CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Paths, model and tuning knobs. Passed explicitly to every stage; never a global."""

    model_config = SettingsConfigDict(env_prefix="IGA_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where caches and the index live.")
    manifest: Path = Field(default=Path("corpus_manifest.yaml"))

    # fetch
    timeout_s: float = Field(default=30.0, description="Per-request network timeout.")
    retries: int = Field(default=3, description="Attempts per document for transient failures.")
    max_bytes: int = Field(default=100 * 1024 * 1024, description="Size cap per document.")

    # extract
    extract_timeout_s: float = Field(default=120.0, description="Time limit per document.")

    # chunk (in the embedding model's own word pieces)
    # 256/48 beat 200/40, 160/40 and 128/32 on the dev set's page MRR@10 (see README).
    chunk_tokens: int = Field(
        default=256,
        description="Target passage length in model tokens (capped at the model's limit).",
    )
    chunk_overlap: int = Field(default=48, description="Tokens shared by neighbouring passages.")

    # embed
    model: str = Field(
        default=DEFAULT_MODEL,
        description="'all-MiniLM-L6-v2' (bundled), a sentence-transformers name, or a local path.",
    )
    embed_dtype: str = Field(
        default="auto",
        description="auto (bfloat16 where the CPU computes it natively, else float32), float32 "
        "or bfloat16.",
    )
    embed_batch_size: int = 32
    # Off: it halves embedding time, but 5-6 fewer dev answers held their fact (see README).
    sentences_in_context: bool = Field(
        default=False,
        description="Pool each answer sentence's vector from its passage's pass through the "
        "model (one pass for both) rather than embed every sentence again on its own.",
    )

    # dense store: exact search up to this many passages, HNSW above (see benchmarks/README.md)
    hnsw_threshold: int = 100_000
    # Hybrid fuses each retriever's top `fusion_depth` (at least k): deeper lists let passages
    # ranked middling by both outscore one ranked first by one (dev set page R@5 .90 -> .96).
    fusion_depth: int = 20
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 512
    keep_versions: int = Field(default=2, description="Index versions kept on disk.")

    # serve (see benchmarks/bench_serve.py for how these were chosen)
    serve_concurrency: int = Field(
        default=4, description="Questions one `iga serve` process answers at once; more queue."
    )
    torch_threads: int = Field(
        default=1, description="torch threads per process that searches (one query at a time)."
    )
    index_mmap: bool = Field(
        default=True,
        description="Map the dense vectors and BM25 matrix from disk (shared by every process "
        "serving the data dir) rather than read a private copy into each.",
    )

    @property
    def cache_dir(self) -> Path:
        """Downloaded documents and their fetch records."""
        return self.data_dir / "cache"

    @property
    def passages_dir(self) -> Path:
        """Per-document pages and passages written by ingest."""
        return self.data_dir / "passages"

    @property
    def local_manifest(self) -> Path:
        """Documents added in the app, merged with the official manifest (which is never edited)."""
        return self.data_dir / "local_manifest.yaml"

    @property
    def uploads_dir(self) -> Path:
        """The files of documents added in the app, named `<id>.pdf` / `<id>.html`."""
        return self.data_dir / "uploads"

    @property
    def missing_file(self) -> Path:
        """The documents the last build could not index, where to get them, and file names."""
        return self.data_dir / "missing.txt"

    @property
    def index_root(self) -> Path:
        """Versioned index builds and the pointer to the current one."""
        return self.data_dir / "index"
