"""The read side of the served catalogue (:mod:`qa.store.catalogue`): a store with no index folder.

A chat or API replica opens it with nothing but the Milvus server (``Assistant.load(replica=True,
store="milvus://...")``, ``qa serve --replica``). It reads the generation from the state row
(Strong consistency) at the start of every question, then what the question needs by id;
small tables (settings, articles, name words, removed passages) are read whole once per
generation and kept until the next one.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..errors import IndexCorruptError, StoreSpecError
from ..ingest.names import NAME_EXCLUDED
from ..ingest.passages import Passage
from ..lexical import STOPWORDS
from . import postings
from .catalogue import BATCH, Catalogue, literal, unb64
from .milvus import MilvusTarget, Selection, _Collection, _ids, consistency, milvus_filter
from .records import Candidates, KeptText, StoredDocument
from .store import cached_terms, make_candidates, make_passage, query_terms

__all__ = ["ServedStore"]

#: Positions in an article record (``DOCUMENT_COLUMNS``, then ``outlet_key``) and in a passage
#: record (as :func:`qa.store.catalogue._records` writes them).
ORIGIN, TITLE, OUTLET, DATE, URL, KIND, FIRST, COUNT, WARNINGS, OUTLET_KEY = 1, 2, 3, 4, 5, 6, 13, 14, 15, 16
P_DOC, P_START, P_END, P_TEXT, P_QUOTES, P_FIRST_SENTENCE, P_SENTENCES, P_SPANS = 1, 2, 3, 4, 5, 6, 7, 8


class _Lookup:
    """Membership of words in a small table read whole once per generation (names, speaker words):
    the words ``accept`` lets through whose record ``holds`` (as the index folder's ``Lookup``)."""

    def __init__(self, store: ServedStore, tbl: str, accept, holds) -> None:
        self._store, self._tbl, self._accept, self._holds = store, tbl, accept, holds

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not self._accept(word):
            return False
        record = self._store._table(self._tbl).get(word)
        return record is not None and self._holds(record)


class _Vectors:
    """Vectors read by id from a Milvus collection (what ``VectorFile.read`` gives for a folder)."""

    def __init__(self, store: ServedStore, collection: str) -> None:
        self._store, self._collection = store, collection

    def read(self, ids) -> np.ndarray:
        """The vectors of ``ids``, in that order (float32)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self._store.dimension), np.float32)
        found: dict[int, list[float]] = {}
        unique = np.unique(ids)
        for at in range(0, len(unique), 1000):
            rows = self._store._query(
                self._collection, f"id in [{', '.join(str(int(i)) for i in unique[at : at + 1000])}]", ["id", "vector"]
            )
            found.update({int(r["id"]): r["vector"] for r in rows})
        missing = [int(i) for i in unique if int(i) not in found]
        if missing:
            raise IndexCorruptError(
                f"{self._collection} lacks the vectors of ids {missing[:5]}; write the catalogue again "
                "(qa index --store ... on the ingest side)"
            )
        return np.array([found[int(i)] for i in ids], dtype=np.float32)


class ServedStore:
    """An index read from a Milvus server alone: passages, articles, facts, vectors, BM25 (see the module docstring).

    Read-only: articles are added and removed on the ingest side (the index folder, ``qa add``).

    Args:
        target: the Milvus collection (a ``MilvusTarget``) an index was written to.

    Raises:
        StoreSpecError: the collection holds no served catalogue (never written, or written by an
            older version): run ``qa index --store ...`` on the ingest side first.
        StoreUnavailableError: Milvus cannot be reached.
    """

    folder = None  # no index folder: a replica

    def __init__(self, target: MilvusTarget) -> None:
        self.target = target
        self.milvus = _Collection(target, 0)
        self.catalogue = Catalogue(self.milvus, 0)
        state = self.milvus.state() if self.milvus.exists() else None
        if state is None or not state.get("served") or not self.catalogue.exists():
            raise StoreSpecError(
                f"{target.describe()} holds no served catalogue: write one from the index folder with "
                f"qa index --store {target.spec} (on the ingest side), then start the replica again"
            )
        self._local = threading.local()
        self._cache: dict[str, object] = {}
        self._cache_generation = -1
        self._lock = threading.Lock()
        meta = self._meta_now()
        self.model: str = meta["model"]
        self.dimension: int = int(meta["dimension"])
        self.catalogue.dimension = self.dimension
        self.passage_file = _Vectors(self, self.milvus.name)
        self.sentence_file = _Vectors(self, self.catalogue.sentences)
        self.names = _Lookup(  # as IndexStore.names: capitalised somewhere, never lower-case
            self,
            "w",
            lambda w: len(w) > 1 and w not in STOPWORDS and w not in NAME_EXCLUDED,
            lambda r: r[0] > 0 and r[1] == 0,
        )
        self.speaker_words = _Lookup(self, "s", lambda _w: True, lambda count: count > 0)
        self.milvus.bm25 = self.milvus.describe()[1]

    def close(self) -> None:
        """Close the Milvus connection."""
        self.milvus.close()

    # ------------------------------------------------------------------ reading the server

    @property
    def read_ts(self) -> int:
        """The Milvus time this question reads as of: the state's own (0: Strong)."""
        return getattr(self._local, "ts", 0)

    def _query(self, collection: str, where: str, fields: list[str]) -> list[dict]:
        with self.milvus.calls():
            return self.milvus.call(
                "query", collection, filter=where, output_fields=fields, limit=16_384, **consistency(self.read_ts)
            )

    def _records(self, tbl: str, where: str = "", *, keyed: bool = False) -> dict[str, object]:
        """Records of kind ``tbl`` (those ``where`` selects too), by key, their parts joined and decoded;
        ``keyed``: ``where`` names at most :data:`BATCH` records (one call)."""
        clause = f'tbl == "{tbl}"' + (f" and {where}" if where else "")
        rows: list[dict] = []
        with self.milvus.calls():
            if keyed:
                rows = self.milvus.call(
                    "query",
                    self.catalogue.name,
                    filter=clause,
                    output_fields=["k", "part", "body"],
                    limit=16_384,
                    **consistency(self.read_ts),
                )
            else:
                iterator = self.milvus.client.query_iterator(
                    self.catalogue.name,
                    batch_size=4000,
                    filter=clause,
                    output_fields=["k", "part", "body"],
                    **consistency(self.read_ts),
                )
                try:
                    while batch := iterator.next():
                        rows.extend(batch)
                finally:
                    iterator.close()
        parts: dict[str, list[tuple[int, str]]] = {}
        last: dict[str, int] = {}
        for r in rows:
            part = int(r["part"])
            if part < 0:
                last[r["k"]] = -1 - part
                part = -1 - part
            parts.setdefault(r["k"], []).append((part, r["body"]))
        out = {}
        for k, pieces in parts.items():
            if k not in last or len(pieces) != last[k] + 1:
                continue  # a record being written: left out until it is whole
            out[k] = json.loads("".join(b for _, b in sorted(pieces)))
        return out

    def _by_keys(self, tbl: str, keys: Sequence[str]) -> dict[str, object]:
        out: dict[str, object] = {}
        keys = list(dict.fromkeys(keys))
        for at in range(0, len(keys), BATCH):
            out.update(self._records(tbl, f"k in {literal(keys[at : at + BATCH])}", keyed=True))
        return out

    def _meta_now(self) -> dict:
        found = self._records("m")
        if "meta" not in found:
            raise StoreSpecError(f"{self.target.describe()} holds no index settings; write the catalogue again")
        return found["meta"]

    def _cached(self, key: str, make):
        generation = self.generation_seen
        with self._lock:
            if generation != self._cache_generation:
                self._cache, self._cache_generation = {}, generation
            if key in self._cache:
                return self._cache[key]
        value = make()
        with self._lock:
            if generation == self._cache_generation:
                self._cache[key] = value
        return value

    def _table(self, tbl: str):
        return self._cached(f"table-{tbl}", lambda: self._records(tbl))

    def _meta(self) -> dict:
        return self._cached("meta", self._meta_now)

    def _documents(self) -> dict[str, list]:
        return self._table("d")

    # ------------------------------------------------------------------ state

    @property
    def generation(self) -> int:
        """The generation the server's catalogue reflects (read now)."""
        return int(self._state()[0])

    def _state(self) -> tuple[int, int]:
        """The generation the catalogue reflects, and the Milvus time to read it as of."""
        state = self.milvus.state_fresh() or {}
        if state.get("pending"):  # a write in progress: the last whole generation, read now
            return int(state.get("generation", -1)), 0
        return int(state.get("generation", -1)), int(state.get("ts", 0))

    @property
    def generation_seen(self) -> int:
        """The generation this thread's current question reads (or the last one read)."""
        return getattr(self._local, "generation", self._cache_generation)

    @contextlib.contextmanager
    def reading(self) -> Iterator[int]:
        """The generation the question reads (read once, Strong); blocks nest."""
        depth = getattr(self._local, "depth", 0)
        if not depth:
            self._local.generation, self._local.ts = self._state()
        self._local.depth = depth + 1
        try:
            yield self._local.generation
        finally:
            self._local.depth = depth

    def refresh(self, generation: int | None = None) -> None:
        """Nothing to load: every read goes to the server."""

    @property
    def manifest(self) -> dict:
        """The index's settings and counts, as the server holds them."""
        meta = dict(self._meta())
        meta["vector_index"] = {"kind": "milvus", "store": self.target.describe(), "replica": True}
        return meta

    def alias_names(self) -> dict[str, list[str]]:
        """The alias table the index was last written with (names and their variants)."""
        return self._meta().get("aliases", {})

    @property
    def passage_count(self) -> int:
        """How many passages the index holds."""
        return int(self._meta().get("passages", 0))

    @property
    def document_count(self) -> int:
        """How many articles the index holds."""
        return int(self._meta().get("documents", 0))

    # ------------------------------------------------------------------ articles

    def kept_text(self, doc_id: str) -> None:
        """None: a replica keeps no article text (its article view is made from the passages)."""
        return None

    def origins(self, doc_ids: Iterable[str]) -> dict[str, KeptText]:
        """Nothing: a replica is not told where articles from sources came from."""
        return {}

    def document(self, doc_id: str) -> StoredDocument | None:
        """The indexed article ``doc_id``, or None."""
        row = self._documents().get(doc_id)
        return StoredDocument.from_row(row[:16]) if row else None

    @property
    def documents(self) -> dict[str, StoredDocument]:
        """Every indexed article, by id."""
        return {k: StoredDocument.from_row(r[:16]) for k, r in sorted(self._documents().items())}

    def document_ids(self, *, origin: str | None = None) -> list[str]:
        """Ids of the indexed articles (of one origin, when given), sorted."""
        return sorted(k for k, r in self._documents().items() if origin is None or r[ORIGIN] == origin)

    def outlets(self) -> list[str]:
        """Distinct outlets of the indexed articles, sorted (empty string for articles without one)."""
        return sorted({r[OUTLET] for r in self._documents().values()})

    def summary(self) -> dict[str, int | str]:
        """Articles, the first and last article date, and how many articles are undated."""
        dates = [r[DATE] for r in self._documents().values()]
        dated = [d for d in dates if d]
        return {
            "documents": len(dates),
            "first_date": min(dated, default=""),
            "last_date": max(dated, default=""),
            "undated": len(dates) - len(dated),
        }

    def warnings(self) -> list[str]:
        """The warnings stored with indexed articles."""
        return [w for _, r in sorted(self._documents().items()) for w in json.loads(r[WARNINGS])]

    def allowed(
        self,
        *,
        outlets: frozenset[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        doc_ids: frozenset[str] | None = None,
    ):
        """As :meth:`IndexStore.allowed`, with the Milvus filter for the searches."""
        ranges = []
        for doc_id, r in self._documents().items():
            day = r[DATE]
            if outlets is not None and r[OUTLET_KEY] not in outlets:
                continue
            if (date_from or date_to) and not day:
                continue
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
            if doc_ids is not None and doc_id not in doc_ids:
                continue
            ranges.append((r[FIRST], r[COUNT]))
        ids = np.sort(_ids(ranges))
        where = milvus_filter(outlets=outlets, date_from=date_from, date_to=date_to, doc_ids=doc_ids)
        return Selection(ids, where)

    def live_ids(self) -> np.ndarray:
        """Ids of every passage, sorted."""
        return np.sort(_ids([(r[FIRST], r[COUNT]) for r in self._documents().values()]))

    # ------------------------------------------------------------------ BM25

    def stats(self) -> dict[str, float]:
        """Counts behind BM25: passages, sentences and their mean lengths in tokens."""
        meta = self._meta()
        p, s = int(meta["passages"]), int(meta["sentences"])
        return {
            "passages": p,
            "sentences": s,
            "passage_length": meta["passage_tokens"] / p if p else 1.0,
            "sentence_length": meta["sentence_tokens"] / s if s else 1.0,
        }

    def terms(self, tokens: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """Id, passage frequency and sentence frequency of each known token (looked up once per generation)."""
        return cached_terms(
            self._cached("terms", dict),
            tokens,
            lambda missing: {t: tuple(r) for t, r in self._by_keys("t", missing).items() if r[1] > 0},
        )

    def search_dense(self, vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the ``k`` passages nearest ``vector``, among ``allowed`` (searched in Milvus)."""
        return self.milvus.dense(vector, k, allowed, ts=self.read_ts)

    def search_lexical(
        self, tokens: Sequence[str], k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """As the index folder's stores: Milvus's BM25 where the server has it, else the postings
        the catalogue holds, scored by the same code as the index folder's."""
        if self.milvus.bm25:
            return self.milvus.bm25_search(tokens, k, allowed, ts=self.read_ts)
        stats = self.stats()
        terms = query_terms(self.terms(tokens), tokens, stats)
        deleted = self._cached("deleted", lambda: np.array(sorted(int(k) for k in self._table("x")), np.int64))
        return postings.search(
            self._postings,
            terms,
            k,
            mean_length=stats["passage_length"],
            deleted=deleted,
            allowed=allowed,
        )

    def _postings(self, term_ids: Sequence[int]) -> list[tuple[int, bytes, bytes, bytes]]:
        """(term, ids, tfs, lens) of the terms' postings, by term then segment (what ``postings.search`` reads)."""
        found = self._records("g", f"n in [{', '.join(str(int(t)) for t in term_ids)}]")
        rows = []
        for key, (ids, tfs, lens) in found.items():
            term, segment = (int(x) for x in key.split(":"))
            rows.append((term, segment, unb64(ids), unb64(tfs), unb64(lens)))
        rows.sort()
        return [(t, i, f, n) for t, _, i, f, n in rows]

    # ------------------------------------------------------------------ passages

    def _passages(self, ids: Sequence[int]) -> dict[int, list]:
        found = self._by_keys("p", [str(int(i)) for i in ids])
        return {int(k): v for k, v in found.items()}

    def candidates(self, ids: Sequence[int]) -> Candidates:
        """What retrieval reads of the passages ``ids`` (in that order; ids no longer indexed are left out)."""
        ids = [int(i) for i in ids]
        rows, docs = self._passages(ids), self._documents()
        found = []
        for i in ids:
            r = rows.get(i)
            if r is None or r[P_DOC] not in docs:
                continue
            pid, doc_id, start, _, _, _, first, _, spans, terms, lengths, flags, facts, speakers = r
            found.append(
                (pid, doc_id, start, first, unb64(spans), unb64(terms), unb64(lengths), unb64(flags), facts,
                 speakers, docs[doc_id][DATE])
            )  # fmt: skip
        return make_candidates(found, self.passage_file.read, self.sentence_file.read)

    def passage_map(self, ids: Iterable[int]) -> dict[int, Passage]:
        """The passages ``ids`` by id, with their article's labels (ids no longer indexed are left out)."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        rows, docs = self._passages(ids), self._documents()
        out = {}
        for i in ids:
            r = rows.get(i)
            if r is None or r[P_DOC] not in docs:
                continue
            d = docs[r[P_DOC]]
            out[i] = make_passage(
                (*r[:P_FIRST_SENTENCE], unb64(r[P_SPANS]), d[TITLE], d[OUTLET], d[DATE], d[URL], d[KIND])
            )
        return out

    def passages_by_id(self, ids: Iterable[int]) -> list[Passage]:
        """The passages ``ids``, in that order, with their article's labels."""
        ids = [int(i) for i in ids]
        found = self.passage_map(ids)
        return [found[i] for i in ids if i in found]

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in id order (read whole: a replica's archive is meant to be asked, not listed)."""
        return self.passages_by_id(self.live_ids())

    def quoted(
        self, *, doc_ids: Iterable[str] | None = None, passage_ids: Iterable[int] | None = None
    ) -> list[tuple[int, str, str, str]]:
        """(passage id, article id, outlet, stored quotes) of every passage that quotes someone, in id
        order: of the whole index, or only of the articles ``doc_ids`` or of the passages ``passage_ids``."""
        docs = self._documents()
        if doc_ids is not None:
            found = {}
            wanted = sorted(set(doc_ids))
            for at in range(0, len(wanted), 100):
                found.update(self._records("p", f"quoted == 1 and doc in {literal(wanted[at : at + 100])}"))
        elif passage_ids is not None:
            found = {
                k: r for k, r in self._passages(sorted({int(i) for i in passage_ids})).items() if r[P_QUOTES] != "[]"
            }
        else:
            found = self._records("p", "quoted == 1")
        rows = [(int(k), r[P_DOC], docs[r[P_DOC]][OUTLET], r[P_QUOTES]) for k, r in found.items() if r[P_DOC] in docs]
        return sorted(rows)

    def article_text(self, doc_id: str) -> str:
        """The article's passages' text, in order, one passage a line (what attribution read)."""
        return self.article_texts([doc_id]).get(doc_id, "")

    def article_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """Each article's passages' text, in order, one passage a line (what attribution read)."""
        out: dict[str, list[tuple[int, str]]] = {d: [] for d in doc_ids}
        doc_ids = list(dict.fromkeys(doc_ids))
        for at in range(0, len(doc_ids), 100):
            found = self._records("p", f"doc in {literal(doc_ids[at : at + 100])}")
            for r in found.values():
                out.setdefault(r[P_DOC], []).append((r[P_START], r[P_TEXT]))
        return {d: "\n".join(t for _, t in sorted(parts)) for d, parts in out.items()}

    def article_passages(self, doc_id: str) -> list[Passage]:
        """The article's passages, in order (a replica shows an article from them: it has no files)."""
        doc = self._documents().get(doc_id)
        if doc is None:
            return []
        return self.passages_by_id(range(doc[FIRST], doc[FIRST] + doc[COUNT]))

    def sentence_ranges(self, passage_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """The first sentence id and the number of sentences of each passage (one read for all)."""
        found = self._passages(sorted({int(i) for i in passage_ids}))
        return {i: (r[P_FIRST_SENTENCE], r[P_SENTENCES]) for i, r in found.items()}
