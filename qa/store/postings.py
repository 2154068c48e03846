"""BM25 over passages from an inverted index in the database, updated in place.

Each commit of new passages writes one *segment*: for every term, the ids of the new passages
holding it, its count in each and each passage's length, as three little-endian arrays. A
removed passage is listed in ``deleted`` until the segment holding it is merged. Segments are
merged, log-structured, once ten of a size class (1-9 passages, 10-99, ...) exist, or when a
third of a segment's passages were removed; so adding k articles costs about k, not the archive.

Scores use the collection's statistics at query time (passages, mean length, document frequency
per term, all kept exact on every add and remove), never per-segment ones: the same articles
give the same BM25 whatever sequence of adds and removes put them there. The formula is
Lucene's, as bm25s computes it: ``idf(t) * tf / (tf + k1 * (1 - b + b * len / mean_len))`` with
``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``. :func:`search` gives the exact top k of
scoring every passage, at any size (compiled loops in :mod:`qa.store.bm25_kernels`).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import groupby

import numpy as np

__all__ = ["K1", "MERGE_FACTOR", "B", "Fetch", "add_segment", "bm25_idf", "delete", "maybe_merge", "reader", "search"]

K1, B = 1.2, 0.75
MERGE_FACTOR = 10
#: A segment with at least this share of its passages removed is rewritten without them.
PURGE_SHARE = 1 / 3
_IDS, _TFS, _LENS = np.dtype("<u4"), np.dtype("<u2"), np.dtype("<u2")


def bm25_idf(count: int, df: int) -> float:
    """Lucene's IDF of a term found in ``df`` of ``count`` texts."""
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


def add_segment(
    conn: sqlite3.Connection,
    segment: int,
    entries: Mapping[int, tuple[list[int], list[int], list[int]]],
    passages: int,
) -> None:
    """Write segment ``segment``: per term id, the (ascending) passage ids, term counts and lengths."""
    conn.execute("INSERT INTO segments(id, passages) VALUES (?, ?)", (segment, passages))
    conn.executemany(
        "INSERT INTO postings(term, segment, ids, tfs, lens) VALUES (?, ?, ?, ?, ?)",
        (
            (
                term,
                segment,
                np.asarray(ids, _IDS).tobytes(),
                np.minimum(tfs, 65535).astype(_TFS).tobytes(),
                np.minimum(lens, 65535).astype(_LENS).tobytes(),
            )
            for term, (ids, tfs, lens) in entries.items()
        ),
    )


def delete(conn: sqlite3.Connection, rows: Iterable[tuple[int, int]]) -> None:
    """Mark passages removed: ``rows`` of (passage id, segment)."""
    rows = list(rows)
    conn.executemany("INSERT INTO deleted(id, segment) VALUES (?, ?)", rows)
    per_segment: dict[int, int] = {}
    for _, segment in rows:
        per_segment[segment] = per_segment.get(segment, 0) + 1
    conn.executemany("UPDATE segments SET deleted = deleted + ? WHERE id = ?", [(n, s) for s, n in per_segment.items()])


def _size_class(passages: int) -> int:
    return int(math.log10(max(1, passages)))


def maybe_merge(conn: sqlite3.Connection, next_segment: int) -> int:
    """Merge segments as the policy says (see the module docstring); returns the next free segment id."""
    while True:
        segments = conn.execute("SELECT id, passages, deleted FROM segments ORDER BY id").fetchall()
        purge = [s for s, n, d in segments if d and (d >= n or d >= PURGE_SHARE * n)]
        if purge:
            next_segment = _merge(conn, purge[:1], next_segment)
            continue
        by_class: dict[int, list[int]] = {}
        for s, n, d in segments:
            by_class.setdefault(_size_class(n - d), []).append(s)
        full = next((ids for _, ids in sorted(by_class.items()) if len(ids) >= MERGE_FACTOR), None)
        if full is None:
            return next_segment
        next_segment = _merge(conn, full, next_segment)


def _merge(conn: sqlite3.Connection, segments: list[int], new: int) -> int:
    """Rewrite ``segments`` as one new segment without their removed passages; returns ``new + 1``."""
    marks = ",".join("?" * len(segments))
    gone = np.array(
        [r[0] for r in conn.execute(f"SELECT id FROM deleted WHERE segment IN ({marks})", segments)], dtype=np.int64
    )
    live = conn.execute(
        f"SELECT COALESCE(SUM(passages - deleted), 0) FROM segments WHERE id IN ({marks})", segments
    ).fetchone()[0]
    rows = conn.execute(
        f"SELECT term, ids, tfs, lens FROM postings WHERE segment IN ({marks}) ORDER BY term, segment", segments
    )
    out = []
    for term, group in groupby(rows, key=lambda r: r[0]):
        parts = list(group)
        ids = np.concatenate([np.frombuffer(p[1], _IDS) for p in parts])
        tfs = np.concatenate([np.frombuffer(p[2], _TFS) for p in parts])
        lens = np.concatenate([np.frombuffer(p[3], _LENS) for p in parts])
        if len(gone):
            keep = ~np.isin(ids.astype(np.int64), gone)
            ids, tfs, lens = ids[keep], tfs[keep], lens[keep]
        if len(ids):
            out.append((term, new, ids.tobytes(), tfs.tobytes(), lens.tobytes()))
    conn.execute(f"DELETE FROM postings WHERE segment IN ({marks})", segments)
    conn.executemany("INSERT INTO postings(term, segment, ids, tfs, lens) VALUES (?, ?, ?, ?, ?)", out)
    conn.execute(f"DELETE FROM deleted WHERE segment IN ({marks})", segments)
    conn.execute(f"DELETE FROM segments WHERE id IN ({marks})", segments)
    conn.execute("INSERT INTO segments(id, passages) VALUES (?, ?)", (new, int(live)))
    conn.execute(f"UPDATE passages SET segment = ? WHERE segment IN ({marks})", [new, *segments])
    return new + 1


