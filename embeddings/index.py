"""Vectors on disk and the FAISS index over them, both addressed by stable integer ids.

* :class:`VectorFile` keeps every vector as float16 in one plain file, row *i* at byte
  ``i * dimension * 2``; it is the exact copy that search results are re-scored from.
* :class:`VectorIndex` is the search structure over those vectors, with stable ids (FAISS
  ``IndexIDMap2`` over a flat index, or an IVF index that stores ids itself), so removing an
  article's rows or adding a new article's never renumbers the others. Up to
  :data:`FLAT_LIMIT` vectors the search is exact; above it, an IVF index with 8-bit scalar
  codes finds candidates and they are re-ranked by their exact vectors. :func:`plan` makes the
  choice from the number of vectors.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["FLAT_LIMIT", "IndexFileError", "VectorFile", "VectorIndex", "plan"]

#: Up to this many vectors the index is exact (flat). Above it, IVF: measured in
#: ``bench/bench_scale.py``, where a flat search over more vectors costs more than an IVF probe.
FLAT_LIMIT = 50_000
#: A filter that allows at most this many rows is searched exactly over their vectors.
EXACT_FILTER_LIMIT = 20_000


class IndexFileError(RuntimeError):
    """A vector or FAISS file is missing, unreadable, or does not match what the store says."""


def _faiss():
    import faiss

    return faiss


def plan(count: int) -> tuple[str, int]:
    """The index kind for ``count`` vectors: ``("flat", 0)``, or ``("ivf", lists)`` with about
    ``sqrt(count)`` lists (a power of two, at least 64)."""
    if count <= FLAT_LIMIT:
        return "flat", 0
    return "ivf", max(64, 2 ** round(math.log2(math.sqrt(count))))


def default_probes(lists: int) -> int:
    """Lists probed per query: one in sixteen, at least 16 (recall@10 >= 0.98 in ``bench/bench_scale.py``)."""
    return min(lists, max(16, lists // 16))


class VectorFile:
    """Float16 vectors addressed by id in one plain file; rows never written read as zeros.

    Writers write rows, then :meth:`sync` before they make the rows visible anywhere else, so
    a reader that learnt an id from the database always finds its vector.

    Args:
        path: the file (created when missing).
        dimension: vector size.
    """

    def __init__(self, path: str | os.PathLike, dimension: int) -> None:
        self.path = Path(path)
        self.dimension = int(dimension)
        self._row_bytes = self.dimension * 2
        self._lock = threading.Lock()
        self._map: np.ndarray | None = None
        self._mapped = 0
        if not self.path.exists():
            self.path.touch()

    @property
    def rows(self) -> int:
        """Rows the file holds (the highest id written + 1, or more)."""
        return self.path.stat().st_size // self._row_bytes

    def write(self, first: int, vectors: np.ndarray) -> None:
        """Store ``vectors`` as rows ``first``, ``first + 1``, ..."""
        data = np.ascontiguousarray(vectors, dtype=np.float16)
        if data.ndim != 2 or data.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of shape (n, {self.dimension}), got {data.shape}")
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, data.tobytes(), first * self._row_bytes)
        finally:
            os.close(fd)

    def sync(self) -> None:
        """Flush written rows to disk."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def truncate(self, rows: int) -> None:
        """Drop rows from ``rows`` on (unused rows left by an interrupted write)."""
        with self._lock:
            self._map, self._mapped = None, 0
            os.truncate(self.path, rows * self._row_bytes)

    def read(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of ``ids`` as float32 rows.

        Raises:
            IndexFileError: an id lies past the end of the file (it was truncated).
        """
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dimension), np.float32)
        top = int(ids.max())
        if top >= self._mapped:
            with self._lock:
                if top >= self._mapped:
                    rows = self.rows
                    if top >= rows:
                        raise IndexFileError(f"{self.path.name} holds {rows} vectors; vector {top} is missing")
                    self._map = np.memmap(self.path, dtype=np.float16, mode="r", shape=(rows, self.dimension))
                    self._mapped = rows
        return self._map[ids].astype(np.float32)


class VectorIndex:
    """Inner-product search (cosine for normalised vectors) over vectors with stable ids.

    Args:
        dimension: vector size.
        kind: ``"flat"`` (exact) or ``"ivf"`` (inverted lists of 8-bit codes; needs :meth:`train`).
        lists: number of IVF lists.
    """

    def __init__(self, dimension: int, *, kind: str = "flat", lists: int = 0) -> None:
        faiss = _faiss()
        if kind not in ("flat", "ivf"):
            raise ValueError(f"unknown index kind {kind!r}; use 'flat' or 'ivf'")
        self.dimension, self.kind, self.lists = int(dimension), kind, int(lists)
        self.probes = default_probes(self.lists) if kind == "ivf" else 0
        self.trained_for = 0
        if kind == "flat":
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        else:
            self._index = faiss.index_factory(self.dimension, f"IVF{self.lists},SQ8", faiss.METRIC_INNER_PRODUCT)
        self._lock = threading.RLock()

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, dimension: int | None = None) -> VectorIndex:
        """An index of ``vectors`` under ``ids``, of the kind :func:`plan` chooses for their number."""
        dim = int(dimension or vectors.shape[1])
        kind, lists = plan(len(ids))
        index = cls(dim, kind=kind, lists=lists)
        if kind == "ivf":
            index.train(vectors)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def needs_rebuild(self) -> bool:
        """Whether the index no longer suits its size: flat past :data:`FLAT_LIMIT`, or IVF trained for
        a size 8 times smaller or larger (or under half the flat limit)."""
        n = len(self)
        if self.kind == "flat":
            return n > FLAT_LIMIT
        return n < FLAT_LIMIT // 2 or n > 8 * self.trained_for or n * 8 < self.trained_for

    def train(self, vectors: np.ndarray, *, seed: int = 1234) -> None:
        """Fit the IVF lists on (a sample of at most 64 per list of) ``vectors``, all the index is to hold."""
        if self.kind != "ivf":
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        count = len(vectors)
        most = 64 * self.lists
        if len(vectors) > most:
            pick = np.random.default_rng(seed).choice(len(vectors), most, replace=False)
            vectors = vectors[np.sort(pick)]
        ivf = _faiss().extract_index_ivf(self._index)
        ivf.cp.seed = seed
        self._index.train(vectors)
        self.trained_for = max(count, self.lists)  # the size it was planned for

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids`` (ids must not be in the index already)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of shape (n, {self.dimension}), got {vectors.shape}")
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids):
            with self._lock:
                self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> None:
        """Remove ``ids`` (unknown ids are ignored)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids):
            with self._lock:
                self._index.remove_ids(_faiss().IDSelectorBatch(ids))

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        allowed: np.ndarray | None = None,
        exact: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best ids for one query vector, best first, optionally only among ``allowed`` ids.

        Args:
            query: one vector.
            k: how many results.
            allowed: sorted ids that may be returned (None: all).
            exact: the exact vectors of given ids; IVF candidates are re-scored with them, and a
                filter allowing at most :data:`EXACT_FILTER_LIMIT` ids is searched exactly.

        Returns:
            ``(scores, ids)``, at most ``k`` each (fewer when fewer vectors are allowed).
        """
        faiss = _faiss()
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        k = int(k)
        if allowed is not None and exact is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return _top(exact(allowed) @ query[0], allowed, k)
        deep = k if self.kind == "flat" or exact is None else max(2 * k, k + 32)
        params = faiss.SearchParametersIVF(nprobe=self.probes) if self.kind == "ivf" else faiss.SearchParameters()
        if allowed is not None:
            params.sel = _bitmap_selector(allowed)
        with self._lock:
            if not len(self):
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            scores, ids = self._index.search(query, min(deep, len(self)), params=params)
        found = ids[0] >= 0
        scores, ids = scores[0][found], ids[0][found]
        if self.kind == "ivf" and exact is not None and len(ids):
            return _top(exact(ids) @ query[0], ids, k)
        return scores[:k], ids[:k]

    def ids(self) -> np.ndarray:
        """Every id in the index, sorted."""
        faiss = _faiss()
        with self._lock:
            if self.kind == "flat":
                return np.sort(faiss.vector_to_array(self._index.id_map).astype(np.int64))
            invlists = faiss.extract_index_ivf(self._index).invlists
            parts = [
                faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                for i in range(invlists.nlist)
                if invlists.list_size(i)
            ]
        return np.sort(np.concatenate(parts).astype(np.int64)) if parts else np.zeros(0, np.int64)

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` (a plain FAISS file)."""
        with self._lock:
            _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | os.PathLike, *, dimension: int, trained_for: int = 0) -> VectorIndex:
        """Read an index that :meth:`save` wrote.

        Raises:
            IndexFileError: the file is missing, unreadable or of another dimension.
        """
        faiss = _faiss()
        path = Path(path)
        if not path.is_file():
            raise IndexFileError(f"{path.name} is missing")
        try:
            raw = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexFileError(f"{path.name} cannot be read ({str(exc).splitlines()[0][:120]})") from exc
        if raw.d != dimension:
            raise IndexFileError(f"{path.name} holds vectors of dimension {raw.d}, expected {dimension}")
        index = cls.__new__(cls)
        index.dimension, index._lock, index.trained_for = dimension, threading.RLock(), trained_for
        if isinstance(raw, faiss.IndexIDMap2):
            index.kind, index.lists, index.probes = "flat", 0, 0
        else:
            ivf = faiss.extract_index_ivf(raw)
            index.kind, index.lists = "ivf", int(ivf.nlist)
            index.probes = default_probes(index.lists)
        index._index = raw
        return index


def _top(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``scores`` (ties: lower id first), best first."""
    scores = np.asarray(scores, dtype=np.float32)
    if len(scores) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        scores, ids = scores[keep], ids[keep]
    order = np.lexsort((ids, -scores))
    return scores[order], np.asarray(ids, dtype=np.int64)[order]


def _bitmap_selector(allowed: np.ndarray):
    """A FAISS selector of the sorted ids ``allowed``, as a bitmap (cheap to build for many ids)."""
    faiss = _faiss()
    mask = np.zeros(int(allowed[-1]) + 1 if len(allowed) else 1, dtype=bool)
    mask[allowed] = True
    bits = np.packbits(mask, bitorder="little")
    selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
    selector.bits_ref = bits  # keep the bitmap alive as long as the selector
    return selector
