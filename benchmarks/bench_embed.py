"""Embedding backends: speed, agreement with fp32 and dense retrieval quality on the dev set.

    python -m benchmarks.bench_embed [--backends torch-fp32,torch-bf16,...] [--threads 1] [--quick]

Backends: torch-fp32, torch-bf16 (the default), torch-int8 (dynamic quantisation of the Linear
layers, one scale per weight matrix), torch-int8-pc (one scale per output channel, and each
layer's feed-forward output projection left in fp32: the variant that kept embeddings closest to
fp32 on an AVX2 CPU), onnx-fp32 and onnx-int8 (the model exported with torch.onnx and run by onnxruntime;
int8 by onnxruntime's dynamic quantisation, per channel). The ONNX ones need
`pip install onnx onnxruntime`; they are skipped, with the reason recorded, when it is absent.
sentence-transformers' own backend="onnx" needs optimum-onnx, whose only release requires
transformers<4.58 while sentence-transformers 6.2 requires transformers>=5: they cannot be
installed together, hence the export here.

For each backend: every passage of the shared corpus is embedded (passages/s at the real
lengths, length-sorted batches of 32), single queries are timed, embeddings are compared with
fp32 (cosine), and the dev questions are searched with exact inner product over that backend's
vectors (page recall@5, MRR@10 and document recall@5, from assistant/metrics.py), with queries
encoded by the backend itself and, as the product does whatever the passages' dtype (index/bert.py),
by the first backend (fp32). Speed is also given per CPU second of this process, steadier than
wall time on a shared machine. `batch_cosine_min` compares each of the first 32 passages embedded
alone with the same passage embedded in a batch: below 1, a text's vector depends on the texts
it was batched with (dynamic int8 takes one activation scale per batch), so the content-keyed
vector cache would keep vectors that another run would compute differently.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    DEV_QUESTIONS,
    arguments,
    ensure_index,
    summarise,
    time_each,
    write_result,
)

BACKENDS = ("torch-fp32", "torch-bf16", "torch-int8", "torch-int8-pc", "onnx-fp32", "onnx-int8")
BATCH = 32

Encode = Callable[[Sequence[str]], np.ndarray]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--threads", type=int, default=1, help="torch/onnxruntime threads.")
    args = parser.parse_args()
    if args.quick:
        args.backends = "torch-fp32,torch-bf16"

    import torch

    from index.retrieve import SearchIndex
    from ingest.chunk import embedding_text

    # The corpus's passages (as embedded by the build) and the dev questions.
    settings = ensure_index(args.results / "data", args.corpus)
    index = SearchIndex.load(settings)
    torch.set_num_threads(args.threads)
    passages = [index.passage(row) for row in range(index.size)]
    texts = [embedding_text(p) for p in passages]
    questions = _dev_questions()[: 12 if args.quick else None]
    lengths = [len(ids) for ids in index.embedder.model.tokenizer(texts)["input_ids"]]
    print(
        f"{len(texts)} passages (median {int(np.median(lengths))} tokens), "
        f"{len(questions)} answerable dev questions, {args.threads} thread(s)"
    )

    results: dict[str, Any] = {}
    reference: np.ndarray | None = None
    reference_queries: np.ndarray | None = None
    for name in args.backends.split(","):
        try:
            encode = _backend(name, index.embedder.spec, threads=args.threads)
        except Exception as exc:  # a backend that cannot run here is reported, not fatal
            reason = str(exc).splitlines()[0][:300]
            results[name] = {"skipped": f"{type(exc).__name__}: {reason}"}
            print(f"{name:<11} skipped: {results[name]['skipped']}")
            continue
        batched = encode(texts[:BATCH])
        alone = np.concatenate([encode([text]) for text in texts[:BATCH]])
        started, cpu_started = time.perf_counter(), time.process_time()
        vectors = encode(texts)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        query_vectors = encode([q.question for q in questions])
        if reference is None or reference_queries is None:
            reference, reference_queries = vectors, query_vectors
        cosine = np.sum(vectors * reference, axis=1)
        results[name] = {
            "passages_per_s": round(len(texts) / seconds, 2),
            "passages_per_cpu_s": round(len(texts) / cpu_seconds, 2),
            "query": summarise(time_each(lambda q, e=encode: e([q.question]), questions)),
            "cosine_to_fp32_mean": round(float(cosine.mean()), 5),
            "cosine_to_fp32_p5": round(float(np.percentile(cosine, 5)), 5),
            "cosine_to_fp32_min": round(float(cosine.min()), 5),
            "batch_cosine_min": round(float(np.sum(batched * alone, axis=1).min()), 5),
            **_retrieval(vectors, query_vectors, passages, questions),
            "fp32_queries": _retrieval(vectors, reference_queries, passages, questions),
        }
        row = results[name]
        print(
            f"{name:<13} {row['passages_per_s']:6.1f} passages/s ({row['passages_per_cpu_s']:5.1f} "
            f"per CPU s)  query p50 {row['query']['p50_ms']:5.1f} ms  cos "
            f"{row['cosine_to_fp32_mean']:.4f} (p5 {row['cosine_to_fp32_p5']:.4f}, min "
            f"{row['cosine_to_fp32_min']:.4f}, batched/alone {row['batch_cosine_min']:.4f})  "
            f"page R@5 {row['page_recall_at_5']:.3f}  MRR@10 {row['page_mrr_at_10']:.3f}  "
            f"doc R@5 {row['doc_recall_at_5']:.3f}  (fp32 queries: "
            f"{row['fp32_queries']['page_recall_at_5']:.3f} / "
            f"{row['fp32_queries']['page_mrr_at_10']:.3f})"
        )
    write_result(
        f"embed-{args.threads}thread",
        {"passages": len(texts), "tokens_median": float(np.median(lengths)), "backends": results},
        options=vars(args),
        folder=args.results,
    )


def _dev_questions() -> list[Any]:
    from assistant.questions import load_question_set

    return [q for q in load_question_set(DEV_QUESTIONS).questions if q.expected]


def _retrieval(
    vectors: np.ndarray, query_vectors: np.ndarray, passages: list[Any], questions: list[Any]
) -> dict[str, float]:
    """Return page recall@5, page MRR@10 and document recall@5 of exact dense search."""
    import faiss

    from assistant.metrics import mrr_at_k, recall_at_k

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    rows = index.search(query_vectors, 10)[1]
    ranked = [[passages[r] for r in found if r >= 0] for found in rows]
    pairs = list(zip(ranked, questions, strict=True))
    return {
        "page_recall_at_5": round(
            float(np.mean([recall_at_k(h, q.expected, 5, "page") for h, q in pairs])), 4
        ),
        "page_mrr_at_10": round(
            float(np.mean([mrr_at_k(h, q.expected, 10, "page") for h, q in pairs])), 4
        ),
        "doc_recall_at_5": round(
            float(np.mean([recall_at_k(h, q.expected, 5, "document") for h, q in pairs])), 4
        ),
    }


def _backend(name: str, spec: Any, *, threads: int) -> Encode:
    """Return a function embedding texts (normalised float32 rows) with the named backend."""
    import torch
    from sentence_transformers import SentenceTransformer

    if name.startswith("torch-"):
        dtype = torch.bfloat16 if name == "torch-bf16" else torch.float32
        model = SentenceTransformer(
            str(spec.path), device="cpu", local_files_only=True, model_kwargs={"dtype": dtype}
        )
        if name in ("torch-int8", "torch-int8-pc"):
            model = _quantised(model, per_channel=name == "torch-int8-pc")
        elif name not in ("torch-fp32", "torch-bf16"):
            raise ValueError(f"unknown backend {name}")

        def encode(texts: Sequence[str]) -> np.ndarray:
            vectors = model.encode(
                list(texts), batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True
            )
            return np.asarray(vectors, dtype=np.float32)

        return encode
    if name in ("onnx-fp32", "onnx-int8"):
        return _onnx_backend(spec, quantised=name == "onnx-int8", threads=threads)
    raise ValueError(f"unknown backend {name}")


def _quantised(model: Any, *, per_channel: bool) -> Any:
    """Return the model with its Linear layers quantised to int8 (dynamic activations).

    torch.ao.quantization is deprecated in torch 2.13 for torchao, but torchao 0.18's
    Int8DynamicActivationInt8WeightConfig (closer to fp32: cosine >= 0.995) ran 23x slower than
    fp32 in eager mode on an AVX2 CPU, while the fbgemm kernels behind quantize_dynamic work.
    per_channel: a scale per output channel, and the feed-forward output projections (whose
    inputs, after GELU, have the widest range) left in fp32.
    """
    import torch
    from torch.ao.quantization import (
        default_dynamic_qconfig,
        per_channel_dynamic_qconfig,
        quantize_dynamic,
    )

    if not per_channel:
        return quantize_dynamic(
            model, {torch.nn.Linear: default_dynamic_qconfig}, dtype=torch.qint8
        )
    chosen = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and not (name.endswith("output.dense") and ".attention." not in name)
    }
    return quantize_dynamic(model, chosen, dtype=torch.qint8)


def _onnx_backend(spec: Any, *, quantised: bool, threads: int) -> Encode:
    """Return an encoder running the model exported to ONNX (optionally int8) in onnxruntime."""
    import onnxruntime
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
    tokenizer, bert = model.tokenizer, model[0].auto_model.eval()
    max_length = model.max_seq_length
    folder = Path(tempfile.mkdtemp(prefix="iga-onnx-"))
    path = folder / "model.onnx"
    sample = tokenizer(["an example passage"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}

    class Encoder(torch.nn.Module):
        """BERT's last hidden state, with positional inputs for the exporter."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    torch.onnx.export(
        Encoder(),
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(path),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "tokens"}},
        opset_version=17,
        dynamo=False,
    )
    if quantised:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantised_path = folder / "model-int8.onnx"
        quantize_dynamic(path, quantised_path, weight_type=QuantType.QInt8, per_channel=True)
        path = quantised_path
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(texts: Sequence[str]) -> np.ndarray:
        # Length-sorted batches, as sentence-transformers does, to pad as little as possible.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), bert.config.hidden_size), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chosen = order[start : start + BATCH]
            batch = tokenizer(
                [texts[i] for i in chosen],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="np",
            )
            hidden = session.run(None, {n: batch[n].astype(np.int64) for n in names})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[chosen] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    return encode


if __name__ == "__main__":
    main()
