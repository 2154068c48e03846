"""Writing an index: articles go in and out in transactions, each a whole batch or nothing.

A batch is written in this order, so that a process killed at any point leaves the index as
its last commit left it:

1. the new passages' and sentences' vectors, into rows past every committed id, then fsync;
2. one SQLite transaction: the removed articles' rows out (their BM25 postings marked deleted,
   their term counts, name counts and speaker words taken back), the new articles' rows in (a
   new postings segment, counts added), the passage id ranges in ``vector_log``, and the
   generation bumped.

The store's search side is told of the commit inside that transaction
(:meth:`IndexStore.publish`: nothing for the FAISS index, which replays ``vector_log``; a
Milvus collection is written there, so that a failure rolls the whole batch back). The vector
index file is rewritten only now and then (see :meth:`StoreWriter.finish` and
:meth:`IndexStore.maintain`); until then, opening the index replays ``vector_log`` on the last
one written.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from embeddings import VectorFile

from ..ingest.documents import ArticleMeta, FileState
from ..ingest.facts import SentenceFacts
from ..ingest.passages import Passage
from . import postings
from .database import select_in
from .records import FLAG_COLON, FLAG_DATE, FLAG_LEAD_IN, FLAG_NUMBER, KeptText
from .store import FLOAT16_SENTENCE_FILE, SENTENCE_FILE, IndexStore

__all__ = ["Prepared", "Skip", "StoreWriter"]

_I32 = np.dtype("<i4")


@dataclass
class Prepared:
    """An article ready to be stored: its passages (labelled), per-sentence facts and tokens."""

    doc_id: str
    origin: str
    state: FileState
    given: ArticleMeta
    derived: ArticleMeta
    meta: ArticleMeta
    content: str
    warnings: tuple[str, ...]
    passages: list[Passage]
    facts: SentenceFacts
    tokens: list[list[list[str]]]  # per passage, per sentence
    capital: Counter = field(default_factory=Counter)
    lower: Counter = field(default_factory=Counter)
    speakers: frozenset[str] = frozenset()
    kept: KeptText | None = None  # the text itself, for an article with no file (from a source)

    @property
    def sentence_count(self) -> int:
        return sum(len(p.sentences) for p in self.passages)


@dataclass(frozen=True)
class Skip:
    """An article seen but not indexed, and why (``duplicate_of`` names the article kept instead)."""

    doc_id: str
    origin: str
    state: FileState
    reason: str
    duplicate_of: str | None = None


class StoreWriter:
    """Adds and removes articles of an :class:`IndexStore`, one transaction per batch.

    Only one writer may work on an index at a time (``open_index`` holds a lock for it).
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self.db = store.db
        meta = self.db.meta()
        for vectors, key in ((store.passage_file, "next_passage"), (store.sentence_file, "next_sentence")):
            if vectors.rows > meta[key]:
                vectors.truncate(meta[key])  # rows an interrupted batch wrote and never committed
        store.recover()
        store.refresh()
        if store.sentence_file.codes != "i8":
            self._sentences_to_8_bits()
        else:
            (store.folder / FLOAT16_SENTENCE_FILE).unlink(missing_ok=True)  # left by an interrupted conversion

    def _sentences_to_8_bits(self) -> None:
        """Convert the float16 sentence vectors of an index made before 8-bit codes (once, in
        slices): write ``sentences.i8``, commit it as the sentence file, then delete the old one
        (readers that still hold it open read it until their next question sees the commit)."""
        store = self.store
        rows = int(self.db.get("next_sentence", 0))
        target = VectorFile(store.folder / SENTENCE_FILE, store.dimension, codes="i8")
        target.truncate(0)
        for at in range(0, rows, 262_144):
            target.write(at, store.sentence_file.read(np.arange(at, min(rows, at + 262_144))))
        target.sync()
        old = store.sentence_file.path
        self.commit(settings={"sentence_file": SENTENCE_FILE})
        old.unlink(missing_ok=True)

    # ------------------------------------------------------------------ ids and vectors

    def next_ids(self) -> tuple[int, int]:
        """The first passage and sentence ids the next commit will use (write their vectors there)."""
        meta = self.db.meta()
        return int(meta["next_passage"]), int(meta["next_sentence"])

    def write_vectors(
        self, first_passage: int, passages: np.ndarray, first_sentence: int, sentences: np.ndarray
    ) -> None:
        """Store vectors for ids not committed yet, and flush them to disk."""
        if len(passages):
            self.store.passage_file.write(first_passage, passages)
            self.store.passage_file.sync()
        if len(sentences):
            self.store.sentence_file.write(first_sentence, sentences)
            self.store.sentence_file.sync()

    def vectors_of(self, doc_id: str) -> dict[tuple[int, int, tuple], tuple[np.ndarray, np.ndarray]]:
        """The stored vectors of an article's passages, by (start, end, sentence spans)."""
        rows = self.db.execute(
            "SELECT p.id, p.char_start, p.char_end, p.first_sentence, p.sentences, d.spans FROM passages p "
            "JOIN passage_data d ON d.id = p.id WHERE p.doc_id = ?",
            (doc_id,),
        ).fetchall()
        if not rows:
            return {}
        passages = self.store.passage_file.read(np.array([r[0] for r in rows]))
        sentences = self.store.sentence_file.read(np.concatenate([np.arange(r[3], r[3] + r[4]) for r in rows]))
        out, at = {}, 0
        for (_, start, end, _, n, spans), vector in zip(rows, passages):
            out[(start, end, tuple(np.frombuffer(spans, _I32).tolist()))] = (vector, sentences[at : at + n])
            at += n
        return out

    # ------------------------------------------------------------------ commits

    def commit(
        self,
        *,
        add: Sequence[Prepared] = (),
        remove: Iterable[str] = (),
        skip: Sequence[Skip] = (),
        unskip: Iterable[str] = (),
        first_passage: int | None = None,
        first_sentence: int | None = None,
        links: Sequence[tuple[int, str, str, str]] = (),
        settings: Mapping[str, object] | None = None,
    ) -> int:
        """One transaction: remove articles, add prepared ones (their vectors already written at
        ``first_passage`` / ``first_sentence`` on, in order), record skipped ones, record
        ``links`` (source id, entry key, article id, stamp: which source holds the article) and
        store ``settings`` (such as the sentence vector file); returns the new generation."""
        with self.db.transaction() as conn:
            meta = self.db.meta()
            generation = int(meta["generation"]) + 1
            totals = Counter(
                {k: int(meta[k]) for k in ("passages", "sentences", "documents", "passage_tokens", "sentence_tokens")}
            )
            for doc_id in dict.fromkeys(remove):
                self._remove(conn, doc_id, totals, generation)
            conn.executemany("DELETE FROM skipped WHERE doc_id = ?", [(d,) for d in unskip])
            next_passage, next_sentence, next_segment = (
                int(meta["next_passage"]),
                int(meta["next_sentence"]),
                int(meta["next_segment"]),
            )
            if add:
                if first_passage != next_passage or first_sentence != next_sentence:
                    raise RuntimeError("vectors were written for other ids than this commit's")
                next_passage, next_sentence = self._add(
                    conn, add, next_passage, next_sentence, next_segment, totals, generation
                )
                next_segment += 1
            conn.executemany(
                "INSERT INTO skipped(doc_id, origin, size, mtime_ns, sha256, reason, duplicate_of) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(doc_id) DO UPDATE SET origin = excluded.origin, "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, "
                "reason = excluded.reason, duplicate_of = excluded.duplicate_of",
                [
                    (s.doc_id, s.origin, s.state.size, s.state.mtime_ns, s.state.sha256, s.reason, s.duplicate_of)
                    for s in skip
                ],
            )
            self._link(conn, links)
            self.db.set(
                generation=generation,
                next_passage=next_passage,
                next_sentence=next_sentence,
                next_segment=next_segment,
                **dict(totals),
                **(settings or {}),
            )
            self.store.publish(conn, generation)  # last: the search side sees the commit whole
        self.store.refresh(generation)
        self._upkeep()
        return generation

    @staticmethod
    def _link(conn, links: Sequence[tuple[int, str, str, str]]) -> None:
        conn.executemany(
            "INSERT INTO source_items(source, key, doc_id, stamp) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source, key) DO UPDATE SET doc_id = excluded.doc_id, stamp = excluded.stamp",
            list(links),
        )

    def link(self, links: Sequence[tuple[int, str, str, str]]) -> None:
        """Record which sources hold which articles (source id, entry key, article id, stamp), in one
        transaction of its own: for articles already indexed, which change nothing searched."""
        if links:
            with self.db.transaction() as conn:
                self._link(conn, links)

    def _remove(self, conn, doc_id: str, totals: Counter, generation: int) -> None:
        row = conn.execute(
            "SELECT first_passage, passages, names, speakers FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            return
        first, count, names, speakers = row
        rows = conn.execute(
            "SELECT p.id, p.segment, d.terms, d.lengths FROM passages p JOIN passage_data d ON d.id = p.id "
            "WHERE p.doc_id = ?",
            (doc_id,),
        ).fetchall()
        pdf: Counter = Counter()
        sdf: Counter = Counter()
        for _, _, terms, lengths in rows:
            t, n = np.frombuffer(terms, _I32), np.frombuffer(lengths, _I32)
            pdf.update(np.unique(t).tolist())
            for a, b in _bounds(n):
                sdf.update(np.unique(t[a:b]).tolist())
            totals["passage_tokens"] -= int(n.sum())
            totals["sentence_tokens"] -= int(n.sum())
            totals["sentences"] -= len(n)
        totals["passages"] -= len(rows)
        totals["documents"] -= 1
        conn.executemany(
            "UPDATE terms SET pdf = pdf - ?, sdf = sdf - ? WHERE id = ?",
            [(pdf[t], sdf[t], t) for t in pdf.keys() | sdf.keys()],
        )
        postings.delete(conn, [(pid, segment) for pid, segment, _, _ in rows])
        counts = unpack_names(names)
        touched = sorted(counts["capital"].keys() | counts["lower"].keys())
        conn.executemany(
            "UPDATE names SET capital = capital - ?, lower = lower - ? WHERE word = ?",
            [(counts["capital"].get(w, 0), counts["lower"].get(w, 0), w) for w in touched],
        )
        conn.executemany("DELETE FROM names WHERE word = ? AND capital <= 0 AND lower <= 0", [(w,) for w in touched])
        spoken = [(w,) for w in json.loads(speakers)]
        conn.executemany("UPDATE speaker_words SET count = count - 1 WHERE word = ?", spoken)
        conn.executemany("DELETE FROM speaker_words WHERE word = ? AND count <= 0", spoken)
        conn.execute("DELETE FROM passage_data WHERE id IN (SELECT id FROM passages WHERE doc_id = ?)", (doc_id,))
        conn.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM texts WHERE doc_id = ?", (doc_id,))
        if count:
            conn.execute(
                "INSERT INTO vector_log(gen, op, first, count) VALUES (?, -1, ?, ?)", (generation, first, count)
            )

    def _add(
        self,
        conn,
        articles: Sequence[Prepared],
        next_passage: int,
        next_sentence: int,
        segment: int,
        totals: Counter,
        generation: int,
    ) -> tuple[int, int]:
        vocabulary = sorted({t for a in articles for p in a.tokens for s in p for t in s})
        pdf: Counter = Counter()
        sdf: Counter = Counter()
        for a in articles:
            for p in a.tokens:
                pdf.update({t for s in p for t in s})
                for s in p:
                    sdf.update(set(s))
        conn.executemany(
            "INSERT INTO terms(term, pdf, sdf) VALUES (?, ?, ?) "
            "ON CONFLICT(term) DO UPDATE SET pdf = pdf + excluded.pdf, sdf = sdf + excluded.sdf",
            [(t, pdf[t], sdf[t]) for t in vocabulary],
        )
        ids: dict[str, int] = dict(select_in(conn, "SELECT term, id FROM terms WHERE term IN ({})", vocabulary))
        entries: dict[int, tuple[list[int], list[int], list[int]]] = {}
        start_passage = next_passage
        doc_rows, passage_rows, data_rows = [], [], []
        names: Counter = Counter()
        lower: Counter = Counter()
        speaker_words: Counter = Counter()
        for a in articles:
            first_of_doc = next_passage
            sentence_at = 0
            for passage, tokens in zip(a.passages, a.tokens):
                n = len(passage.sentences)
                facts = a.facts.rows(sentence_at, sentence_at + n)
                sentence_at += n
                term_ids = [ids[t] for s in tokens for t in s]
                lengths = [len(s) for s in tokens]
                length = sum(lengths)
                for term, tf in Counter(term_ids).items():
                    slot = entries.setdefault(term, ([], [], []))
                    slot[0].append(next_passage)
                    slot[1].append(tf)
                    slot[2].append(length)
                passage_rows.append(
                    (
                        next_passage,
                        a.doc_id,
                        passage.char_start,
                        passage.char_end,
                        passage.text,
                        json.dumps([q.to_row() for q in passage.quotes]),
                        next_sentence,
                        n,
                        segment,
                    )
                )
                data_rows.append(
                    (
                        next_passage,
                        np.asarray(passage.sentences, _I32).reshape(-1).tobytes(),
                        np.asarray(term_ids, _I32).tobytes(),
                        np.asarray(lengths, _I32).tobytes(),
                        _flags(facts).tobytes(),
                        _facts_json(facts),
                        " ".join(sorted(frozenset().union(*facts.speakers))),
                    )
                )
                totals["passage_tokens"] += length
                totals["sentence_tokens"] += length
                totals["sentences"] += n
                totals["passages"] += 1
                next_passage += 1
                next_sentence += n
            totals["documents"] += 1
            names.update(a.capital)
            lower.update(a.lower)
            speaker_words.update(a.speakers)
            doc_rows.append(
                (
                    a.doc_id,
                    a.origin,
                    a.meta.title,
                    a.meta.outlet,
                    a.meta.outlet.strip().lower(),
                    a.meta.date,
                    a.meta.url,
                    a.meta.kind,
                    json.dumps(asdict(a.given)),
                    json.dumps(asdict(a.derived)),
                    a.state.size,
                    a.state.mtime_ns,
                    a.state.sha256,
                    a.content,
                    first_of_doc,
                    len(a.passages),
                    json.dumps(list(a.warnings)),
                    pack_names(a.capital, a.lower),
                    json.dumps(sorted(a.speakers)),
                )
            )
        conn.executemany(f"INSERT INTO documents VALUES ({','.join('?' * 19)})", doc_rows)
        conn.executemany(
            "INSERT INTO texts(doc_id, text, source, fetched, author) VALUES (?, ?, ?, ?, ?)",
            [(a.doc_id, a.kept.text, a.kept.source, a.kept.fetched, a.kept.author) for a in articles if a.kept],
        )
        conn.executemany(f"INSERT INTO passages VALUES ({','.join('?' * 9)})", passage_rows)
        conn.executemany(f"INSERT INTO passage_data VALUES ({','.join('?' * 7)})", data_rows)
        postings.add_segment(conn, segment, entries, next_passage - start_passage)
        conn.executemany(
            "INSERT INTO names(word, capital, lower) VALUES (?, ?, ?) "
            "ON CONFLICT(word) DO UPDATE SET capital = capital + excluded.capital, lower = lower + excluded.lower",
            [(w, names[w], lower[w]) for w in sorted(names.keys() | lower.keys())],
        )
        conn.executemany(
            "INSERT INTO speaker_words(word, count) VALUES (?, ?) "
            "ON CONFLICT(word) DO UPDATE SET count = count + excluded.count",
            sorted(speaker_words.items()),
        )
        if next_passage > start_passage:
            conn.execute(
                "INSERT INTO vector_log(gen, op, first, count) VALUES (?, 1, ?, ?)",
                (generation, start_passage, next_passage - start_passage),
            )
        return next_passage, next_sentence

    def update_labels(self, changes: Sequence[tuple[str, ArticleMeta, ArticleMeta]]) -> None:
        """Re-label articles whose given metadata changed: (doc_id, given, effective) each; nothing is encoded."""
        if not changes:
            return
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE documents SET title = ?, outlet = ?, outlet_key = ?, date = ?, url = ?, kind = ?, given = ? "
                "WHERE doc_id = ?",
                [
                    (m.title, m.outlet, m.outlet.strip().lower(), m.date, m.url, m.kind, json.dumps(asdict(g)), d)
                    for d, g, m in changes
                ],
            )
            generation = int(self.db.get("generation")) + 1
            ranges = select_in(
                conn, "SELECT first_passage, passages FROM documents WHERE doc_id IN ({})", [d for d, _, _ in changes]
            )
            conn.executemany(
                "INSERT INTO vector_log(gen, op, first, count) VALUES (?, 0, ?, ?)",
                [(generation, first, count) for first, count in ranges if count],
            )
            self.db.set(generation=generation)
            self.store.publish(conn, generation)

    def settings_commit(self, **values) -> int:
        """Store settings that readers of the index use (such as the alias table) as a commit of
        their own, so that the search side publishes them (a replica reads them with the next
        generation); returns the new generation."""
        with self.db.transaction() as conn:
            generation = int(self.db.get("generation")) + 1
            self.db.set(generation=generation, **values)
            self.store.publish(conn, generation)
        self.store.refresh(generation)
        return generation

    def set(self, **values) -> None:
        """Store settings in their own transaction."""
        with self.db.transaction():
            self.db.set(**values)

    # ------------------------------------------------------------------ upkeep

    def merge(self) -> None:
        """Merge postings segments as :func:`qa.store.postings.maybe_merge` says (scores do not change)."""
        with self.db.transaction() as conn:
            self.db.set(next_segment=postings.maybe_merge(conn, int(self.db.get("next_segment"))))

    def finish(self, *, force: bool = False) -> None:
        """Merge segments, and write the vector index file when the log since the last one is long,
        the index no longer suits its size, there is none yet, or ``force``."""
        self.merge()
        self._upkeep(force=force, first=True)
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _upkeep(self, *, force: bool = False, first: bool = False) -> None:
        self.store.refresh()
        self.store.maintain(force=force, first=first)


