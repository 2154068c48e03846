"""The pluggable second stage, tested with a tiny cross-encoder the test builds from a config."""

from __future__ import annotations

import numpy as np
import pytest

from qa import Assistant
from qa.errors import ModelError
from qa.search.rerank import CrossEncoderReranker, standardise

from .conftest import FakeEncoder


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A one-layer BERT sequence classifier over the corpus's words, randomly initialised (seeded)."""
    import re

    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from .conftest import CORPUS

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    words = sorted({w for f in CORPUS.glob("*.txt") for w in re.findall(r"[a-z]+", f.read_text().lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=0.5,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    return path


def test_cross_encoder_scores_each_passage(tiny_cross_encoder, fake_assistant):
    reranker = CrossEncoderReranker(tiny_cross_encoder)
    passages = fake_assistant.passages[:5]
    scores, sentences = reranker.score("what did Lavrov say about a summit", passages)
    assert scores.shape == (5,) and sentences is None
    again, _ = reranker.score("what did Lavrov say about a summit", passages)
    np.testing.assert_allclose(scores, again, rtol=1e-6)
    assert len(set(np.round(scores, 6))) > 1  # the model discriminates between passages


def test_heavy_weight_orders_candidates_by_the_cross_encoder(tiny_cross_encoder, corpus_copy, tmp_path):
    from sentence_transformers import CrossEncoder

    question = "what did Lavrov say about a summit"
    base = Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=FakeEncoder(), progress=False)
    base.quotes_first = False  # the second stage alone: "what did Lavrov say" would put his quotes first
    first = base.ask(question, k=20)
    ranked = Assistant.load(
        corpus=corpus_copy,
        index=tmp_path / "index",
        encoder=FakeEncoder(),
        progress=False,
        rerank=f"cross-encoder:{tiny_cross_encoder}",
        rerank_weight=1000.0,
    )
    ranked.quotes_first = False
    answer = ranked.ask(question, k=5)
    brute = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [(question, h.passage.text) for h in first.hits]
    )
    expected = [first.hits[i].passage.char_start for i in np.argsort(-np.asarray(brute), kind="stable")[:5]]
    assert [h.passage.char_start for h in answer.hits] == expected
    assert all("rerank" in h.signals for h in answer.hits)
    # the abstention model reads the first stage it was calibrated on; the second stage only reorders
    assert expected[:3] != [h.passage.char_start for h in first.hits[:3]]
    assert (answer.answerable, answer.confidence) == (first.answerable, first.confidence)


def test_zero_weight_keeps_the_first_stage_order(tiny_cross_encoder, corpus_copy, tmp_path):
    kwargs = {"corpus": corpus_copy, "index": tmp_path / "index", "encoder": FakeEncoder(), "progress": False}
    plain = Assistant.load(**kwargs).ask("who led the delegation?", k=5)
    reranked = Assistant.load(**kwargs, rerank=f"cross-encoder:{tiny_cross_encoder}", rerank_weight=0.0)
    assert [h.passage.char_start for h in reranked.ask("who led the delegation?", k=5).hits] == [
        h.passage.char_start for h in plain.hits
    ]


def test_missing_cross_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load cross-encoder"):
        CrossEncoderReranker(tmp_path / "nothing-here")


def test_standardise():
    np.testing.assert_allclose(standardise(np.array([1.0, 2.0, 3.0])), [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert not standardise(np.array([2.0, 2.0])).any()
