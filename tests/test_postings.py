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
def test_top_k_is_exactly_the_best_of_scoring_every_passage(seed):
    """Against a brute-force BM25 of every passage: the same top k (no passage left out however
    common the question's terms), the same scores, removed passages and filters honoured."""
    rng = np.random.default_rng(seed)
    rows, counts, lengths, df = _collection(rng, passages=4000, vocabulary=3000, segments=7)

    def fetch(term_ids):
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
        gone = deleted if trial % 2 else np.zeros(0, np.int64)
        reference, held = _brute_force(counts, lengths, [(t, w) for t, w, _, _ in query], mean, gone, allowed)
        for k in (1, 10, 100, 10_000):
            ids, scores = postings.search(fetch, query, k, mean_length=mean, deleted=gone, allowed=allowed)
            assert len(ids) == min(k, int(held.sum())) == len(set(ids.tolist()))
            assert held[ids].all()
            np.testing.assert_allclose(scores, reference[ids], rtol=1e-6)
            assert (np.diff(scores) <= 0).all()  # best first
            left_out = np.flatnonzero(held)
            left_out = left_out[~np.isin(left_out, ids)]
            if len(left_out):  # nothing left out scores above what was kept
                assert reference[left_out].max() <= reference[ids].min() * (1 + 1e-6)
            checked += 1
    assert checked == 160


def test_ties_go_to_the_lower_id_and_k_may_exceed_the_matches():
    """Passages with equal scores are ranked by id, also at the cut; asking for more than match
    gives every match."""
    same = (np.arange(0, 40, 2).astype("<u4"), np.ones(20, "<u2"), np.full(20, 50, "<u2"))
    rows = {7: [(7, same[0].tobytes(), same[1].tobytes(), same[2].tobytes())]}

    def fetch(term_ids):
        return [r for t in sorted(term_ids) for r in rows.get(t, [])]

    query = [(7, 2.0, 20, "t7")]
    ids, scores = postings.search(fetch, query, 5, mean_length=50.0, deleted=np.array([2], np.int64))
    assert ids.tolist() == [0, 4, 6, 8, 10] and len(set(scores.tolist())) == 1
    ids, _ = postings.search(fetch, query, 100, mean_length=50.0, deleted=np.zeros(0, np.int64))
    assert ids.tolist() == list(range(0, 40, 2))
    assert postings.search(fetch, [], 5, mean_length=50.0, deleted=np.zeros(0, np.int64))[0].tolist() == []
