"""Encodes texts with a BERT sentence model in numpy: a one-off question without the wait.

Importing sentence-transformers takes most of `iga ask`'s time (it pulls in transformers and
scikit-learn: ~6 s of CPU on this project's machine) and torch another ~2 s, for one query
vector. A BERT model with mean pooling and normalisation, as all-MiniLM-L6-v2 and the bge/e5
families are, is a few matrix products over its safetensors weights and its tokenizer.json.
`BertEncoder.load` returns None for any other model, which then loads through
sentence-transformers as before. It computes in float32, whatever the index's dtype: against
sentence-transformers in float32 its vectors agree to cosine 1.0000 (tests/test_bert.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

# erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7): numpy has none, and GELU needs it.
ERF_P = 0.3275911
ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    t = 1.0 / (1.0 + ERF_P * np.abs(x))
    poly = t * (ERF_A[0] + t * (ERF_A[1] + t * (ERF_A[2] + t * (ERF_A[3] + t * ERF_A[4]))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0, dtype=np.float32)))


class BertEncoder:
    """A loaded BERT encoder: texts -> mean-pooled, normalised vectors (float32)."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, Any], tokenizer: Any):
        self.weights = weights
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = tokenizer
        self.dimension = int(config["hidden_size"])

    @classmethod
    def load(cls, folder: Path, *, max_length: int) -> BertEncoder | None:
        """Return the encoder of a local sentence-transformers BERT folder, or None if it is not one."""
        modules_file, pooling_file = folder / "modules.json", folder / "1_Pooling" / "config.json"
        needed = [folder / n for n in ("config.json", "tokenizer.json", "model.safetensors")]
        if not all(p.is_file() for p in [modules_file, pooling_file, *needed]):
            return None
        config = json.loads((folder / "config.json").read_text())
        modules = [m.get("type", "") for m in json.loads(modules_file.read_text())]
        pooling = json.loads(pooling_file.read_text())
        other_pooling = any(
            value
            for key, value in pooling.items()
            if key.startswith("pooling_mode_") and key != "pooling_mode_mean_tokens"
        )
        if (
            config.get("model_type") != "bert"
            or config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
            or [m.rsplit(".", 1)[-1] for m in modules] != ["Transformer", "Pooling", "Normalize"]
            or not pooling.get("pooling_mode_mean_tokens")
            or other_pooling
        ):
            return None

        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        # Linear weights are stored transposed (x @ W), so each product reads memory in order.
        weights = {}
        for name, tensor in load_file(str(folder / "model.safetensors")).items():
            name = name.removeprefix("bert.")
            linear = name.startswith("encoder.") and tensor.ndim == 2
            weights[name] = np.ascontiguousarray(tensor.T if linear else tensor, dtype=np.float32)
        if "embeddings.word_embeddings.weight" not in weights:
            return None
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.enable_padding()
        return cls(weights, config, tokenizer)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """Return one normalised vector per text (rows of a float32 matrix)."""
        from threadpoolctl import threadpool_limits

        rows = []
        # One BLAS thread: these products are small, and OpenBLAS's threads, spinning on a
        # busy two-core machine, made them 15-150x slower.
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(texts), batch_size):
                encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
                ids = np.array([e.ids for e in encodings])
                mask = np.array([e.attention_mask for e in encodings])
                types = np.array([e.type_ids for e in encodings])
                rows.append(self._forward(ids, mask, types))
        return np.ascontiguousarray(np.concatenate(rows), dtype=np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Return the pooled, normalised vectors of a batch of token ids."""
        w = self.weights

        def linear(x: np.ndarray, name: str) -> np.ndarray:
            flat = x.reshape(-1, x.shape[-1]) @ w[f"{name}.weight"] + w[f"{name}.bias"]
            return flat.reshape(*x.shape[:-1], flat.shape[-1])

        def norm(x: np.ndarray, name: str) -> np.ndarray:
            mean = x.mean(axis=-1, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
            return (x - mean) / np.sqrt(var + self.eps) * w[f"{name}.weight"] + w[f"{name}.bias"]

        # Embeddings: token + position + segment, normalised.
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = norm(x, "embeddings.LayerNorm")

        # The encoder layers: self-attention over the unpadded tokens, then the feed-forward.
        hidden = x.shape[-1]
        size = hidden // self.heads
        padding = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(self.layers):
            prefix = f"encoder.layer.{i}"
            # Contiguous heads: numpy multiplies strided stacks without BLAS, 100x slower.
            q, k, v = (
                np.ascontiguousarray(
                    linear(x, f"{prefix}.attention.self.{n}")
                    .reshape(batch, length, self.heads, size)
                    .transpose(0, 2, 1, 3)
                )
                for n in ("query", "key", "value")
            )
            keys = np.ascontiguousarray(k.transpose(0, 1, 3, 2))
            scores = q @ keys / np.sqrt(size, dtype=np.float32) + padding
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = norm(
                linear(attended, f"{prefix}.attention.output.dense") + x,
                f"{prefix}.attention.output.LayerNorm",
            )
            inner = _gelu(linear(x, f"{prefix}.intermediate.dense"))
            x = norm(linear(inner, f"{prefix}.output.dense") + x, f"{prefix}.output.LayerNorm")

        # Mean over the real tokens, then unit length.
        weights = mask[:, :, None].astype(np.float32)
        pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
