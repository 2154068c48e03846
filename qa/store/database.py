"""The SQLite database of an index: schema, connections (one per thread, WAL mode) and settings.

Tables::

    meta          key/value settings and counters: format, model, dimension, text rules,
                  generation (bumped by every commit), id counters, collection statistics,
                  and the vector index in use (kind, file, generation it reflects)
    documents     one row per indexed article: metadata (given and derived), file state,
                  content hash, its passage id range, warnings, its name-lexicon counts
                  (compressed JSON) and the words of the speakers it quotes
    skipped       articles seen but not indexed (empty, binary, too large, duplicate), with why
    passages      id (stable), article, source span, text, quotes, first sentence id, sentences
    passage_data  per passage, what retrieval reads of its sentences: spans, BM25 term ids,
                  flags (number, date, lead-in, colon), name groups, counted words, speakers
    terms         BM25 vocabulary: term, passages and sentences holding it
    postings      the inverted index, one row per term and segment (see qa/store/postings.py)
    segments      postings segments, with how many of their passages were removed since
    deleted       removed passage ids still listed by a segment
    names         how often each word is written capitalised mid-sentence and in lower case
    speaker_words words of the names of quoted speakers, with how many articles quote them
    vector_log    passage id ranges added (+1), removed (-1) or re-labelled (0) at each generation,
                  since the vector index file was last written (or a Milvus collection caught up)
    ann_dead      ids removed from the HNSW graph in that file, which still holds their nodes
    texts         the text of each article that came from a source (feed, sitemap, URL list,
                  WARC, export), with the source's name, when it was fetched and its byline:
                  such an article has no file, so citations and the article view read it here
    sources       the recorded sources: name, kind, location, options, when last synced, the
                  state to send next time (ETag, file hash) and the last sync's errors
    source_items  what each source holds: the entry's key (its URL as the source gives it,
                  canonical), the article it became (another id after a redirect), and the
                  stamp that tells a changed version; written in the commit that adds the article

Readers see the last committed state: every question is answered inside one read
transaction, and a commit becomes visible all at once.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["DATABASE", "Database", "select_in"]

DATABASE = "index.sqlite"

#: The tables of sources (an index made before them gets them when opened: see IndexStore.open).
SOURCES_SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    doc_id TEXT PRIMARY KEY, text TEXT NOT NULL, source TEXT NOT NULL, fetched TEXT NOT NULL, author TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, location TEXT NOT NULL,
    options TEXT NOT NULL, added TEXT NOT NULL, synced TEXT NOT NULL, state TEXT NOT NULL, errors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_items (
    source INTEGER NOT NULL, key TEXT NOT NULL, doc_id TEXT NOT NULL, stamp TEXT NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS source_items_doc ON source_items(doc_id);
"""

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    title TEXT NOT NULL, outlet TEXT NOT NULL, outlet_key TEXT NOT NULL, date TEXT NOT NULL,
    url TEXT NOT NULL, kind TEXT NOT NULL,
    given TEXT NOT NULL, derived TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, content TEXT NOT NULL,
    first_passage INTEGER NOT NULL, passages INTEGER NOT NULL,
    warnings TEXT NOT NULL, names TEXT NOT NULL, speakers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_content ON documents(content);
CREATE INDEX IF NOT EXISTS documents_outlet ON documents(outlet_key);
CREATE INDEX IF NOT EXISTS documents_first ON documents(first_passage);
CREATE TABLE IF NOT EXISTS skipped (
    doc_id TEXT PRIMARY KEY, origin TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, reason TEXT NOT NULL, duplicate_of TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, text TEXT NOT NULL,
    quotes TEXT NOT NULL, first_sentence INTEGER NOT NULL, sentences INTEGER NOT NULL, segment INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, char_start);
CREATE INDEX IF NOT EXISTS passages_sentence ON passages(first_sentence);
CREATE INDEX IF NOT EXISTS passages_segment ON passages(segment);
CREATE TABLE IF NOT EXISTS passage_data (
    id INTEGER PRIMARY KEY,
    spans BLOB NOT NULL, terms BLOB NOT NULL, lengths BLOB NOT NULL, flags BLOB NOT NULL,
    facts TEXT NOT NULL, speakers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS terms (
    id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, pdf INTEGER NOT NULL, sdf INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    term INTEGER NOT NULL, segment INTEGER NOT NULL, ids BLOB NOT NULL, tfs BLOB NOT NULL, lens BLOB NOT NULL,
    PRIMARY KEY (term, segment)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_segment ON postings(segment);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, passages INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deleted (id INTEGER PRIMARY KEY, segment INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS names (
    word TEXT PRIMARY KEY, capital INTEGER NOT NULL, lower INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS speaker_words (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ann_dead (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS vector_log (
    gen INTEGER NOT NULL, op INTEGER NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL
);
"""
    + SOURCES_SCHEMA
)

#: Settings an empty index starts with (numbers are stored as JSON text like every meta value).
COUNTERS = {
    "generation": 0,
    "next_passage": 0,
    "next_sentence": 0,
    "next_segment": 0,
    "passages": 0,
    "sentences": 0,
    "documents": 0,
    "passage_tokens": 0,
    "sentence_tokens": 0,
    "ann_generation": 0,
}


class Database:
    """The index database at ``folder/index.sqlite``: a connection per thread, in WAL mode.

    Args:
        folder: the index folder.
        create: create the file and tables when missing.
    """

    def __init__(self, folder: str | Path, *, create: bool = False) -> None:
        self.path = Path(folder) / DATABASE
        if not create and not self.path.is_file():
            raise FileNotFoundError(self.path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        if create:
            conn = self.connection
            conn.executescript(SCHEMA)

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: transactions are begun explicitly)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-32768")  # 32 MB of pages per connection
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, args)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._guard:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread's connection: committed when the block ends, rolled
        back when it raises (or is interrupted)."""
        conn = self.connection
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ meta

    def meta(self) -> dict[str, Any]:
        """Every setting, JSON-decoded."""
        return {k: json.loads(v) for k, v in self.execute("SELECT key, value FROM meta")}

    def get(self, key: str, default: Any = None) -> Any:
        row = self.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set(self, **values: Any) -> None:
        """Store settings (inside the caller's transaction, if any)."""
        self.connection.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(k, json.dumps(v)) for k, v in values.items()],
        )


def select_in(conn: sqlite3.Connection, sql: str, values: list, *, chunk: int = 900) -> list[tuple]:
    """The rows of ``sql`` for every value in ``values``, where ``sql`` holds one ``IN ({})``
    (filled with placeholders, ``chunk`` values a statement, under SQLite's variable limit)."""
    rows: list[tuple] = []
    for at in range(0, len(values), chunk):
        part = values[at : at + chunk]
        rows.extend(conn.execute(sql.format(",".join("?" * len(part))), part))
    return rows
