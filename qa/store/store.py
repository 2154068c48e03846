"""An index folder opened for answering questions: the database, the vector files and the vector index.

The folder holds::

    manifest.json     format, format version, model and dimension (fixed when the index is made)
    index.sqlite      articles, passages, sentences, facts, BM25 postings, settings (see database.py)
    passages.f16      passage vectors, row i = passage id i (float16)
    sentences.i8      sentence vectors, row i = sentence id i (8-bit codes with a scale per row;
                      sentences.f16, float16, in an index made before them, until it is next written)
    ann-G.faiss       the vector index over the passage vectors as of generation G (flat or IVF)

Only what a question needs is read: its candidates' rows and vectors. The vector index is the
one thing held in memory; it is brought up to date from ``vector_log`` whenever a commit has
happened since (by this process or another), so a running chat sees an added article on its
next question.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from embeddings import IndexFileError, VectorFile, VectorIndex

from ..dates import parse_day
from ..errors import IndexCorruptError
from ..ingest.names import NAME_EXCLUDED
from ..ingest.passages import Passage, Quote
from ..lexical import STOPWORDS
from . import postings
from .database import SCHEMA, Database, select_in
from .records import DOCUMENT_COLUMNS, Candidates, KeptText, StoredDocument

__all__ = [
    "FLOAT16_SENTENCE_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "PASSAGE_VECTORS",
    "SENTENCE_FILE",
    "IndexStore",
    "Lookup",
]

FORMAT = "qa-index"
#: 1: JSONL files and whole-corpus FAISS/bm25s files (read no more; rebuilt with a message).
#: 2: SQLite database, float16 vector files, FAISS index with stable ids.
FORMAT_VERSION = 2
PASSAGE_VECTORS, SENTENCE_FILE = "passages.f16", "sentences.i8"
#: The sentence vectors of an index made before 8-bit codes (read as they are; a writer converts them).
FLOAT16_SENTENCE_FILE = "sentences.f16"
_I32 = np.dtype("<i4")
#: The vector index file is rewritten once the log since it covers this many passages, or this
#: share of the index, whichever is more (opening replays at most that many additions).
ANN_LOG_ROWS, ANN_LOG_SHARE = 20_000, 0.05


class Lookup:
    """Membership of words in a table of the index (names, speakers), cached per generation."""

    def __init__(self, store: IndexStore, sql: str, accept=None) -> None:
        self._store, self._sql, self._accept = store, sql, accept or (lambda _w: True)
        self._cache: dict[str, bool] = {}
        self._generation = -1

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        generation = self._store.generation_seen
        if generation != self._generation:
            self._cache, self._generation = {}, generation
        found = self._cache.get(word)
        if found is None:
            found = self._accept(word) and self._store.db.execute(self._sql, (word,)).fetchone() is not None
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[word] = found
        return found


class PassageView(Sequence):
    """All passages in id order, read from the database as they are asked for."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        self.ids = store.live_ids()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._store.passages_by_id(self.ids[i])
        return self._store.passages_by_id([int(self.ids[i])])[0]

    def __iter__(self) -> Iterator[Passage]:
        for at in range(0, len(self.ids), 2000):
            yield from self._store.passages_by_id(self.ids[at : at + 2000])


