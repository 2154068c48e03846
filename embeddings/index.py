"""Vectors on disk and the FAISS index over them, both addressed by stable integer ids.

* :class:`VectorFile` keeps every vector in one plain file, row *i* at byte ``i * row_bytes``:
  as float16 (the passages: the exact copy that search results are re-scored from), or as 8-bit
  codes with a float32 scale per row (the sentences: half the size, cosines within about 0.001).
* :class:`VectorIndex` is the search structure over those vectors, with stable ids (FAISS
  ``IndexIDMap2``), so removing an article's rows or adding a new article's never renumbers
  the others. Up to :data:`FLAT_LIMIT` vectors the search is exact; above it, an HNSW graph
  over 8-bit codes finds candidates and they are re-ranked by their exact vectors. A graph
  cannot drop a node, so removed ids are filtered out of its results until removals reach a
  tenth of it and it is rebuilt. :func:`plan` makes the choice from the number of vectors.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

__all__ = ["CODES", "FLAT_LIMIT", "IndexFileError", "VectorFile", "VectorIndex", "plan"]

#: Up to this many vectors the index is exact (flat); above it, HNSW. Measured in
#: ``bench/bench_scale.py``: a flat search takes about 1.3 ms over 20,000 vectors on one core, 1.9 ms over
#: the archive's 30,148; HNSW with an exact re-rank takes 0.3 ms there (recall@10 0.996).
FLAT_LIMIT = 20_000
#: A filter that allows at most this many rows is searched exactly over their vectors.
EXACT_FILTER_LIMIT = 20_000
#: HNSW links per node, breadth while building, and breadth while searching (recall@10 against
#: an exact search >= 0.98 on the shared archive's questions, ``bench/bench_scale.py``).
HNSW_LINKS, HNSW_BUILD_DEPTH, HNSW_SEARCH_DEPTH = 32, 80, 256
#: An HNSW index is rebuilt once this share of its nodes are removed articles' passages.
HNSW_DEAD_SHARE = 0.1
#: How a :class:`VectorFile` stores a row: ``f16`` (float16) or ``i8`` (a float32 scale, then one
#: signed byte per dimension: ``value = code * scale``, ``scale = max |value| / 127``).
CODES = ("f16", "i8")


class IndexFileError(RuntimeError):
    """A vector or FAISS file is missing, unreadable, or does not match what the store says."""


def _faiss():
    import faiss

    return faiss


def plan(count: int) -> str:
    """The index kind for ``count`` vectors: ``"flat"`` (exact) up to :data:`FLAT_LIMIT`, else ``"hnsw"``."""
    return "flat" if count <= FLAT_LIMIT else "hnsw"


def suits(kind: str, count: int) -> bool:
    """Whether an index of ``kind`` still suits ``count`` vectors: flat up to :data:`FLAT_LIMIT`,
    HNSW down to half of it (so that an index near the limit is not rebuilt back and forth)."""
    return count <= FLAT_LIMIT if kind == "flat" else count >= FLAT_LIMIT // 2


class VectorFile:
    """Vectors addressed by id in one plain file; rows never written read as zeros.

    Writers write rows, then :meth:`sync` before they make the rows visible anywhere else, so
    a reader that learnt an id from the database always finds its vector.

    Args:
        path: the file (created when missing).
        dimension: vector size.
        codes: ``"f16"`` (float16 rows) or ``"i8"`` (8-bit codes with a scale per row; see :data:`CODES`).
    """

    def __init__(self, path: str | os.PathLike, dimension: int, *, codes: str = "f16") -> None:
        if codes not in CODES:
            raise ValueError(f"unknown vector codes {codes!r}; use one of {', '.join(CODES)}")
        self.path = Path(path)
        self.dimension = int(dimension)
        self.codes = codes
        if codes == "f16":
            self._dtype, self._row_bytes = np.dtype("<f2"), self.dimension * 2
        else:
            self._dtype = np.dtype([("scale", "<f4"), ("code", "i1", (self.dimension,))])
            self._row_bytes = self._dtype.itemsize
        self._lock = threading.Lock()
        self._mapped = 0  # rows the file was last seen to hold
        if not self.path.exists():
            self.path.touch()

    @property
    def rows(self) -> int:
        """Rows the file holds (the highest id written + 1, or more)."""
        return self.path.stat().st_size // self._row_bytes

    def write(self, first: int, vectors: np.ndarray) -> None:
        """Store ``vectors`` as rows ``first``, ``first + 1``, ..."""
        data = np.asarray(vectors, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of shape (n, {self.dimension}), got {data.shape}")
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, self.encode(data).tobytes(), first * self._row_bytes)
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
            self._mapped = 0
            os.truncate(self.path, rows * self._row_bytes)

    def read(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of ``ids`` as float32 rows.

        Rows are read with ``pread``, one call per run of consecutive ids (a passage's sentences
        are one run), not through a memory map: the file's pages stay in the page cache and out
        of the process's resident memory, which a map of a multi-gigabyte file would fill.

        Raises:
            IndexFileError: an id lies past the end of the file (it was truncated).
        """
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dimension), np.float32)
        unique, inverse = np.unique(ids, return_inverse=True)
        top = int(unique[-1])
        rows = self.rows if top >= self._mapped else self._mapped
        if top >= rows:
            raise IndexFileError(f"{self.path.name} holds {rows} vectors; vector {top} is missing")
        self._mapped = rows
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        firsts = unique[np.concatenate([[0], breaks])].tolist()
        lasts = unique[np.concatenate([breaks - 1, [len(unique) - 1]])].tolist()
        fd, size = self._fd(), self._row_bytes
        data = b"".join(os.pread(fd, (b - a + 1) * size, a * size) for a, b in zip(firsts, lasts))
        rows = np.frombuffer(data, dtype=self._dtype)
        if self.codes == "f16":
            rows = rows.reshape(len(unique), self.dimension)
        return self.decode(rows[inverse.reshape(-1)])

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """Float32 ``vectors`` as rows of this file (a structured array for ``i8``)."""
        if self.codes == "f16":
            return np.ascontiguousarray(vectors, dtype=np.float16)
        rows = np.zeros(len(vectors), dtype=self._dtype)
        scale = np.abs(vectors).max(axis=1) / 127 if len(vectors) else np.zeros(0, np.float32)
        rows["scale"] = scale
        safe = np.where(scale > 0, scale, 1)[:, None]
        rows["code"] = np.clip(np.rint(vectors / safe), -127, 127)
        return rows

    def decode(self, rows: np.ndarray) -> np.ndarray:
        """Rows of this file as float32 vectors."""
        if self.codes == "f16":
            return rows.astype(np.float32)
        return rows["code"].astype(np.float32) * rows["scale"][:, None]

    def _fd(self) -> int:
        fd = getattr(self, "_read_fd", None)
        if fd is None:
            with self._lock:
                fd = getattr(self, "_read_fd", None)
                if fd is None:
                    fd = self._read_fd = os.open(self.path, os.O_RDONLY)
        return fd

    def __del__(self) -> None:
        fd = getattr(self, "_read_fd", None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class VectorIndex:
    """Inner-product search (cosine for normalised vectors) over vectors with stable ids.

    Args:
        dimension: vector size.
        kind: ``"flat"`` (exact) or ``"hnsw"`` (a graph over 8-bit codes; needs :meth:`train`).
    """

    def __init__(self, dimension: int, *, kind: str = "flat") -> None:
        faiss = _faiss()
        if kind not in ("flat", "hnsw"):
            raise ValueError(f"unknown index kind {kind!r}; use 'flat' or 'hnsw'")
        self.dimension, self.kind = int(dimension), kind
        self.search_depth = HNSW_SEARCH_DEPTH
        if kind == "flat":
            inner = faiss.IndexFlatIP(self.dimension)
        else:
            inner = faiss.index_factory(self.dimension, f"HNSW{HNSW_LINKS},SQ8", faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_BUILD_DEPTH
        self._index = faiss.IndexIDMap2(inner)
        self._dead: set[int] = set()
        self._dead_selector = None
        self._lock = threading.RLock()

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, dimension: int | None = None) -> VectorIndex:
        """An index of ``vectors`` under ``ids``, of the kind :func:`plan` chooses for their number."""
        index = cls(int(dimension or vectors.shape[1]), kind=plan(len(ids)))
        index.train(vectors)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        """Vectors that can be found (removed ones not counted)."""
        return int(self._index.ntotal) - len(self._dead)

    @property
    def needs_rebuild(self) -> bool:
        """Whether the index no longer suits its size: flat past :data:`FLAT_LIMIT`, HNSW under half of
        it, or with a tenth of its nodes removed."""
        return not suits(self.kind, len(self)) or (
            self.kind != "flat" and len(self._dead) > HNSW_DEAD_SHARE * self._index.ntotal
        )

    def train(self, vectors: np.ndarray, *, seed: int = 1234) -> None:
        """Fit the 8-bit codes of an HNSW index on (a sample of at most 100,000 of) ``vectors``."""
        if self.kind == "flat":
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) > 100_000:
            pick = np.random.default_rng(seed).choice(len(vectors), 100_000, replace=False)
            vectors = vectors[np.sort(pick)]
        self._index.train(vectors)

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
        """Remove ``ids`` (each must be in the index)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return
        with self._lock:
            if self.kind == "flat":
                self._index.remove_ids(_faiss().IDSelectorBatch(ids))
            else:
                self._dead.update(ids.tolist())
                self._dead_selector = None

    @property
    def dead(self) -> np.ndarray:
        """Ids removed from an HNSW graph that still holds their nodes, sorted."""
        return np.array(sorted(self._dead), dtype=np.int64)

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
            exact: the exact vectors of given ids; HNSW candidates are re-scored with them, and a
                filter allowing at most :data:`EXACT_FILTER_LIMIT` ids is searched exactly.

        Returns:
            ``(scores, ids)``, at most ``k`` each (fewer when fewer vectors are allowed).
        """
        faiss = _faiss()
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        k = int(k)
        if allowed is not None and exact is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return _top(exact(allowed) @ query[0], allowed, k)
        approximate = self.kind == "hnsw"
        deep = max(2 * k, k + 32) if approximate and exact is not None else k
        with self._lock, _one_thread():
            if not len(self):
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            if approximate:
                params = faiss.SearchParametersHNSW(efSearch=max(self.search_depth, deep))
            else:
                params = faiss.SearchParameters()
            if allowed is not None:
                params.sel = _bitmap_selector(allowed)
            elif self._dead:
                if self._dead_selector is None:
                    batch = faiss.IDSelectorBatch(self.dead)
                    self._dead_selector = faiss.IDSelectorNot(batch)
                    self._dead_selector.inner_ref = batch
                params.sel = self._dead_selector
            scores, ids = self._index.search(query, min(deep, int(self._index.ntotal)), params=params)
        found = ids[0] >= 0
        scores, ids = scores[0][found], ids[0][found]
        if approximate and exact is not None and len(ids):
            return _top(exact(ids) @ query[0], ids, k)
        return scores[:k], ids[:k]

    def ids(self) -> np.ndarray:
        """Every id that can be found, sorted."""
        with self._lock:
            ids = _faiss().vector_to_array(self._index.id_map).astype(np.int64)
        if self._dead:
            ids = ids[~np.isin(ids, self.dead)]
        return np.sort(ids)

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` (a plain FAISS file; an HNSW graph's removed ids are not in it:
        keep :attr:`dead` beside it)."""
        with self._lock:
            _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | os.PathLike, *, dimension: int, dead: Iterable[int] = ()) -> VectorIndex:
        """Read an index that :meth:`save` wrote, with the ids removed from it since (``dead``).

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
        if raw.d != dimension or not isinstance(raw, faiss.IndexIDMap2):
            raise IndexFileError(f"{path.name} is not an id-mapped index of dimension {dimension}")
        index = cls.__new__(cls)
        index.dimension, index._lock, index.search_depth = dimension, threading.RLock(), HNSW_SEARCH_DEPTH
        index.kind = "flat" if isinstance(faiss.downcast_index(raw.index), faiss.IndexFlat) else "hnsw"
        index._index, index._dead, index._dead_selector = raw, set(int(i) for i in dead), None
        return index


@contextlib.contextmanager
def _one_thread():
    """One OpenMP thread for a single query: FAISS's threads cost more than they save there
    (a flat search over 30,000 vectors took 10-27 ms on 2 busy cores with two threads, 1.8 ms with one)."""
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


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
