"""The interface between retrieval (and the assistant) and an index backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from ..ingest.passages import Passage
from .records import Candidates, KeptText, StoredDocument

__all__ = ["Store"]


class Store(Protocol):
    """What the assistant reads from an index. :class:`~qa.store.IndexStore` (SQLite + FAISS) is one.

    Ids are stable integers: a passage keeps its id until its article is removed or changed.
    A backend keeps articles, passages with their stored facts, BM25 statistics, and vectors;
    it answers the two candidate searches (nearest vectors, best BM25) and reads candidates.
    """

    def reading(self) -> contextlib.AbstractContextManager[int]:
        """One consistent view for the duration of the block (yields its generation)."""
        ...

    def search_dense(self, vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the ``k`` passages nearest ``vector``, among ``allowed`` sorted ids (None: all)."""
        ...

    def search_lexical(
        self, tokens: Sequence[str], k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and BM25 scores of the ``k`` best passages for the BM25 ``tokens``."""
        ...

    def candidates(self, ids: Sequence[int]) -> Candidates:
        """What retrieval reads of the passages ``ids``: sentences, term ids, facts and vectors."""
        ...

    def stats(self) -> dict[str, float]:
        """Passages, sentences, and their mean lengths in tokens."""
        ...

    def terms(self, tokens: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """Id, passage frequency and sentence frequency of each known token."""
        ...

    def passages_by_id(self, ids: Iterable[int]) -> list[Passage]:
        """The passages ``ids``, labelled with their article's metadata."""
        ...

    def allowed(self, **filters) -> np.ndarray:
        """Sorted ids of the passages of the articles that pass the filters."""
        ...

    def document(self, doc_id: str) -> StoredDocument | None:
        """One indexed article."""
        ...

    def kept_text(self, doc_id: str) -> KeptText | None:
        """The text kept for an article that has no file (from a source), or None."""
        ...

    def origins(self, doc_ids: Iterable[str]) -> dict[str, KeptText]:
        """Where the articles ``doc_ids`` from sources came from, by id (texts left empty)."""
        ...
