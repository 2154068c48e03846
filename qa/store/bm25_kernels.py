"""Compiled loops of the BM25 candidate search (:func:`qa.store.postings.search`), with numba.

Kept apart so that importing the store compiles nothing: numba compiles these on the first
question (about a second) and caches them on disk for later processes.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["add_term", "best"]


@numba.njit(cache=True, nogil=True)
def add_term(scores, touched, count, ids, tfs, lens, weight, fixed, per_token, only_touched):  # pragma: no cover
    """Add one term's BM25 to ``scores[id]`` for each of its postings; ids seen for the first time
    are appended to ``touched`` from ``count`` on, or, with ``only_touched``, skipped. Returns
    the new count.

    ``weight * tf / (tf + fixed + per_token * length)`` is Lucene's BM25 of the term, with
    ``fixed = k1 (1 - b)`` and ``per_token = k1 b / mean length``; it is always above 0, so a
    score of 0 means the id was not touched yet.
    """
    for i in range(ids.shape[0]):
        d = ids[i]
        if scores[d] == 0.0:
            if only_touched:
                continue
            touched[count] = d
            count += 1
        tf = np.float64(tfs[i])
        scores[d] += weight * tf / (tf + fixed + per_token * np.float64(lens[i]))
    return count


@numba.njit(cache=True, nogil=True)
def _worse(score_a, id_a, score_b, id_b):  # pragma: no cover - compiled
    return score_a < score_b or (score_a == score_b and id_a > id_b)


@numba.njit(cache=True, nogil=True)
def best(scores, touched, usable, k):  # pragma: no cover - compiled
    """The ``k`` best of the ``touched`` ids by their float32 score (ties: the lower id first), in no
    order, leaving out ids that ``usable`` marks False (an empty ``usable``: all may be returned)."""
    k = min(k, touched.shape[0])
    heap_s = np.empty(k, np.float32)
    heap_i = np.empty(k, np.int64)
    n = 0
    check = usable.shape[0] > 0
    for j in range(touched.shape[0]):
        d = touched[j]
        if check and not usable[d]:
            continue
        s = np.float32(scores[d])
        if n < k:
            heap_s[n] = s
            heap_i[n] = d
            c = n
            n += 1
            while c > 0:  # sift up: the worst stays at the root
                parent = (c - 1) // 2
                if _worse(heap_s[c], heap_i[c], heap_s[parent], heap_i[parent]):
                    heap_s[c], heap_s[parent] = heap_s[parent], heap_s[c]
                    heap_i[c], heap_i[parent] = heap_i[parent], heap_i[c]
                    c = parent
                else:
                    break
        elif _worse(heap_s[0], heap_i[0], s, d):
            heap_s[0] = s
            heap_i[0] = d
            c = 0
            while True:  # sift down
                left = 2 * c + 1
                if left >= n:
                    break
                low = left
                if left + 1 < n and _worse(heap_s[left + 1], heap_i[left + 1], heap_s[left], heap_i[left]):
                    low = left + 1
                if _worse(heap_s[low], heap_i[low], heap_s[c], heap_i[c]):
                    heap_s[c], heap_s[low] = heap_s[low], heap_s[c]
                    heap_i[c], heap_i[low] = heap_i[low], heap_i[c]
                    c = low
                else:
                    break
    return heap_i[:n], heap_s[:n]
