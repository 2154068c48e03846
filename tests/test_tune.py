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
        passage = store.passages_by_id([case.row])[0]
        # one sentence fewer for the answer passage, none fewer elsewhere
        assert f.counts[j] == len(passage.sentences) - 1
        assert f.counts.sum() == len(f.s_dense) == sum(len(p.sentences) for p in store.passages_by_id(f.rows)) - 1
        # the sentence is no longer in the answer passage's text signals
        assert case.question in passage.text
        query = tokenize(case.question)
        whole = [t for i in range(len(passage.sentences)) for t in tokenize(passage.sentence_text(i))]
        assert f.bm25[j] < retriever.bm25_of(query, whole)
        assert f.coverage[j] <= retriever.coverage_of(query, whole)
    # the fitted objective runs through the live ranking code and stays a proper score
    score = tune.pseudo_ndcg(cases, retriever, retriever.config)
    assert 0.0 < score <= 1.0


def test_bm25_of_a_text_matches_the_index(fake_assistant):
    """``Retriever.bm25_of`` of a passage's own tokens gives the score the index search gives it."""
    store, retriever = fake_assistant.store, fake_assistant.retriever
    query = tokenize("prisoner exchange Istanbul delegation")
    ids, scores = store.search_lexical(query, 10)
    for pid, score in zip(ids, scores):
        p = store.passages_by_id([pid])[0]
        tokens = [t for i in range(len(p.sentences)) for t in tokenize(p.sentence_text(i))]
        assert abs(retriever.bm25_of(query, tokens) - score) < 1e-4
