"""The catalogue on the Milvus server, so that chat and API replicas need no index folder.

An index written with ``store="milvus://..."`` keeps, beside its passages collection, two more:

``COLLECTION_catalogue``
    every row the questions read, one row per record (split in parts of at most
    :data:`PART_CHARS` characters): ``tbl`` says which kind, ``k`` its key, ``body`` its JSON
    (binary columns in base64). Kinds: ``m`` the index's settings and counts, ``d`` an article,
    ``p`` a passage with its sentence facts and quotes, ``t`` a BM25 term and its frequencies,
    ``g`` a term's postings in one segment, ``x`` a removed passage still in a segment, ``w`` a
    name word, ``s`` a word of a speaker's name.
``COLLECTION_sentences``
    the sentence vectors, by sentence id.

The ingest side (the index folder) stays the one writer. Its SQLite triggers list every record
a commit changes (``catalogue_changes``); the commit writes those records to the server inside
its SQLite transaction, before the state row says the generation is there, exactly as the
passages collection is written (:mod:`qa.store.milvus`). A write that fails rolls the commit
back; an interrupted one is mended by writing the catalogue afresh.

:class:`~qa.store.served.ServedStore` is the read side: the store a replica opens with nothing but the server
(``Assistant.load(replica=True, store="milvus://...")``, ``qa serve --replica``). It reads the
generation from the state row (Strong consistency) at the start of every question, and what the
question needs by id; small tables (settings, articles, name words, removed passages) are read
whole once per generation.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence

import numpy as np

from .database import select_in

__all__ = ["BATCH", "CATALOGUE_TRIGGERS", "Catalogue", "collections", "literal", "unb64"]

#: The most characters of one row's body (Milvus VARCHAR holds 65,535 bytes; bodies are ASCII JSON).
PART_CHARS = 60_000
#: Rows sent in one upsert, keys in one query or delete.
BATCH = 500
_I32 = np.dtype("<i4")

#: Triggers that list the records each commit changes (in ``catalogue_changes``), for the server copy.
CATALOGUE_TRIGGERS = (
    """