def pack_names(capital: Mapping[str, int], lower: Mapping[str, int]) -> bytes:
    """An article's name-lexicon counts as stored: JSON, compressed (about a quarter of the size;
    at a million passages the plain JSON took 400 MB of the database)."""
    return zlib.compress(json.dumps({"capital": dict(capital), "lower": dict(lower)}).encode(), 6)


def unpack_names(stored: bytes | str) -> dict[str, dict[str, int]]:
    """What :func:`pack_names` stored (or the plain JSON of an index made before it)."""
    return json.loads(zlib.decompress(stored) if isinstance(stored, bytes) else stored)


def _bounds(lengths: np.ndarray) -> list[tuple[int, int]]:
    ends = np.cumsum(lengths)
    return list(zip((ends - lengths).tolist(), ends.tolist()))


def _flags(facts: SentenceFacts) -> np.ndarray:
    return (
        facts.number * FLAG_NUMBER + facts.date * FLAG_DATE + facts.lead_in * FLAG_LEAD_IN + facts.colon * FLAG_COLON
    ).astype(np.uint8)


def _facts_json(facts: SentenceFacts) -> str:
    """The set-valued facts of a passage's sentences, as compact JSON (lists left out when all empty)."""
    out = {}
    if any(facts.groups):
        out["g"] = [[sorted(g) for g in groups] for groups in facts.groups]
    if any(facts.counted):
        out["c"] = [sorted(c) for c in facts.counted]
    if any(facts.speakers):
        out["s"] = [sorted(s) for s in facts.speakers]
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")) if out else ""