#: Gives the (term, ids, tfs, lens) rows of term ids, by term then segment.
Fetch = Callable[[list[int]], list[tuple[int, bytes, bytes, bytes]]]


def reader(conn: sqlite3.Connection) -> Fetch:
    """The postings of term ids, read from the index database ``conn``."""

    def fetch(term_ids: list[int]) -> list[tuple[int, bytes, bytes, bytes]]:
        marks = ",".join("?" * len(term_ids))
        sql = f"SELECT term, ids, tfs, lens FROM postings WHERE term IN ({marks}) ORDER BY term, segment"
        return conn.execute(sql, term_ids).fetchall()

    return fetch


#: Past this many passages touched, the search stops checking whether the rest can be pruned
#: (each check reads them all once; a question that has not pruned by then seldom does).
CHECK_LIMIT = 200_000


def search(
    fetch: Fetch,
    terms: Sequence[tuple[int, float, int, str]],
    k: int,
    *,
    mean_length: float,
    deleted: np.ndarray,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` passages with the highest BM25 for the query ``terms``: exactly the top ``k`` of
    scoring every passage, whatever the archive's size (no term is left out).

    Terms are added term by term, from the highest weight down, into one score per passage id
    (compiled with numba: a few nanoseconds a posting); the best ``k`` are then kept in a heap as
    the passages touched are read once. A term adds less than its weight to a passage
    (``tf / (tf + norm) < 1``), so once the ``k``-th best score so far is above the weights of the
    terms still to come put together, a passage not touched yet cannot reach the top ``k``: the
    remaining, commoner terms then only add to the passages already touched (MaxScore). Every
    passage's score is summed in the same order, pruned or not.

    Args:
        fetch: gives the postings of term ids (:func:`reader` for the index database; a replica
            reads them from the server).
        terms: per query term: its id, its weight (IDF times how often the query holds it), its
            document frequency and the term itself.
        k: how many passages.
        mean_length: mean passage length in tokens.
        deleted: sorted ids of removed passages still in segments.
        allowed: sorted ids that may be returned (None: all).

    Returns:
        ``(ids, scores)``, best first, ties by id; only passages holding some term.
    """
    empty = np.zeros(0, np.int64), np.zeros(0, np.float32)
    if not terms or k <= 0:
        return empty
    weights = {t[0]: t[1] for t in terms}
    by_term: dict[int, list] = {}
    for row in fetch(sorted(weights)):
        by_term.setdefault(row[0], []).append(
            (np.frombuffer(row[1], _IDS), np.frombuffer(row[2], _TFS), np.frombuffer(row[3], _LENS))
        )
    parts = [p for rows in by_term.values() for p in rows]
    size = max((int(ids[-1]) + 1 for ids, _, _ in parts if len(ids)), default=0)
    if not size:
        return empty
    scores = np.zeros(size, np.float64)
    touched = np.empty(sum(len(ids) for ids, _, _ in parts), np.int64)
    usable = np.ones(0, dtype=bool)
    if len(deleted) or allowed is not None:
        usable = np.ones(size, dtype=bool) if allowed is None else np.zeros(size, dtype=bool)
        if allowed is not None:
            usable[allowed[allowed < size]] = True
        usable[deleted[deleted < size]] = False
    kernels = _kernels()
    count, closed = 0, False
    fixed, per_token = K1 * (1 - B), K1 * B / mean_length
    order = sorted(by_term, key=lambda t: (-weights[t], t))  # each passage's score: its terms in this order
    still = [sum(weights[t] for t in order[i + 1 :]) for i in range(len(order))]  # weight of the terms after each
    for term, after in zip(order, still):
        for ids, tfs, lens in by_term[term]:
            count = kernels.add_term(scores, touched, count, ids, tfs, lens, weights[term], fixed, per_token, closed)
        if not closed and count >= k and after and count <= CHECK_LIMIT:
            _, kept = kernels.best(scores, touched[:count], usable, k)
            closed = len(kept) == k and after < float(kept.min()) * (1 - 1e-6)
    ids, best = kernels.best(scores, touched[:count], usable, k)
    rank = np.lexsort((ids, -best))
    return ids[rank], best[rank]


def _kernels():
    """The compiled scoring loops (compiled on first use, cached on disk by numba)."""
    from . import bm25_kernels

    return bm25_kernels
