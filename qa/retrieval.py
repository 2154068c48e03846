"""Hybrid retrieval: dense passage and sentence similarity plus BM25, scored per passage.

Every passage is scored from its whole text and from its best sentence; the same
sentence scores choose the highlight. Filters (outlet, dates, articles) apply before
ranking, so a filter never hides a passage that would have matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .errors import FilterError
from .lexical import tokenize
from .store import IndexStore

__all__ = ["Filters", "RetrievalConfig", "Retriever", "Scored"]


@dataclass(frozen=True)
class Filters:
    """Which passages may be returned. Empty fields do not filter.

    Args:
        outlets: outlet names (case-insensitive); ``""`` selects articles with no outlet.
        date_from: earliest article date, YYYY-MM-DD (inclusive).
        date_to: latest article date, YYYY-MM-DD (inclusive).
        doc_ids: article ids (file names).
    """

    outlets: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError as exc:
                    raise FilterError(f"{name} is {value!r}; write dates as YYYY-MM-DD, e.g. 2025-05-16") from exc
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FilterError(f"date_from {self.date_from} is after date_to {self.date_to}; swap them")

    @classmethod
    def make(
        cls,
        *,
        outlets: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        doc_ids: Iterable[str] | None = None,
    ) -> Filters:
        """Build filters from plain arguments; empty values mean no filter."""
        return cls(
            outlets=frozenset(o.strip().lower() for o in outlets) if outlets else None,
            date_from=date_from or None,
            date_to=date_to or None,
            doc_ids=frozenset(doc_ids) if doc_ids else None,
        )

    @property
    def active(self) -> bool:
        """Whether any field filters."""
        return bool(self.outlets is not None or self.date_from or self.date_to or self.doc_ids is not None)

    def describe(self) -> str:
        """The filters in words, for messages."""
        parts = []
        if self.outlets is not None:
            parts.append("outlet " + " or ".join(sorted(o or "(unknown)" for o in self.outlets)))
        if self.date_from or self.date_to:
            parts.append(f"dates {self.date_from or '…'} to {self.date_to or '…'}")
        if self.doc_ids is not None:
            parts.append("articles " + ", ".join(sorted(self.doc_ids)))
        return "; ".join(parts) or "no filter"

    def allows(self, outlet: str, day: str, doc_id: str) -> bool:
        """Whether an article with these fields passes. Undated articles fail a date filter."""
        if self.outlets is not None and outlet.strip().lower() not in self.outlets:
            return False
        if (self.date_from or self.date_to) and not day:
            return False
        if self.date_from and day < self.date_from:
            return False
        if self.date_to and day > self.date_to:
            return False
        return self.doc_ids is None or doc_id in self.doc_ids


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights of the passage score and candidate pool size."""

    dense: float = 0.35
    sentence: float = 0.35
    bm25: float = 0.2
    sentence_bm25: float = 0.1
    candidates: int = 200


@dataclass(frozen=True)
class Scored:
    """A passage row with its score, best sentence, and the signals behind the score."""

    row: int
    score: float
    sentence: int
    signals: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Scores passages of an :class:`IndexStore` for encoded queries."""

    def __init__(self, store: IndexStore, *, config: RetrievalConfig = RetrievalConfig()) -> None:
        self.store = store
        self.config = config

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the passages ``filters`` allow (None: all)."""
        if filters is None or not filters.active:
            return None
        docs = self.store.documents
        allowed_docs = {d for d, doc in docs.items() if filters.allows(doc.meta.outlet, doc.meta.date, d)}
        mask = np.zeros(len(self.store.passages), dtype=bool)
        for d in allowed_docs:
            doc = docs[d]
            mask[doc.first : doc.first + doc.count] = True
        return mask

    def search(self, query: str, vector: np.ndarray, *, k: int = 5, allowed: np.ndarray | None = None) -> list[Scored]:
        """Top ``k`` passages for one query; see :meth:`batch_search`."""
        return self.batch_search([query], vector[None, :], k=k, allowed=allowed)[0]

    def batch_search(
        self, queries: Sequence[str], vectors: np.ndarray, *, k: int = 5, allowed: np.ndarray | None = None
    ) -> list[list[Scored]]:
        """Top ``k`` passages per query, best first, among ``allowed`` rows (all when None)."""
        return [self._one(q, v, k, allowed) for q, v in zip(queries, vectors)]

    # ------------------------------------------------------------------ internals

    def _candidates(
        self, tokens: list[str], vector: np.ndarray, bm25: np.ndarray, allowed: np.ndarray | None
    ) -> np.ndarray:
        store, n = self.store, len(self.store.passages)
        pool = self.config.candidates
        if n <= pool:
            rows = np.arange(n)
            return rows if allowed is None else rows[allowed]
        _, dense_rows = store.passage_vectors.search(vector[None, :], pool, allowed=allowed)
        sent_allowed = None if allowed is None else allowed[store.sentence_owner]
        _, sent_rows = store.sentence_vectors.search(vector[None, :], pool, allowed=sent_allowed)
        lexical = bm25 if allowed is None else np.where(allowed, bm25, 0.0)
        top_lex = np.argpartition(-lexical, min(pool, n - 1))[:pool]
        top_lex = top_lex[lexical[top_lex] > 0]
        owners = store.sentence_owner[sent_rows[0][sent_rows[0] >= 0]]
        return np.unique(np.concatenate([dense_rows[0][dense_rows[0] >= 0], owners, top_lex]))

    def _one(self, query: str, vector: np.ndarray, k: int, allowed: np.ndarray | None) -> list[Scored]:
        store, cfg = self.store, self.config
        tokens = tokenize(query)
        bm25 = store.lexical.scores(tokens)
        rows = self._candidates(tokens, vector, bm25, allowed)
        if not len(rows):
            return []
        dense = store.passage_vectors.vectors(rows) @ vector
        first, last = store.sentence_first[rows], store.sentence_first[rows + 1]
        sent_rows = np.concatenate([np.arange(a, b) for a, b in zip(first, last)])
        sent_dense = store.sentence_vectors.vectors(sent_rows) @ vector
        sent_lex = store.sentence_lexical.scores(tokens)[sent_rows] if len(sent_rows) else np.zeros(0)
        lex = bm25[rows]
        lex_norm = lex / lex.max() if lex.max() > 0 else lex
        s_norm = sent_lex / sent_lex.max() if len(sent_lex) and sent_lex.max() > 0 else sent_lex
        scored = []
        at = 0
        for i, row in enumerate(rows):
            count = int(last[i] - first[i])
            s_score = sent_dense[at : at + count] + cfg.sentence_bm25 * s_norm[at : at + count]
            best = int(np.argmax(s_score)) if count else 0
            signals = {
                "dense": float(dense[i]),
                "sentence": float(sent_dense[at + best]) if count else 0.0,
                "bm25": float(lex[i]),
                "bm25_norm": float(lex_norm[i]),
                "sentence_bm25": float(s_norm[at + best]) if count else 0.0,
            }
            score = (
                cfg.dense * signals["dense"]
                + cfg.sentence * signals["sentence"]
                + cfg.bm25 * signals["bm25_norm"]
                + cfg.sentence_bm25 * signals["sentence_bm25"]
            )
            scored.append(Scored(int(row), float(score), best, signals))
            at += count
        scored.sort(key=lambda s: (-s.score, s.row))
        return scored[:k]
