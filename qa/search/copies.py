"""Wire copies: the same story carried by several outlets, found among a question's candidates.

Two passages are copies when their word 3-shingles (stemmed term ids, stopwords dropped)
overlap by at least :data:`COPY_JACCARD` (Jaccard). Copies are found at query time, among the
ranked candidates only, so adding or removing an article never has to touch any other; the
shingles come from the term ids the store already holds. Exact shingle sets are cheaper here
than MinHash sketches, which pay off only when comparing against the whole archive
(``bench/bench_archive.py`` measures both).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["COPY_JACCARD", "SHINGLE", "collapse", "jaccard", "shingles"]

#: Words per shingle.
SHINGLE = 3
#: Jaccard of shingle sets from which two passages are one story's copies.
COPY_JACCARD = 0.5


def shingles(terms: np.ndarray, *, size: int = SHINGLE) -> frozenset:
    """A passage's distinct shingles (tuples of ``size`` term ids) from its tokens' term ids; a passage
    shorter than ``size`` has its whole text as one shingle."""
    t = terms.tolist()
    if len(t) < size:
        return frozenset([tuple(t)] if t else [])
    return frozenset(zip(*(t[i:] for i in range(size))))


def jaccard(a: frozenset, b: frozenset) -> float:
    """Jaccard of two shingle sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def collapse(
    order: Sequence[int],
    shingles_of: Callable[[int], frozenset],
    k: int,
    *,
    threshold: float = COPY_JACCARD,
    depth: int | None = None,
) -> list[tuple[int, tuple[int, ...]]]:
    """The first ``k`` passages of ``order`` that copy no passage before them, each with the later
    passages of ``order`` that copy it.

    ``shingles_of(i)`` gives the shingle set of passage ``i``. Copies are looked for in the first
    ``depth`` places (by default ``max(3 * k, 15)``: a copy scores close to its original; on the
    archive's questions 20 places find the same), or until ``k`` passages are found if that takes
    longer.
    """
    depth = max(3 * k, 15) if depth is None else depth
    kept: list[tuple[int, list[int]]] = []
    for place, i in enumerate(order):
        if place >= depth and len(kept) >= k:
            break
        mine = shingles_of(i)
        home = next((group for rep, group in kept if jaccard(shingles_of(rep), mine) >= threshold), None)
        if home is not None:
            home.append(i)
        elif len(kept) < k:
            kept.append((i, []))
    return [(rep, tuple(group)) for rep, group in kept]
