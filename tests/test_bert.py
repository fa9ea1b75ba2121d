"""The numpy BERT encoder that `iga ask` uses gives sentence-transformers' vectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.bert import BertEncoder
from index.embed import Embedder
from ingest.tokens import resolve_model

TEXTS = [
    "Who chairs the imaging network board?",
    "CDC",
    "No examination should take longer than four weeks to be reported. " * 40,  # truncated
]


@pytest.fixture(scope="module")
def spec():
    return resolve_model("all-MiniLM-L6-v2")


def test_vectors_match_sentence_transformers_float32(spec):
    encoder = BertEncoder.load(spec.path, max_length=spec.max_seq_length)
    assert encoder is not None
    mine = encoder.encode(TEXTS)
    theirs = Embedder(spec, dtype="float32").encode_passages(TEXTS)  # no passage prefix here
    assert mine.shape == theirs.shape == (3, 384)
    np.testing.assert_allclose((mine * theirs).sum(axis=1), 1.0, atol=1e-5)


def test_light_embedder_ranks_like_the_index_model(spec):
    light = Embedder(spec, dtype="bfloat16", light=True)
    assert light.bert is not None
    full = Embedder(spec, dtype="bfloat16")
    passages = full.encode_passages(TEXTS)
    for query in ("Who chairs the board?", "maximum reporting time"):
        assert np.argmax(passages @ light.encode_query(query)) == np.argmax(
            passages @ full.encode_query(query)
        )


def test_a_model_that_is_not_bert_with_mean_pooling_is_left_to_sentence_transformers(
    spec, tmp_path: Path
):
    folder = tmp_path / "model"
    shutil.copytree(spec.path, folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(
        json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    assert BertEncoder.load(folder, max_length=256) is None