class IndexStore:
    """An opened index (see the module docstring); :func:`qa.indexing.open_index` makes one.

    Raises:
        IndexCorruptError: (from :meth:`open`) the folder is not a readable index.
    """

    def __init__(self, folder: Path, db: Database) -> None:
        self.folder = Path(folder)
        self.db = db
        meta = db.meta()
        self.model: str = meta["model"]
        self.dimension: int = int(meta["dimension"])
        self.passage_file = VectorFile(self.folder / PASSAGE_VECTORS, self.dimension)
        self.sentence_file = self._sentence_file(meta)
        self._ann: VectorIndex | None = None
        self._ann_file: str | None = None
        self._ann_generation = -1
        self._ann_lock = threading.RLock()
        self._local = threading.local()
        self._cache: dict[str, object] = {}
        self._cache_generation = -1
        self.names = Lookup(
            self,
            "SELECT 1 FROM names WHERE word = ? AND capital > 0 AND lower = 0",
            lambda w: len(w) > 1 and w not in STOPWORDS and w not in NAME_EXCLUDED,
        )
        self.speaker_words = Lookup(self, "SELECT 1 FROM speaker_words WHERE word = ? AND count > 0")

    @classmethod
    def open(cls, folder: str | Path, **options) -> IndexStore:
        """Open the index at ``folder`` (it must exist and be of :data:`FORMAT_VERSION`); ``options``
        go to the constructor (a subclass's search side)."""
        folder = Path(folder)
        try:
            db = Database(folder)
            meta = db.meta()
            if meta.get("format") == FORMAT:
                db.connection.executescript(SCHEMA)  # tables added since the index was made (all IF NOT EXISTS)
        except (FileNotFoundError, sqlite3.Error) as exc:
            raise IndexCorruptError(f"index.sqlite cannot be read ({exc})") from exc
        missing = {"format", "format_version", "model", "dimension", "generation"} - set(meta)
        if missing or meta.get("format") != FORMAT:
            db.close()
            raise IndexCorruptError(f"index.sqlite is not a qa index (missing {', '.join(sorted(missing))})")
        try:
            store = cls(folder, db, **options)
        except BaseException:
            db.close()
            raise
        for vectors, key in ((store.passage_file, "next_passage"), (store.sentence_file, "next_sentence")):
            if vectors.rows < meta[key]:
                db.close()
                raise IndexCorruptError(
                    f"{vectors.path.name} holds {vectors.rows} vectors, the index needs {meta[key]}"
                )
        return store

    def close(self) -> None:
        """Close the database connections."""
        self.db.close()

    # ------------------------------------------------------------------ state

    @property
    def manifest(self) -> dict:
        """The index's settings and counts (format, model, dimension, text rules, passages,
        sentences, documents, generation, vector index kind...)."""
        meta = self.db.meta()
        meta["vector_index"] = {
            "kind": meta.get("ann_kind"),
            "file": meta.get("ann_file"),
            "generation": meta.get("ann_generation"),
        }
        return meta

    @property
    def generation(self) -> int:
        """How many commits the index has seen (read now, in this thread's transaction if any)."""
        return int(self.db.get("generation", 0))

    @property
    def generation_seen(self) -> int:
        """The generation this thread's current read (or the last refresh) saw."""
        return getattr(self._local, "generation", self._ann_generation)

    @contextlib.contextmanager
    def reading(self) -> Iterator[int]:
        """One consistent view of the index for the duration of the block (one read transaction);
        yields its generation. Blocks nest."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield self._local.generation
            finally:
                self._local.depth = depth
            return
        conn = self.db.connection
        conn.execute("BEGIN")
        self._local.depth = 1
        try:
            generation = self.generation  # the first read fixes the snapshot
            self._local.generation = generation
            self.refresh(generation)
            yield generation
        finally:
            self._local.depth = 0
            with contextlib.suppress(sqlite3.Error):
                conn.execute("COMMIT")

    def refresh(self, generation: int | None = None) -> None:
        """Bring the vector index up to ``generation`` (the current one when None)."""
        generation = self.generation if generation is None else generation
        with self._ann_lock:
            if self._ann is not None and self._ann_generation >= generation:
                return
            meta = self.db.meta()
            if meta.get("sentence_file", FLOAT16_SENTENCE_FILE) != self.sentence_file.path.name:
                self.sentence_file = self._sentence_file(meta)  # a writer converted them to 8 bits
            if self._ann is None or meta.get("ann_file") != self._ann_file:
                self._load_ann(meta)
            self._replay(self._ann_generation, generation)
            self._ann_generation = max(self._ann_generation, generation)

    def _sentence_file(self, meta: dict) -> VectorFile:
        name = meta.get("sentence_file", FLOAT16_SENTENCE_FILE)
        return VectorFile(self.folder / name, self.dimension, codes="f16" if name.endswith(".f16") else "i8")

    def _load_ann(self, meta: dict) -> None:
        name = meta.get("ann_file")
        if name:
            try:
                dead = [r[0] for r in self.db.execute("SELECT id FROM ann_dead")]
                self._ann = VectorIndex.load(self.folder / name, dimension=self.dimension, dead=dead)
                self._ann_file, self._ann_generation = name, int(meta["ann_generation"])
                return
            except IndexFileError:
                pass  # rebuilt from the vectors below
        ids = self.live_ids()
        self._ann = VectorIndex.build(ids, self.passage_file.read(ids), dimension=self.dimension)
        self._ann_file, self._ann_generation = name, int(meta["generation"])

    def _replay(self, after: int, upto: int) -> None:
        rows = self.db.execute(
            "SELECT op, first, count FROM vector_log WHERE gen > ? AND gen <= ? ORDER BY gen, rowid", (after, upto)
        ).fetchall()
        for op, first, count in rows:
            ids = np.arange(first, first + count, dtype=np.int64)
            if op > 0:
                self._ann.add(ids, self.passage_file.read(ids))
            elif op < 0:
                self._ann.remove(ids)  # op 0: re-labelled, nothing for the vectors

    def publish(self, conn: sqlite3.Connection, generation: int) -> None:
        """Tell the search side of the commit in progress on ``conn``: its ``vector_log`` rows are
        written (passage ranges added, removed, or re-labelled). Raising rolls the commit back.
        The FAISS index needs nothing here: it replays ``vector_log``."""

    def recover(self) -> None:
        """Bring the search side in line with the last commit (called by a writer, under the
        index's lock). The FAISS index needs nothing: :meth:`refresh` replays the log."""

    def maintain(self, *, force: bool = False, first: bool = False) -> None:
        """Rebuild the vector index when it no longer suits its size (flat past its limit, HNSW
        with many removed nodes), and write its file when that happened, the log since the last
        file is long, there is no file yet (``first``) or ``force``."""
        meta = self.db.meta()
        ann = self.vector_index
        rebuild = ann.needs_rebuild
        logged = self.db.execute("SELECT COALESCE(SUM(count), 0) FROM vector_log WHERE op != 0").fetchone()[0]
        long_log = logged > max(ANN_LOG_ROWS, ANN_LOG_SHARE * len(ann))
        if not (force or rebuild or long_log or (first and not meta.get("ann_file"))):
            return
        generation = int(meta["generation"])
        if rebuild:
            ids = self.live_ids()
            ann = VectorIndex.build(ids, self.passage_file.read(ids), dimension=self.dimension)
        name = f"ann-{generation:08d}.faiss"
        tmp = self.folder / f".{name}.tmp"
        ann.save(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / name)
        with self.db.transaction() as conn:
            self.db.set(ann_file=name, ann_generation=generation, ann_kind=ann.kind, log_from=generation)
            conn.execute("DELETE FROM vector_log WHERE gen <= ?", (generation,))
            conn.execute("DELETE FROM ann_dead")
            conn.executemany("INSERT INTO ann_dead(id) VALUES (?)", [(int(i),) for i in ann.dead])
        with self._ann_lock:
            self._ann, self._ann_file, self._ann_generation = ann, name, generation
        for old in self.folder.glob("ann-*.faiss"):
            if old.name != name:
                old.unlink(missing_ok=True)

    @property
    def vector_index(self) -> VectorIndex:
        """The vector index, as of the last refresh."""
        if self._ann is None:
            self.refresh()
        return self._ann

    def _cached(self, key: str, make):
        generation = self.generation_seen
        if generation != self._cache_generation:
            self._cache, self._cache_generation = {}, generation
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # ------------------------------------------------------------------ documents

    def document(self, doc_id: str) -> StoredDocument | None:
        """The indexed article ``doc_id``, or None."""
        row = self.db.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return StoredDocument.from_row(row) if row else None

    def kept_text(self, doc_id: str) -> KeptText | None:
        """The text kept for ``doc_id`` (an article from a source, which has no file), or None."""
        try:
            row = self.db.execute(
                "SELECT text, source, fetched, author FROM texts WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        except sqlite3.OperationalError:  # an index made before sources, opened read-only
            return None
        return KeptText(*row) if row else None

    def origins(self, doc_ids: Iterable[str]) -> dict[str, KeptText]:
        """Where each of ``doc_ids`` that came from a source came from (source, fetch time, byline),
        by id, in one query that leaves the texts unread (their ``text`` is empty)."""
        try:
            rows = select_in(
                self.db.connection,
                "SELECT doc_id, source, fetched, author FROM texts WHERE doc_id IN ({})",
                list(dict.fromkeys(doc_ids)),
            )
        except sqlite3.OperationalError:  # an index made before sources, opened read-only
            return {}
        return {doc_id: KeptText("", source, fetched, author) for doc_id, source, fetched, author in rows}

    @property
    def documents(self) -> dict[str, StoredDocument]:
        """Every indexed article, by id (reads them all: prefer :meth:`document` and :meth:`outlets`)."""
        rows = self.db.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY doc_id")
        return {row[0]: StoredDocument.from_row(row) for row in rows}

    def document_ids(self, *, origin: str | None = None) -> list[str]:
        """Ids of the indexed articles (of one origin, when given), sorted."""
        if origin is None:
            return [r[0] for r in self.db.execute("SELECT doc_id FROM documents ORDER BY doc_id")]
        sql = "SELECT doc_id FROM documents WHERE origin = ? ORDER BY doc_id"
        return [r[0] for r in self.db.execute(sql, (origin,))]

    @property
    def document_count(self) -> int:
        return int(self.db.get("documents", 0))

    @property
    def passage_count(self) -> int:
        return int(self.db.get("passages", 0))

    def outlets(self) -> list[str]:
        """Distinct outlets of the indexed articles, sorted (empty string for articles without one)."""
        return sorted(r[0] for r in self.db.execute("SELECT DISTINCT outlet FROM documents"))

    def summary(self) -> dict[str, int | str]:
        """Articles, the first and last article date, and how many articles are undated."""
        documents, first, last, undated = self.db.execute(
            "SELECT COUNT(*), MIN(NULLIF(date, '')), MAX(NULLIF(date, '')), SUM(date = '') FROM documents"
        ).fetchone()
        return {"documents": documents, "first_date": first or "", "last_date": last or "", "undated": undated or 0}

    def warnings(self) -> list[str]:
        """The warnings stored with indexed articles (such as a file that is not UTF-8)."""
        rows = self.db.execute("SELECT warnings FROM documents WHERE warnings != '[]' ORDER BY doc_id")
        return [w for (raw,) in rows for w in json.loads(raw)]

    def allowed(
        self,
        *,
        outlets: frozenset[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        doc_ids: frozenset[str] | None = None,
    ) -> np.ndarray:
        """Sorted ids of the passages of the articles that pass these filters (see
        :class:`~qa.search.retrieval.Filters`; outlets lower-cased, undated articles fail a date filter)."""
        where, args = [], []
        if outlets is not None:
            where.append(f"outlet_key IN ({','.join('?' * len(outlets))})")
            args.extend(sorted(outlets))
        if date_from or date_to:
            where.append("date != ''")
        if date_from:
            where.append("date >= ?")
            args.append(date_from)
        if date_to:
            where.append("date <= ?")
            args.append(date_to)
        if doc_ids is not None:
            where.append(f"doc_id IN ({','.join('?' * len(doc_ids))})")
            args.extend(sorted(doc_ids))
        sql = "SELECT first_passage, passages FROM documents" + (" WHERE " + " AND ".join(where) if where else "")
        ranges = self.db.execute(sql, args).fetchall()
        if not ranges:
            return np.zeros(0, np.int64)
        return np.sort(np.concatenate([np.arange(a, a + n, dtype=np.int64) for a, n in ranges]))

    # ------------------------------------------------------------------ lexical statistics

    def stats(self) -> dict[str, float]:
        """Counts behind BM25: passages, sentences and their mean lengths in tokens."""

        def make() -> dict[str, float]:
            meta = self.db.meta()
            p, s = int(meta["passages"]), int(meta["sentences"])
            return {
                "passages": p,
                "sentences": s,
                "passage_length": meta["passage_tokens"] / p if p else 1.0,
                "sentence_length": meta["sentence_tokens"] / s if s else 1.0,
            }

        return self._cached("stats", make)

    def terms(self, tokens: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """Id, passage frequency and sentence frequency of each known token (looked up once per
        generation: a question's candidate search and its scoring ask for the same terms)."""
        sql = "SELECT term, id, pdf, sdf FROM terms WHERE term IN ({}) AND pdf > 0"
        return cached_terms(
            self._cached("terms", dict),
            tokens,
            lambda missing: {t: (i, p, s) for t, i, p, s in select_in(self.db.connection, sql, missing)},
        )

    def _deleted(self) -> np.ndarray:
        return self._cached(
            "deleted",
            lambda: np.array([r[0] for r in self.db.execute("SELECT id FROM deleted ORDER BY id")], dtype=np.int64),
        )

    # ------------------------------------------------------------------ search

    def search_dense(self, vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the ``k`` passages whose vectors are nearest ``vector`` (among ``allowed``)."""
        _, ids = self.vector_index.search(vector, k, allowed=allowed, exact=self.passage_file.read)
        return ids

    def search_lexical(
        self, tokens: Sequence[str], k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and BM25 scores of the ``k`` best passages for ``tokens`` (among ``allowed``): every
        posting of every term is scored (see :func:`postings.search`)."""
        stats = self.stats()
        return postings.search(
            postings.reader(self.db.connection),
            query_terms(self.terms(tokens), tokens, stats),
            k,
            mean_length=stats["passage_length"],
            deleted=self._deleted(),
            allowed=allowed,
        )

    def live_ids(self) -> np.ndarray:
        """Ids of every passage, sorted."""
        return np.array([r[0] for r in self.db.execute("SELECT id FROM passages ORDER BY id")], dtype=np.int64)

    def candidates(self, ids: Sequence[int]) -> Candidates:
        """What retrieval reads of the passages ``ids`` (in that order; ids no longer indexed are left out)."""
        ids = [int(i) for i in ids]
        sql = (
            "SELECT p.id, p.doc_id, p.char_start, p.first_sentence, d.spans, d.terms, d.lengths, d.flags, "
            "d.facts, d.speakers, doc.date FROM passages p JOIN passage_data d ON d.id = p.id "
            "JOIN documents doc ON doc.doc_id = p.doc_id WHERE p.id IN ({})"
        )
        rows = {r[0]: r for r in select_in(self.db.connection, sql, ids)}
        return make_candidates([rows[i] for i in ids if i in rows], self.passage_file.read, self.sentence_file.read)

    def passages_by_id(self, ids: Iterable[int]) -> list[Passage]:
        """The passages ``ids``, in that order, with their article's labels (ids no longer indexed are left out)."""
        ids = [int(i) for i in ids]
        found = self.passage_map(ids)
        return [found[i] for i in ids if i in found]

    def passage_map(self, ids: Iterable[int]) -> dict[int, Passage]:
        """The passages ``ids`` by id, with their article's labels (ids no longer indexed are left out)."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        sql = (
            "SELECT p.id, p.doc_id, p.char_start, p.char_end, p.text, p.quotes, d.spans, "
            "doc.title, doc.outlet, doc.date, doc.url, doc.kind FROM passages p "
            "JOIN passage_data d ON d.id = p.id JOIN documents doc ON doc.doc_id = p.doc_id WHERE p.id IN ({})"
        )
        rows = {r[0]: r for r in select_in(self.db.connection, sql, ids)}
        return {i: make_passage(rows[i]) for i in ids if i in rows}

    @property
    def passages(self) -> PassageView:
        """Every passage, in id order (read as needed)."""
        return PassageView(self)

    def quoted(
        self, *, doc_ids: Iterable[str] | None = None, passage_ids: Iterable[int] | None = None
    ) -> list[tuple[int, str, str, str]]:
        """(passage id, article id, outlet, stored quotes) of every passage that quotes someone, in id
        order: of the whole index (one scan of the passages table), or only of the articles
        ``doc_ids`` or of the passages ``passage_ids``."""
        sql = (
            "SELECT p.id, p.doc_id, d.outlet, p.quotes FROM passages p JOIN documents d ON d.doc_id = p.doc_id "
            "WHERE p.quotes != '[]'"
        )
        if doc_ids is not None:
            return sorted(select_in(self.db.connection, sql + " AND p.doc_id IN ({})", sorted(set(doc_ids))))
        if passage_ids is not None:
            ids = sorted({int(i) for i in passage_ids})
            return sorted(select_in(self.db.connection, sql + " AND p.id IN ({})", ids))
        return self.db.execute(sql + " ORDER BY p.id").fetchall()

    def article_text(self, doc_id: str) -> str:
        """The article's passages' text, in order, one passage a line (what attribution read)."""
        rows = self.db.execute("SELECT text FROM passages WHERE doc_id = ? ORDER BY char_start", (doc_id,))
        return "\n".join(r[0] for r in rows)

    def article_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """:meth:`article_text` of each of ``doc_ids``."""
        return {doc_id: self.article_text(doc_id) for doc_id in doc_ids}

    def sentence_ranges(self, passage_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """The first sentence id and the number of sentences of each passage (ids no longer indexed are left out)."""
        sql = "SELECT id, first_sentence, sentences FROM passages WHERE id IN ({})"
        return {i: (f, n) for i, f, n in select_in(self.db.connection, sql, sorted({int(i) for i in passage_ids}))}


def cached_terms(
    seen: dict[str, tuple[int, int, int] | None],
    tokens: Iterable[str],
    fetch: Callable[[list[str]], dict[str, tuple[int, int, int]]],
) -> dict[str, tuple[int, int, int]]:
    """The known ``tokens``' (id, passage frequency, sentence frequency), from ``seen`` (a store's
    cache for this generation, at most about 200,000 tokens) and, for those it lacks, ``fetch``."""
    tokens = set(tokens)
    missing = sorted(t for t in tokens if t not in seen)
    if missing:
        found = fetch(missing)
        if len(seen) > 200_000:
            seen.clear()
        seen.update({t: found.get(t) for t in missing})
    return {t: seen[t] for t in tokens if seen.get(t) is not None}


def query_terms(
    known: dict[str, tuple[int, int, int]], tokens: Sequence[str], stats: dict[str, float]
) -> list[tuple[int, float, int, str]]:
    """What :func:`postings.search` takes for a query's BM25 ``tokens``: per known term, its id, its
    weight (IDF times how often the query holds it), its passage frequency and the term."""
    counts: dict[str, int] = {}
    for t in tokens:
        if t in known:
            counts[t] = counts.get(t, 0) + 1
    return [
        (known[t][0], n * postings.bm25_idf(stats["passages"], known[t][1]), known[t][1], t) for t, n in counts.items()
    ]


def make_candidates(found: Sequence[tuple], read_vectors, read_sentence_vectors) -> Candidates:
    """:class:`Candidates` from rows of (id, doc_id, char_start, first_sentence, spans, terms, lengths,
    flags, facts, speakers, date), blobs as stored, and the readers of passage and sentence vectors
    by id (one code path for every store)."""
    lengths = np.frombuffer(b"".join(r[6] for r in found), _I32).astype(np.int64)
    counts = np.array([len(r[6]) // 4 for r in found], dtype=np.int64)
    ids = np.array([r[0] for r in found], dtype=np.int64)
    out = Candidates(
        ids=ids,
        keys=tuple((r[1], r[2]) for r in found),
        first_sentence=np.array([r[3] for r in found], dtype=np.int64),
        counts=counts,
        spans=np.frombuffer(b"".join(r[4] for r in found), _I32).astype(np.int64).reshape(-1, 2),
        flags=np.frombuffer(b"".join(r[7] for r in found), np.uint8),
        terms=np.frombuffer(b"".join(r[5] for r in found), _I32).astype(np.int64),
        token_sentence=np.repeat(np.arange(len(lengths), dtype=np.int64), lengths),
        sentence_lengths=lengths,
        speakers_text=tuple(r[9] for r in found),
        days=np.array([_ordinal(r[10]) for r in found], dtype=np.int64),
        vectors=read_vectors(ids),
        sentence_vectors=np.zeros((0, 0), np.float32),
        facts_json=tuple(r[8] for r in found),
    )
    object.__setattr__(out, "sentence_vectors", read_sentence_vectors(out.sentence_ids))
    return out


def make_passage(row: tuple) -> Passage:
    """A :class:`Passage` from a row of (id, doc_id, char_start, char_end, text, quotes, spans, title,
    outlet, date, url, kind), spans as stored."""
    _, doc_id, start, end, text, quotes, spans, title, outlet, day, url, kind = row
    flat = np.frombuffer(spans, _I32).tolist()
    return Passage(
        doc_id=doc_id,
        title=title,
        outlet=outlet,
        date=day,
        text=text,
        char_start=start,
        char_end=end,
        url=url,
        kind=kind,
        sentences=tuple(zip(flat[0::2], flat[1::2])),
        quotes=tuple(Quote.from_row(q) for q in json.loads(quotes)),
    )


def _ordinal(day: str | None) -> int:
    """An article date as ``date.toordinal()``; 0 when it is missing or not a YYYY-MM-DD date."""
    try:
        found = parse_day(day)
    except ValueError:
        return 0
    return found.toordinal() if found else 0
