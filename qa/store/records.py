"""What the store holds and hands out: stored articles, and the candidates of one question."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import orjson

from ..ingest.documents import ArticleMeta, FileState

__all__ = ["FLAG_COLON", "FLAG_DATE", "FLAG_LEAD_IN", "FLAG_NUMBER", "Candidates", "KeptText", "StoredDocument"]

#: Bits of a sentence's flags byte.
FLAG_NUMBER, FLAG_DATE, FLAG_LEAD_IN, FLAG_COLON = 1, 2, 4, 8

#: Where an indexed article came from: the corpus folder, a file added from elsewhere (its id is
#: then its absolute path), or a source (a feed, sitemap, URL list, WARC or export; its id is its
#: canonical URL, or SOURCE/ID, and its text is kept in the index).
ORIGIN_CORPUS, ORIGIN_EXTERNAL, ORIGIN_SOURCE = "corpus", "external", "source"


@dataclass(frozen=True)
class KeptText:
    """The text of an article that has no file (it came from a source), kept in the index with
    where it came from: the source's name, when it was fetched (ISO 8601) and its byline."""

    text: str
    source: str
    fetched: str
    author: str = ""


@dataclass(frozen=True)
class StoredDocument:
    """An indexed article: its metadata (``meta``, what citations show: ``given`` filled from
    ``derived``), file state, content hash and passage id range."""

    doc_id: str
    meta: ArticleMeta
    derived: ArticleMeta
    state: FileState
    first: int
    count: int
    warnings: tuple[str, ...] = ()
    given: ArticleMeta = field(default_factory=ArticleMeta)
    content: str = ""
    origin: str = ORIGIN_CORPUS

    @classmethod
    def from_row(cls, row) -> StoredDocument:
        """From a ``documents`` row selected by :data:`DOCUMENT_COLUMNS`."""
        (
            doc_id,
            origin,
            title,
            outlet,
            date,
            url,
            kind,
            given,
            derived,
            size,
            mtime,
            sha,
            content,
            first,
            count,
            warn,
        ) = row
        return cls(
            doc_id=doc_id,
            meta=ArticleMeta(title=title, outlet=outlet, date=date, url=url, kind=kind),
            derived=ArticleMeta(**json.loads(derived)),
            state=FileState(size, mtime, sha),
            first=first,
            count=count,
            warnings=tuple(json.loads(warn)),
            given=ArticleMeta(**json.loads(given)),
            content=content,
            origin=origin,
        )


DOCUMENT_COLUMNS = (
    "doc_id, origin, title, outlet, date, url, kind, given, derived, size, mtime_ns, sha256, content, "
    "first_passage, passages, warnings"
)


@dataclass(frozen=True)
class Candidates:
    """What retrieval reads of a question's candidate passages, in the order asked for.

    Sentence arrays hold the sentences of ``ids[0]``, then those of ``ids[1]``, and so on;
    ``counts[i]`` is the number of sentences of ``ids[i]``. Tokens are BM25 term ids, laid
    out sentence after sentence (``token_sentence`` says whose).
    """

    ids: np.ndarray
    keys: tuple[tuple[str, int], ...]  # (doc_id, char_start): the order a full rebuild would give them
    first_sentence: np.ndarray
    counts: np.ndarray
    spans: np.ndarray  # (sentences, 2) source offsets
    flags: np.ndarray  # uint8 per sentence (FLAG_*)
    terms: np.ndarray  # int64 term id per token
    token_sentence: np.ndarray  # sentence index per token
    sentence_lengths: np.ndarray  # tokens per sentence
    speakers_text: tuple[str, ...]  # per passage: words of whoever it quotes, space-separated
    days: np.ndarray  # per passage: its article's date as date.toordinal(), 0 when undated
    vectors: np.ndarray  # (passages, dim)
    sentence_vectors: np.ndarray  # (sentences, dim)
    facts_json: tuple[str, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def sentence_ids(self) -> np.ndarray:
        """The store's id of every sentence."""
        starts = np.cumsum(self.counts) - self.counts
        within = np.arange(int(self.counts.sum()), dtype=np.int64) - np.repeat(starts, self.counts)
        return np.repeat(self.first_sentence, self.counts) + within

    @cached_property
    def passage_lengths(self) -> np.ndarray:
        """Tokens per passage."""
        starts = np.cumsum(self.counts) - self.counts
        if not len(self.sentence_lengths):
            return np.zeros(len(self.ids), np.int64)
        return np.add.reduceat(self.sentence_lengths, starts) * (self.counts > 0)

    @cached_property
    def _decoded(self) -> list[dict]:
        return [orjson.loads(raw) if raw else {} for raw in self.facts_json]

    def _per_sentence(self, key: str) -> list[list]:
        out: list[list] = []
        for data, n in zip(self._decoded, self.counts):
            values = data.get(key)
            out.extend(values if values else [[]] * int(n))
        return out

    @cached_property
    def groups(self) -> list[list[list[str]]]:
        """Per sentence, its capitalised name groups (each a list of folded words)."""
        return self._per_sentence("g")

    @cached_property
    def counted(self) -> list[list[str]]:
        """Per sentence, the stems right after its numbers."""
        return self._per_sentence("c")

    @cached_property
    def sentence_speakers(self) -> list[frozenset[str]]:
        """Per sentence, the words of whoever speaks it (and of their description)."""
        return [frozenset(w) for w in self._per_sentence("s")]

    @cached_property
    def speakers(self) -> tuple[frozenset[str], ...]:
        """Per passage: words of whoever it quotes."""
        return tuple(frozenset(raw.split()) for raw in self.speakers_text)
