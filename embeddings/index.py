"""A FAISS inner-product index over L2-normalised vectors, saved as one plain FAISS file.

Row ``i`` of the index is the ``i``-th vector added. Removing rows compacts the index
(as FAISS flat indexes do), so row numbers stay dense and can mirror a JSONL file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["IndexFileError", "VectorIndex"]


class IndexFileError(RuntimeError):
    """A FAISS file is missing, unreadable, or does not match what the manifest says."""


def _faiss():
    import faiss

    return faiss


class VectorIndex:
    """Exact (flat) inner-product search; cosine similarity for normalised vectors.

    Args:
        dimension: vector size.
        factory: a FAISS ``index_factory`` string; ``"Flat"`` (exact) by default.
    """

    def __init__(self, dimension: int, *, factory: str = "Flat") -> None:
        faiss = _faiss()
        self.dimension = int(dimension)
        self.factory = factory
        self._index = faiss.index_factory(self.dimension, factory, faiss.METRIC_INNER_PRODUCT)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, *, factory: str = "Flat") -> VectorIndex:
        """Build an index holding ``vectors`` as rows 0..n-1."""
        index = cls(vectors.shape[1], factory=factory)
        index.add(vectors)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of shape (n, {self.dimension}), got {vectors.shape}")
        if len(vectors):
            self._index.add(vectors)

    def remove(self, rows: np.ndarray) -> None:
        """Delete rows; the rows after them move up."""
        faiss = _faiss()
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows):
            self._index.remove_ids(faiss.IDSelectorBatch(rows))

    def vectors(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The stored vectors of ``rows`` (all rows when None), as a float32 array."""
        if rows is None:
            return self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dimension), np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(rows)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows per query, best first, optionally only among ``allowed`` rows.

        Returns:
            ``(scores, rows)``, each of shape ``(len(queries), k)``; missing results have row -1.
        """
        faiss = _faiss()
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(int(k), len(self))) if len(self) else 1
        if not len(self):
            return np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        scores, rows = self._index.search(queries, k, params=params)
        return scores, rows

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (a plain FAISS file)."""
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, dimension: int, count: int) -> VectorIndex:
        """Read an index and check it holds ``count`` vectors of ``dimension``.

        Raises:
            IndexFileError: the file is missing, truncated, or does not match.
        """
        path = Path(path)
        if not path.is_file():
            raise IndexFileError(f"{path} is missing")
        return cls.from_bytes(path.read_bytes(), dimension=dimension, count=count, name=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, dimension: int, count: int, name: str = "index") -> VectorIndex:
        """An index from the bytes of a file :meth:`save` wrote (already read, e.g. to checksum it).

        Raises:
            IndexFileError: the bytes are not a FAISS index, or it does not hold ``count``
                vectors of ``dimension``; ``name`` says which file in the message.
        """
        faiss = _faiss()
        try:
            raw = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise IndexFileError(f"{name} cannot be read ({str(exc).splitlines()[0][:120]})") from exc
        if raw.d != dimension or raw.ntotal != count:
            raise IndexFileError(
                f"{name} holds {raw.ntotal} vectors of dimension {raw.d}, expected {count} of {dimension}"
            )
        index = cls.__new__(cls)
        index.dimension, index.factory, index._index = dimension, "loaded", raw
        return index
