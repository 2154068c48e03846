"""BM25 top k from the postings: exactly the top k of scoring every passage, at any size."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qa.store import postings


def _collection(rng, *, passages: int, vocabulary: int, segments: int):
    """Zipf-distributed passages cut into segments: per (term, segment) the postings rows, and
    each passage's term counts and length (for a brute-force reference)."""
    lengths = rng.integers(20, 160, passages)
    counts: list[dict[int, int]] = []
    for n in lengths:
        words = np.minimum(rng.zipf(1.15, n), vocabulary) - 1
        found, tf = np.unique(words, return_counts=True)
        counts.append(dict(zip(found.tolist(), tf.tolist())))
    bounds = np.linspace(0, passages, segments + 1).astype(int)
    rows: dict[int, list] = {}
    for a, b in itertools.pairwise(bounds):
        per_term: dict[int, tuple[list, list, list]] = {}
        for pid in range(a, b):
            for term, tf in counts[pid].items():
                slot = per_term.setdefault(term, ([], [], []))
                slot[0].append(pid), slot[1].append(tf), slot[2].append(int(lengths[pid]))
        for term, (ids, tfs, lens) in per_term.items():
            rows.setdefault(term, []).append(
                (
                    term,
                    np.asarray(ids, "<u4").tobytes(),
                    np.asarray(tfs, "<u2").tobytes(),
                    np.asarray(lens, "<u2").tobytes(),
                )
            )
    df = np.zeros(vocabulary, np.int64)
    for c in counts:
        df[list(c)] += 1
    return rows, counts, lengths, df


def _brute_force(counts, lengths, query, mean, deleted, allowed):
    scores = np.zeros(len(counts), np.float64)
    held = np.zeros(len(counts), dtype=bool)
    for pid, c in enumerate(counts):
        for term, weight in query:
            tf = c.get(term, 0)
            if tf:
                held[pid] = True
                scores[pid] += weight * tf / (tf + postings.K1 * (1 - postings.B + postings.B * lengths[pid] / mean))
    held[deleted] = False
    if allowed is not None:
        outside = np.ones(len(counts), dtype=bool)
        outside[allowed] = False
        held[outside] = False
    return scores, held


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruned_top_k_equals_scoring_every_passage(seed):
    rng = np.random.default_rng(seed)
    rows, counts, lengths, df = _collection(rng, passages=4000, vocabulary=3000, segments=7)
    fetched: list[int] = []

    def fetch(term_ids):
        fetched.extend(term_ids)
        return [r for t in sorted(term_ids) for r in rows.get(t, [])]

    mean = float(lengths.mean())
    deleted = np.sort(rng.choice(len(counts), 300, replace=False))
    checked = 0
    for trial in range(40):
        # questions mix very common terms (ids near 0 under Zipf) with rare ones, a term repeated at times
        size = int(rng.integers(1, 7))
        chosen = np.unique(np.concatenate([rng.integers(0, 8, size // 2 + 1), rng.integers(8, 3000, size)]))
        query = [
            (int(t), int(rng.integers(1, 3)) * postings.bm25_idf(len(counts), int(df[t])), int(df[t]), f"t{t}")
            for t in chosen
            if df[t]
        ]
        allowed = np.sort(rng.choice(len(counts), 1800, replace=False)) if trial % 4 == 3 else None
        for k in (1, 10, 100):
            gone = deleted if trial % 2 else np.zeros(0, np.int64)
            kw = dict(mean_length=mean, deleted=gone, allowed=allowed)
            ids, scores = postings.search(fetch, query, k, **kw)
            every_ids, every_scores = postings.search(fetch, query, k, prune=False, **kw)
            assert ids.tolist() == every_ids.tolist()
            assert scores.tolist() == every_scores.tolist()
            reference, held = _brute_force(counts, lengths, [(t, w) for t, w, _, _ in query], mean, gone, allowed)
            expected = np.flatnonzero(held)
            expected = expected[np.lexsort((expected, -reference[expected].astype(np.float32)))][:k]
            assert len(ids) == len(expected) == min(k, int(held.sum()))
            np.testing.assert_allclose(scores, reference[ids], rtol=1e-6)
            # the same scores in the same order (ids may differ only where scores tie)
            np.testing.assert_allclose(np.sort(scores), np.sort(reference[expected].astype(np.float32)), rtol=1e-6)
            checked += 1
    assert checked == 120


def test_pruning_stops_taking_new_passages_from_common_terms():
    """With a rare and a very common term, the common one only rescores what the rare one found:
    the pruned search merges far fewer passages than scoring every one (counted by its output's
    inputs: every passage holding the common term would otherwise be scored)."""
    rng = np.random.default_rng(5)
    rows, counts, lengths, df = _collection(rng, passages=6000, vocabulary=3000, segments=3)
    common, rare = 0, int(np.flatnonzero((df > 20) & (df < 60))[0])
    query = [(t, postings.bm25_idf(len(counts), int(df[t])), int(df[t]), f"t{t}") for t in (common, rare)]
    assert df[common] > 3000
    sizes = []
    real_unique = np.unique

    def counting_unique(values, **kw):
        sizes.append(len(values))
        return real_unique(values, **kw)

    def fetch(term_ids):
        return [r for t in sorted(term_ids) for r in rows.get(t, [])]

    mean = float(lengths.mean())
    np.unique = counting_unique
    try:
        ids, _ = postings.search(fetch, query, 10, mean_length=mean, deleted=np.zeros(0, np.int64))
    finally:
        np.unique = real_unique
    every, _ = postings.search(fetch, query, 10, mean_length=mean, deleted=np.zeros(0, np.int64), prune=False)
    assert ids.tolist() == every.tolist()
    assert max(sizes) < df[rare] + 1  # the common term's passages were never merged in
