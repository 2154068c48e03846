"""The self-supervised weight fitting in bench/tune.py: pseudo-questions must not find themselves verbatim."""

import importlib
import sys
from pathlib import Path

import numpy as np

from qa.lexical import tokenize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
tune = importlib.import_module("tune")


def test_pseudo_questions_leave_their_sentence_out(fake_assistant):
    cases = tune.pseudo_cases(fake_assistant, n=12, seed=1)
    assert len(cases) == 12
    retriever, store = fake_assistant.retriever, fake_assistant.store
    for case in cases:
        f = case.features
        j = int(np.flatnonzero(f.rows == case.row)[0])
        passage = store.passages[case.row]
        # one sentence fewer for the answer passage, none fewer elsewhere
        assert f.counts[j] == len(passage.sentences) - 1
        assert f.counts.sum() == len(f.s_dense) == sum(len(store.passages[r].sentences) for r in f.rows) - 1
        # the sentence is no longer in the answer passage's text signals
        assert case.question in passage.text
        query = tokenize(case.question)
        assert f.bm25[j] < store.lexical.scores(query)[case.row]
        assert f.coverage[j] <= store.lexical.coverage(query)[case.row]
    # the fitted objective runs through the live ranking code and stays a proper score
    score = tune.pseudo_ndcg(cases, retriever, retriever.config)
    assert 0.0 < score <= 1.0


def test_bm25_of_a_text_matches_the_index(fake_assistant):
    store = fake_assistant.store
    tokens = [tokenize(p.text) for p in store.passages]
    mean = float(np.mean([len(t) for t in tokens]))
    query = tokenize("prisoner exchange Istanbul delegation")
    expected = store.lexical.scores(query)
    got = [tune._bm25(store.lexical, query, t, mean) for t in tokens]
    assert np.allclose(got, expected, atol=1e-4)