CREATE TABLE IF NOT EXISTS catalogue_changes (tbl TEXT NOT NULL, k TEXT NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalogue_sentences (first INTEGER NOT NULL, count INTEGER NOT NULL, live INTEGER NOT NULL);
"""
    + "".join(
        f"""
CREATE TRIGGER IF NOT EXISTS catalogue_{table}_{op} AFTER {op} ON {table} BEGIN
    INSERT OR IGNORE INTO catalogue_changes(tbl, k) VALUES ('{tbl}', {row}.{key});
END;"""
        for table, tbl, key in (
            ("documents", "d", "doc_id"),
            ("passages", "p", "id"),
            ("passage_data", "p", "id"),
            ("terms", "t", "term"),
            ("names", "w", "word"),
            ("speaker_words", "s", "word"),
            ("deleted", "x", "id"),
        )
        for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    )
    + "".join(
        f"""
CREATE TRIGGER IF NOT EXISTS catalogue_postings_{op} AFTER {op} ON postings BEGIN
    INSERT OR IGNORE INTO catalogue_changes(tbl, k) VALUES ('g', {row}.term || ':' || {row}.segment);
END;"""
        for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    )
    + """
CREATE TRIGGER IF NOT EXISTS catalogue_sentences_insert AFTER INSERT ON passages BEGIN
    INSERT INTO catalogue_sentences(first, count, live) VALUES (NEW.first_sentence, NEW.sentences, 1);
END;
CREATE TRIGGER IF NOT EXISTS catalogue_sentences_delete AFTER DELETE ON passages BEGIN
    INSERT INTO catalogue_sentences(first, count, live) VALUES (OLD.first_sentence, OLD.sentences, 0);
END;
"""
)


def _b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of a base64 column of a record."""
    return base64.b64decode(text)


# --------------------------------------------------------------------------- the records


def _records(conn, tbl: str, keys: Sequence[str]) -> tuple[list[tuple[str, int, str, int, object]], list[str]]:
    """(key, number, article, quoted, body) of the records of kind ``tbl`` that ``conn`` holds among
    ``keys``, and the keys it no longer holds."""
    found: list[tuple[str, int, str, int, object]] = []
    if tbl == "d":
        from .records import DOCUMENT_COLUMNS

        cols = DOCUMENT_COLUMNS + ", outlet_key"
        for row in select_in(conn, f"SELECT {cols} FROM documents WHERE doc_id IN ({{}})", list(keys)):
            found.append((row[0], -1, row[0], 0, list(row)))
    elif tbl == "p":
        sql = (
            "SELECT p.id, p.doc_id, p.char_start, p.char_end, p.text, p.quotes, p.first_sentence, p.sentences, "
            "d.spans, d.terms, d.lengths, d.flags, d.facts, d.speakers FROM passages p "
            "JOIN passage_data d ON d.id = p.id WHERE p.id IN ({})"
        )
        for r in select_in(conn, sql, [int(k) for k in keys]):
            body = [*r[:8], _b64(r[8]), _b64(r[9]), _b64(r[10]), _b64(r[11]), r[12], r[13]]
            found.append((str(r[0]), r[0], r[1], int(r[5] != "[]"), body))
    elif tbl == "t":
        for term, tid, pdf, sdf in select_in(
            conn, "SELECT term, id, pdf, sdf FROM terms WHERE term IN ({})", list(keys)
        ):
            found.append((term, tid, "", 0, [tid, pdf, sdf]))
    elif tbl == "w":
        for word, capital, lower in select_in(
            conn, "SELECT word, capital, lower FROM names WHERE word IN ({})", list(keys)
        ):
            found.append((word, -1, "", 0, [capital, lower]))
    elif tbl == "s":
        for word, count in select_in(conn, "SELECT word, count FROM speaker_words WHERE word IN ({})", list(keys)):
            found.append((word, -1, "", 0, count))
    elif tbl == "x":
        for pid, segment in select_in(conn, "SELECT id, segment FROM deleted WHERE id IN ({})", [int(k) for k in keys]):
            found.append((str(pid), pid, "", 0, segment))
    elif tbl == "g":
        pairs = [tuple(int(x) for x in k.split(":")) for k in keys]
        for term, segment in pairs:
            row = conn.execute(
                "SELECT ids, tfs, lens FROM postings WHERE term = ? AND segment = ?", (term, segment)
            ).fetchone()
            if row:
                found.append((f"{term}:{segment}", term, "", 0, [_b64(row[0]), _b64(row[1]), _b64(row[2])]))
    else:
        raise ValueError(tbl)
    held = {f[0] for f in found}
    return found, [k for k in keys if k not in held]


def _all_keys(conn, tbl: str) -> list[str]:
    sql = {
        "d": "SELECT doc_id FROM documents",
        "p": "SELECT id FROM passages",
        "t": "SELECT term FROM terms",
        "w": "SELECT word FROM names",
        "s": "SELECT word FROM speaker_words",
        "x": "SELECT id FROM deleted",
        "g": "SELECT term || ':' || segment FROM postings",
    }[tbl]
    return [str(r[0]) for r in conn.execute(sql)]


KINDS = ("d", "p", "t", "w", "s", "x", "g")


def collections(collection: str) -> tuple[str, str]:
    """The catalogue's two collections beside the passages collection ``collection``."""
    return f"{collection}_catalogue", f"{collection}_sentences"


class Catalogue:
    """The catalogue collections on one Milvus connection (``milvus``, a ``_Collection``)."""

    def __init__(self, milvus, dimension: int) -> None:
        self.milvus, self.dimension = milvus, dimension
        self.name, self.sentences = collections(milvus.name)

    # ------------------------------------------------------------------ collections

    def exists(self) -> bool:
        """Whether both catalogue collections are on the server."""
        with self.milvus.calls():
            return self.milvus.call("has_collection", self.name) and self.milvus.call("has_collection", self.sentences)

    def drop(self) -> None:
        """Drop both catalogue collections (those that exist)."""
        with self.milvus.calls():
            for name in (self.name, self.sentences):
                if self.milvus.call("has_collection", name):
                    self.milvus.call("drop_collection", name)

    def create(self) -> None:
        """Make both collections afresh (dropping what was there)."""
        m, client = self.milvus.m, self.milvus.client
        with self.milvus.calls():
            self.drop()
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("key", m.DataType.VARCHAR, is_primary=True, max_length=8192)
            schema.add_field("tbl", m.DataType.VARCHAR, max_length=8)
            schema.add_field("k", m.DataType.VARCHAR, max_length=4096)
            schema.add_field("n", m.DataType.INT64)
            schema.add_field("doc", m.DataType.VARCHAR, max_length=4096)
            schema.add_field("quoted", m.DataType.INT64)
            schema.add_field("part", m.DataType.INT64)
            schema.add_field("body", m.DataType.VARCHAR, max_length=65_535)
            schema.add_field("v", m.DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
            params = client.prepare_index_params()
            params.add_index("v", index_type="FLAT", metric_type="L2")
            made = [(self.name, schema, params)]
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", m.DataType.INT64, is_primary=True)
            schema.add_field("vector", m.DataType.FLOAT_VECTOR, dim=self.dimension)
            params = client.prepare_index_params()
            params.add_index("vector", index_type="FLAT", metric_type="IP")
            made.append((self.sentences, schema, params))
            self.milvus.make_loaded(made)

    # ------------------------------------------------------------------ writing

    def _rows(self, tbl: str, found) -> list[dict]:
        rows = []
        for key, number, doc, quoted, body in found:
            text = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
            parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
            for i, part in enumerate(parts):
                rows.append(
                    {
                        "key": f"{tbl}:{i}:{key}",
                        "tbl": tbl,
                        "k": key,
                        "n": int(number),
                        "doc": doc,
                        "quoted": quoted,
                        "part": i if i < len(parts) - 1 else -1 - i,  # the last part is negative: -1 - its index
                        "body": part,
                        "v": [0.0, 0.0],
                    }
                )
        return rows

    def _delete_keys(self, tbl: str, keys: Sequence[str]) -> None:
        for at in range(0, len(keys), BATCH):
            chunk = keys[at : at + BATCH]
            with self.milvus.calls():
                self.milvus.call("delete", self.name, filter=f'tbl == "{tbl}" and k in {literal(chunk)}')

    def write(self, conn, tbl: str, keys: Sequence[str]) -> None:
        """Write the records ``keys`` of kind ``tbl`` as ``conn`` sees them (deleting those it lacks)."""
        keys = list(keys)
        for at in range(0, len(keys), BATCH):
            chunk = keys[at : at + BATCH]
            found, gone = _records(conn, tbl, chunk)
            rows = self._rows(tbl, found)
            for r in range(0, len(rows), BATCH):
                self.milvus.upsert_into(self.name, rows[r : r + BATCH])
            if found:  # parts a record had before it shrank
                with self.milvus.calls():
                    self.milvus.call(
                        "delete",
                        self.name,
                        filter=f'tbl == "{tbl}" and k in {literal([f[0] for f in found])} '
                        f"and not (key in {literal([r['key'] for r in rows])})",
                    )
            if gone:
                self._delete_keys(tbl, gone)

    def write_meta(self, meta: dict) -> None:
        """Write the index's settings and counts (one record)."""
        self.milvus.upsert_into(self.name, self._rows("m", [("meta", -1, "", 0, meta)]))

    def write_sentences(self, sentence_file, ranges: Iterable[tuple[int, int, int]]) -> None:
        """Upsert the vectors of the live sentence ranges (first, count, live=1); delete the others."""
        removed, added = [], []
        for first, count, live in ranges:
            (added if live else removed).append((first, count))
        for first, count in removed:
            with self.milvus.calls():
                self.milvus.call(
                    "delete", self.sentences, filter=f"id >= {int(first)} and id < {int(first) + int(count)}"
                )
        ids = np.concatenate([np.arange(f, f + c, dtype=np.int64) for f, c in added] or [np.zeros(0, np.int64)])
        for at in range(0, len(ids), BATCH * 2):
            part = ids[at : at + BATCH * 2]
            vectors = sentence_file.read(part).astype(np.float32)
            rows = [{"id": int(i), "vector": v.tolist()} for i, v in zip(part, vectors)]
            self.milvus.upsert_into(self.sentences, rows)

    def rewrite(self, conn, meta: dict, sentence_file) -> None:
        """Write the whole catalogue afresh from ``conn`` (and forget the changes listed so far)."""
        self.create()
        for tbl in KINDS:
            self.write(conn, tbl, _all_keys(conn, tbl))
        live = conn.execute("SELECT first_sentence, sentences FROM passages").fetchall()
        self.write_sentences(sentence_file, [(f, c, 1) for f, c in live])
        self.write_meta(meta)
        conn.execute("DELETE FROM catalogue_changes")
        conn.execute("DELETE FROM catalogue_sentences")

    def publish(self, conn, meta: dict, sentence_file) -> None:
        """Write the records changed since the last publish (inside the caller's transaction on ``conn``)."""
        changes: dict[str, list[str]] = {}
        for tbl, k in conn.execute("SELECT tbl, k FROM catalogue_changes"):
            changes.setdefault(tbl, []).append(k)
        for tbl in KINDS:
            if changes.get(tbl):
                self.write(conn, tbl, changes[tbl])
        self.write_sentences(sentence_file, conn.execute("SELECT first, count, live FROM catalogue_sentences"))
        self.write_meta(meta)
        conn.execute("DELETE FROM catalogue_changes")
        conn.execute("DELETE FROM catalogue_sentences")


def literal(values: Iterable[str]) -> str:
    """A Milvus list of string literals."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"
