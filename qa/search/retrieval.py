"""Hybrid retrieval: dense and lexical evidence at passage and sentence level, and article dates.

Each candidate passage gets a score from a few signals, each in [0, 1] or a cosine:

* ``dense``: cosine between the question and the whole passage;
* ``sentence``: the score of its best sentence: the question-sentence cosine, plus the
  sentence's IDF-weighted share of the question's terms, plus a bonus when it holds the kind
  of answer asked for (a number for "how many", a date for "when", a name for "who");
* ``bm25``: BM25 of the passage, divided by the best BM25 of the query;
* ``when``: for questions with time words ("this week", "in May"), how close the article's
  date is to the days they point to (:mod:`qa.dates`); 0 for undated articles;
* ``recent``: for questions without time words, how close the article's date is to the
  month before the day the question is asked (news readers mean the latest unless they say
  otherwise); 0 for undated articles, and for every article of an archive that old.

Seven weights in all (:class:`RetrievalConfig`). Each one kept earns its place on questions
no weight was chosen by: the shared archive's, the five articles' unseen-wording and
follow-up sets, and SciFact; the signals that did not (passage term coverage, names,
speakers, sentence BM25, lead-in and follow-up weights, the plain-hybrid hedge) were
removed (``bench/RESULTS.md``). Names and speakers are still read, for abstention.

The best sentence is also the highlight. Near-copies of one story collapse into one hit
(:mod:`qa.search.copies`). Filters (outlet, dates, articles) apply before ranking, so a filter never
hides a passage that would have matched.

Candidates are the union of the passages nearest the question's vector and those with the
best BM25 (``RetrievalConfig.candidates`` each; every passage when the index holds no more);
only their rows are read from the store.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..dates import TimeWindow, closeness
from ..errors import FilterError, WeightsError
from ..lexical import fold_name, stem
from ..store import IndexStore
from ..store.postings import K1, B, bm25_idf
from ..store.records import FLAG_COLON, FLAG_DATE, FLAG_LEAD_IN, FLAG_NUMBER, Candidates
from .analysis import METONYMS, QueryAnalysis
from .copies import collapse, shingles

__all__ = ["Features", "Filters", "RetrievalConfig", "Retriever", "Scored", "combine"]


@dataclass(frozen=True)
class Filters:
    """Which passages may be returned. Empty fields do not filter.

    Args:
        outlets: outlet names (case-insensitive); ``""`` selects articles with no outlet.
        date_from: earliest article date, YYYY-MM-DD (inclusive).
        date_to: latest article date, YYYY-MM-DD (inclusive).
        doc_ids: article ids (file names).
    """

    outlets: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError as exc:
                    raise FilterError(f"{name} is {value!r}; write dates as YYYY-MM-DD, e.g. 2025-05-16") from exc
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FilterError(f"date_from {self.date_from} is after date_to {self.date_to}; swap them")

    @classmethod
    def make(
        cls,
        *,
        outlets: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        doc_ids: Iterable[str] | None = None,
    ) -> Filters:
        """Build filters from plain arguments; empty values mean no filter."""
        return cls(
            outlets=frozenset(o.strip().lower() for o in outlets) if outlets else None,
            date_from=date_from or None,
            date_to=date_to or None,
            doc_ids=frozenset(doc_ids) if doc_ids else None,
        )

    @property
    def active(self) -> bool:
        """Whether any field filters."""
        return bool(self.outlets is not None or self.date_from or self.date_to or self.doc_ids is not None)

    def describe(self) -> str:
        """The filters in words, for messages."""
        parts = []
        if self.outlets is not None:
            parts.append("outlet " + " or ".join(sorted(o or "(unknown)" for o in self.outlets)))
        if self.date_from or self.date_to:
            parts.append(f"dates {self.date_from or '…'} to {self.date_to or '…'}")
        if self.doc_ids is not None:
            parts.append("articles " + ", ".join(sorted(self.doc_ids)))
        return "; ".join(parts) or "no filter"

    def allows(self, outlet: str, day: str, doc_id: str) -> bool:
        """Whether an article with these fields passes. Undated articles fail a date filter."""
        if self.outlets is not None and outlet.strip().lower() not in self.outlets:
            return False
        if (self.date_from or self.date_to) and not day:
            return False
        if self.date_from and day < self.date_from:
            return False
        if self.date_to and day > self.date_to:
            return False
        return self.doc_ids is None or doc_id in self.doc_ids


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights of the passage and sentence scores, the candidate pool size, and copy collapsing.

    The defaults are a rule-like hybrid, not a fit: passage and best-sentence cosines with
    passage BM25 and the sentence's share of the question's terms (the first fit for news,
    kept as it was), the answer-type bonus, and the date preferences set on the archive's
    looked-at questions. Another kind of corpus may want other weights: fit them on its own
    questions with ``bench/tune.py --out FILE`` and load them with :meth:`read`
    (``Assistant.load(weights=FILE)``, ``--weights FILE``).

    ``collapse_copies`` (1, the default) makes near-copies of one story (wire copies carried by
    several outlets, :mod:`qa.search.copies`) one hit that lists them all; 0 lists each copy on its own.
    """

    dense: float = 1.0
    sentence: float = 1.5
    bm25: float = 0.3
    sentence_coverage: float = 0.2
    sentence_type: float = 0.3
    when: float = 1.0
    recency: float = 0.25
    candidates: int = 30
    collapse_copies: int = 1

    @classmethod
    def read(cls, path: str | os.PathLike) -> RetrievalConfig:
        """Weights from a JSON file such as ``bench/tune.py --out`` writes; keys left out keep their defaults.

        Raises:
            WeightsError: the file cannot be read, is not a JSON object, names an unknown
                weight, or gives a value that is not a finite number (a positive integer for
                ``candidates``).
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WeightsError(f"cannot read the weights file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise WeightsError(f'{path} must hold a JSON object of weights, e.g. {{"dense": 0.75, "bm25": 0.3}}')
        known = {f.name: f.type for f in fields(cls)}
        values = {}
        for key, value in data.items():
            if key in _REMOVED:
                raise WeightsError(
                    f"{path}: weight {key!r} was removed (it did not help on unseen questions; bench/RESULTS.md); "
                    f"delete it from the file"
                )
            if key not in known:
                raise WeightsError(f"{path}: unknown weight {key!r}; known weights: {', '.join(known)}")
            if key in _COUNTS:
                low, high = _COUNTS[key]
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                    raise WeightsError(f"{path}: {key!r} must be a whole number from {low} to {high}, not {value!r}")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise WeightsError(f"{path}: weight {key!r} must be a finite number, not {value!r}")
            values[key] = value if key in _COUNTS else float(value)
        return cls(**values)

    def write(self, path: str | os.PathLike) -> None:
        """Save the weights as a JSON object that :meth:`read` takes back."""
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


#: Settings that are counts, not weights, with their allowed ranges.
_COUNTS = {"candidates": (1, 1_000_000), "collapse_copies": (0, 1)}
#: Weights of earlier versions, removed because they did not carry to unseen questions.
_REMOVED = frozenset(
    "coverage names speaker sentence_bm25 sentence_speaker sentence_intro sentence_seen sentence_next hedge".split()
)


@dataclass(frozen=True)
class Scored:
    """A passage row with its score, best sentence (index within the passage), highlight and signals.

    ``highlight`` is the source span of the best sentence; when that sentence is a lead-in
    ending in ":" ("Dymov warned:"), or the one right after such a lead-in, the span
    covers both, since together they say who said what.
    """

    row: int
    score: float
    sentence: int
    highlight: tuple[int, int]
    signals: dict[str, float] = field(default_factory=dict)
    copies: tuple[int, ...] = ()  # rows of the near-copies of this passage that it stands for (other outlets)


_DURATION = frozenset({"second", "minut", "hour", "day", "week", "month", "year", "decad"})
_AMOUNT = frozenset({"million", "billion", "trillion", "dollar", "euro", "percent", "%", "$", "€", "£", "ton", "tonn"})


def _not_last(counts: np.ndarray) -> np.ndarray:
    """For sentences laid out passage after passage, whether each has a next one in its passage."""
    out = np.ones(int(counts.sum()), dtype=bool)
    out[np.cumsum(counts)[counts > 0] - 1] = False
    return out


@dataclass
class Features:
    """Raw signals of one question's candidate passages (``rows``) and of their sentences.

    ``rows`` are passage ids of the store. Sentence arrays hold the sentences of ``rows[0]``,
    then those of ``rows[1]``, and so on; ``counts[i]`` is the number of sentences of ``rows[i]``.
    """

    rows: np.ndarray
    order: np.ndarray  # each row's rank by (article, offset): ties are broken by it, as a rebuild would order them
    counts: np.ndarray
    dense: np.ndarray
    bm25: np.ndarray
    bm25_norm: np.ndarray
    coverage: np.ndarray
    names: np.ndarray
    has_names: bool
    asks_speaker: bool
    s_dense: np.ndarray
    s_coverage: np.ndarray
    s_type: np.ndarray
    s_speaker: np.ndarray
    s_lead_in: np.ndarray
    s_colon: np.ndarray  # a lead-in ending in ":" with a next sentence in the same passage
    s_spans: np.ndarray  # (sentences, 2): source offsets, for the highlight
    when: np.ndarray | None = None  # per passage: closeness of its article's date to the question's time words
    recent: np.ndarray | None = None  # per passage, for a question without time words: closeness to the month before
    terms: np.ndarray | None = None  # term ids of every token, passage after passage (for copies)
    token_starts: np.ndarray | None = None  # where each passage's tokens start in ``terms``, and the end
    _shingles: dict[int, frozenset] = field(default_factory=dict, repr=False)

    def shingles_of(self, i: int) -> frozenset:
        """The word shingles of candidate ``i`` (:func:`qa.search.copies.shingles`), computed once."""
        if self.terms is None or self.token_starts is None:
            return frozenset()
        if i not in self._shingles:
            start, end = int(self.token_starts[i]), int(self.token_starts[i + 1])
            self._shingles[i] = shingles(self.terms[start:end])
        return self._shingles[i]


def combine(f: Features, cfg: RetrievalConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passage scores, each passage's best sentence (index within it), and all sentence scores."""
    s = f.s_dense + cfg.sentence_coverage * f.s_coverage + cfg.sentence_type * f.s_type
    if f.s_colon.any():  # "Dymov warned:" and the words it introduces are one unit
        lead = np.flatnonzero(f.s_colon)
        s = s.copy()
        s[lead] = s[lead + 1] = np.maximum(s[lead], s[lead + 1])
    starts = np.concatenate([[0], np.cumsum(f.counts)[:-1]]).astype(np.int64)
    best_score = np.maximum.reduceat(s, starts)
    at_max = np.where(s == np.repeat(best_score, f.counts), np.arange(len(s)), len(s))
    best = np.minimum.reduceat(at_max, starts) - starts
    scores = cfg.dense * f.dense + cfg.sentence * best_score + cfg.bm25 * f.bm25_norm
    if f.when is not None and cfg.when:
        scores = scores + cfg.when * f.when
    if f.recent is not None and cfg.recency:
        scores = scores + cfg.recency * f.recent
    return scores, best, s


class Retriever:
    """Scores the passages of an :class:`~qa.store.IndexStore` for analysed, encoded questions."""

    def __init__(self, store: IndexStore, *, config: RetrievalConfig = RetrievalConfig()) -> None:
        self.store = store
        self.config = config
        #: Words the corpus writes as names (looked up in the index).
        self.lexicon = store.names
        #: Words of the names of everyone quoted in the corpus: a "he" after one of them in a
        #: question ("what did Rubio say about his talks?") refers to it, not to an earlier turn.
        self.speaker_words = store.speaker_words

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Sorted ids of the passages ``filters`` allow (None: all)."""
        if filters is None or not filters.active:
            return None
        return self.store.allowed(
            outlets=filters.outlets, date_from=filters.date_from, date_to=filters.date_to, doc_ids=filters.doc_ids
        )

    def search(
        self,
        query: QueryAnalysis,
        vector: np.ndarray,
        *,
        k: int = 5,
        allowed: np.ndarray | None = None,
        speakers: frozenset[str] = frozenset(),
    ) -> list[Scored]:
        """Top ``k`` passages for one question; see :meth:`batch_search`."""
        return self.batch_search([query], vector[None, :], k=k, allowed=allowed, speakers=[speakers])[0]

    def batch_search(
        self,
        queries: Sequence[QueryAnalysis],
        vectors: np.ndarray,
        *,
        k: int = 5,
        allowed: np.ndarray | None = None,
        speakers: Sequence[frozenset[str]] | None = None,
    ) -> list[list[Scored]]:
        """Top ``k`` passages per question, best first, among ``allowed`` passage ids (all when None).

        Args:
            queries: analysed questions (see :func:`qa.search.analysis.analyse`).
            vectors: their embeddings, one row each.
            k: passages per question.
            allowed: sorted passage ids, from :meth:`allowed`.
            speakers: per question, names that "he"/"she" stands for (from the conversation).
        """
        speakers = speakers or [frozenset()] * len(queries)
        with self.store.reading():
            pool = max(self.config.candidates, k)
            return [
                self.rank(self.features(q, v, allowed=allowed, context=s, pool=pool), k=k)
                for q, v, s in zip(queries, vectors, speakers)
            ]

    # ------------------------------------------------------------------ internals

    def _candidates(
        self, vector: np.ndarray, tokens: Sequence[str], allowed: np.ndarray | None, pool: int
    ) -> np.ndarray:
        store = self.store
        if store.passage_count <= pool:
            return store.live_ids() if allowed is None else allowed
        dense = store.search_dense(vector, pool, allowed=allowed)
        lexical, _ = store.search_lexical(tokens, pool, allowed=allowed)
        return np.unique(np.concatenate([dense, lexical]))

    def features(
        self,
        query: QueryAnalysis,
        vector: np.ndarray,
        *,
        allowed: np.ndarray | None = None,
        context: frozenset[str] = frozenset(),
        pool: int | None = None,
    ) -> Features:
        """Every raw signal for the candidate passages of one question, and for their sentences.

        ``context`` holds the names "he"/"she" may stand for (empty for an independent
        question); ``pool`` how many candidates each search gives (``RetrievalConfig.candidates``
        by default).
        """
        with self.store.reading():
            tokens = list(query.tokens)
            c = self.store.candidates(self._candidates(vector, tokens, allowed, pool or self.config.candidates))
            asked = frozenset(map(fold_name, query.speaker or (context if query.speaker_pronoun else frozenset())))
            speaker_stems = {stem(w) for w in asked}
            sentence_tokens = [t for t in tokens if t not in speaker_stems] or tokens
            return self._features(query, vector, c, tokens, sentence_tokens, asked)

    def _features(
        self,
        query: QueryAnalysis,
        vector: np.ndarray,
        c: Candidates,
        tokens: list[str],
        sentence_tokens: list[str],
        asked: frozenset[str],
    ) -> Features:
        name_forms = {n: {stem(f) for f in {n, METONYMS.get(n, n)}} for n in query.names}
        lexicon = _Lexical(self.store, c, [*tokens, *sentence_tokens, *(f for s in name_forms.values() for f in s)])
        n, s_total = len(c), int(c.counts.sum())
        lex = lexicon.bm25(tokens)
        top_lex = float(lex.max()) if n else 0.0
        flags = c.flags
        lead_in = (flags & FLAG_LEAD_IN) > 0
        colon = ((flags & FLAG_COLON) > 0) & _not_last(c.counts)
        return Features(
            rows=c.ids,
            order=_ranks(c.keys),
            counts=c.counts,
            dense=c.vectors @ vector if n else np.zeros(0, np.float32),
            bm25=lex,
            bm25_norm=lex / top_lex if top_lex > 0 else lex,
            coverage=lexicon.coverage(tokens),
            names=self._name_coverage(query.names, name_forms, c, lexicon),
            has_names=bool(query.names),
            asks_speaker=bool(asked),
            s_dense=c.sentence_vectors @ vector if s_total else np.zeros(0, np.float32),
            s_coverage=lexicon.coverage(sentence_tokens, sentences=True),
            s_type=self._type_ok(query, c),
            s_speaker=(
                np.array([self._speaker_match(w, asked) for w in c.sentence_speakers], dtype=np.float32)
                if asked
                else np.zeros(s_total, np.float32)
            ),
            s_lead_in=lead_in.astype(np.float32),
            s_colon=colon,
            s_spans=c.spans,
            terms=c.terms,
            token_starts=np.concatenate([[0], np.cumsum(c.passage_lengths)]).astype(np.int64),
            when=closeness(query.when, c.days) if query.when is not None and n else None,
            recent=(
                closeness(TimeWindow(query.as_of - timedelta(days=30), query.as_of, ""), c.days)
                if query.when is None and query.as_of is not None and n
                else None
            ),
        )

    def _name_coverage(
        self, names: frozenset[str], forms: dict[str, set[str]], c: Candidates, lexicon: _Lexical
    ) -> np.ndarray:
        """Per passage, the share of the question's names it mentions, counting a capital for its
        country ("Moscow" for Russia) and a quoted speaker as mentioned."""
        if not names:
            return np.zeros(len(c), np.float32)
        hits = np.zeros(len(c), np.float32)
        for name in names:
            found = np.zeros(len(c), dtype=bool)
            for form in forms[name]:
                found |= lexicon.present(form)
            folded = fold_name(name)
            found |= np.array([folded in spoken for spoken in c.speakers], dtype=bool)
            hits += found
        return hits / len(names)

    def _speaker_match(self, names: frozenset[str], asked: frozenset[str]) -> float:
        if not asked or not names:
            return 0.0
        shared = names & asked
        if any(w in self.lexicon for w in shared):
            return 1.0
        return len(shared) / len(asked)

    def rank(self, f: Features, *, k: int, config: RetrievalConfig | None = None) -> list[Scored]:
        """The ``k`` best passages from precomputed :class:`Features` (``config`` overrides the weights).

        Passages are ordered by score; equal scores by article and offset. A passage that
        copies one ranked above it (:mod:`qa.search.copies`) joins that one's ``copies`` instead of
        taking a place. Every passage's highlight is its best sentence.
        """
        if not len(f.rows):
            return []
        cfg = config or self.config
        scores, best, s_scores = combine(f, cfg)
        order = [int(i) for i in np.lexsort((f.order, -scores))]
        groups = collapse(order, f.shingles_of, k) if cfg.collapse_copies else [(i, ()) for i in order[:k]]
        starts = np.concatenate([[0], np.cumsum(f.counts)[:-1]])
        out = []
        for i, copies in groups:
            j = int(starts[i] + best[i])
            seg = slice(int(starts[i]), int(starts[i] + f.counts[i]))
            signals = {
                "dense": float(f.dense[i]),
                "sentence": float(s_scores[j]),
                "sentence_dense": float(f.s_dense[j]),
                "sentence_coverage": float(f.s_coverage[j]),
                "bm25": float(f.bm25[i]),
                "bm25_norm": float(f.bm25_norm[i]),
                "coverage": float(f.coverage[i]),
                "names": float(f.names[i]) if f.has_names else 1.0,
                "speaker": float(f.s_speaker[seg].max()) if f.asks_speaker else 1.0,
                "type": float(f.s_type[j]),
                "asks_speaker": float(f.asks_speaker),
                "best_dense": float((f.s_dense[seg] * (1 - f.s_lead_in[seg])).max()),
                "speaker_dense": float((f.s_dense[seg] * (f.s_speaker[seg] > 0)).max()),
                "typed_dense": float((f.s_dense[seg] * (f.s_type[seg] > 0)).max()),
                "when": float(f.when[i]) if f.when is not None else 0.0,
            }
            highlight = _highlight(f, j, int(best[i]))
            copy_rows = tuple(int(f.rows[c]) for c in copies)
            out.append(Scored(int(f.rows[i]), float(scores[i]), int(best[i]), highlight, signals, copy_rows))
        return out

    def _type_ok(self, query: QueryAnalysis, c: Candidates) -> np.ndarray:
        """Per sentence, whether it holds the kind of answer asked for (headings and lead-ins never do)."""
        flags = c.flags
        if query.wants is None:
            return np.ones(len(flags), dtype=np.float32)
        if query.wants == "number":
            focus = query.focus
            if focus is None:
                ok = (flags & FLAG_NUMBER) > 0
            elif focus == "@duration":
                ok = np.array([not _DURATION.isdisjoint(w) for w in c.counted], dtype=bool)
            elif focus == "@amount":
                ok = np.array([not _AMOUNT.isdisjoint(w) for w in c.counted], dtype=bool)
            else:
                ok = np.array([focus in w for w in c.counted], dtype=bool)
        elif query.wants == "date":
            ok = (flags & FLAG_DATE) > 0
        else:
            asked = query.names | {fold_name(w) for w in query.names}
            must = query.focus if query.focus in self.lexicon else None
            ok = np.array(
                [any(asked.isdisjoint(g) and (must is None or must in g) for g in groups) for groups in c.groups],
                dtype=bool,
            )
        ok = ok.reshape(-1) if len(flags) else np.zeros(0, dtype=bool)
        return (ok & ((flags & (FLAG_LEAD_IN | FLAG_COLON)) == 0)).astype(np.float32)

    # ------------------------------------------------------------------ lexical statistics of any text

    def bm25_of(self, tokens: Sequence[str], text_tokens: Sequence[str]) -> float:
        """BM25 of a tokenised text against the index's passage statistics (as the ``bm25`` signal)."""
        stats, known = self.store.stats(), self.store.terms(tokens)
        tf = {t: list(text_tokens).count(t) for t in set(tokens)}
        norm = K1 * (1 - B + B * len(text_tokens) / stats["passage_length"])
        return float(
            sum(
                bm25_idf(stats["passages"], known[t][1]) * tf[t] / (tf[t] + norm)
                for t in tokens
                if t in known and tf[t]
            )
        )

    def coverage_of(self, tokens: Sequence[str], text_tokens: Sequence[str]) -> float:
        """IDF-weighted share of the distinct ``tokens`` found in ``text_tokens`` (as the ``coverage`` signal)."""
        weights = _coverage_weights(tokens, self.store.terms(tokens), self.store.stats()["passages"], 1)
        present = set(text_tokens)
        return sum(w for t, w in weights.items() if t in present) / sum(weights.values()) if weights else 0.0


class _Lexical:
    """BM25 and term coverage of one question's candidate passages and sentences, from their stored
    term ids and the collection's statistics (exactly what the whole-index BM25 would give)."""

    def __init__(self, store: IndexStore, c: Candidates, tokens: Sequence[str]) -> None:
        self.c = c
        self.stats = store.stats()
        self.known = store.terms(tokens)
        columns = sorted({self.known[t][0] for t in tokens if t in self.known})
        self.column = {term: i for i, term in enumerate(columns)}
        n, s = len(c), int(c.counts.sum())
        self.tf_passage = np.zeros((n, len(columns)), np.float64)
        self.tf_sentence = np.zeros((s, len(columns)), np.float64)
        if columns and len(c.terms):
            wanted = np.array(columns, dtype=np.int64)
            pos = np.minimum(np.searchsorted(wanted, c.terms), len(wanted) - 1)
            match = wanted[pos] == c.terms
            cols, sentences = pos[match], c.token_sentence[match]
            owner = np.repeat(np.arange(n, dtype=np.int64), c.counts)
            width = len(columns)
            self.tf_sentence = np.bincount(sentences * width + cols, minlength=s * width).reshape(s, width)
            self.tf_passage = np.bincount(owner[sentences] * width + cols, minlength=n * width).reshape(n, width)
            self.tf_sentence = self.tf_sentence.astype(np.float64)
            self.tf_passage = self.tf_passage.astype(np.float64)

    def _level(self, sentences: bool):
        if sentences:
            return self.tf_sentence, self.c.sentence_lengths, self.stats["sentences"], self.stats["sentence_length"], 2
        return self.tf_passage, self.c.passage_lengths, self.stats["passages"], self.stats["passage_length"], 1

    def bm25(self, tokens: Sequence[str], *, sentences: bool = False) -> np.ndarray:
        """Lucene BM25 of every candidate passage (or sentence); a token repeated in the query counts again."""
        tf, lengths, count, mean, df_at = self._level(sentences)
        out = np.zeros(len(tf), np.float64)
        if not len(tf):
            return out.astype(np.float32)
        norm = K1 * (1 - B + B * lengths / mean)
        for t in tokens:
            if t not in self.known:
                continue
            col = tf[:, self.column[self.known[t][0]]]
            out += bm25_idf(count, self.known[t][df_at]) * col / (col + norm)
        return out.astype(np.float32)

    def coverage(self, tokens: Sequence[str], *, sentences: bool = False) -> np.ndarray:
        """Per candidate, the IDF-weighted share of the distinct ``tokens`` it contains (0-1); a token the
        index has never seen weighs as much as the rarest one."""
        tf, _, count, _, df_at = self._level(sentences)
        weights = _coverage_weights(tokens, self.known, count, df_at)
        out = np.zeros(len(tf), np.float64)
        if not weights or not len(tf):
            return out.astype(np.float32)
        for t, w in weights.items():
            if t in self.known:
                out += w * (tf[:, self.column[self.known[t][0]]] > 0)
        return (out / sum(weights.values())).astype(np.float32)

    def present(self, token: str) -> np.ndarray:
        """Per candidate passage, whether it holds ``token``."""
        if token not in self.known:
            return np.zeros(len(self.c), dtype=bool)
        return self.tf_passage[:, self.column[self.known[token][0]]] > 0


def _coverage_weights(tokens: Sequence[str], known: dict, count: int, df_at: int) -> dict[str, float]:
    """Each distinct token's weight in coverage: its IDF, or the rarest possible IDF when unknown."""
    rarest = float(np.log(1 + (count + 0.5) / 1.5))
    return {t: (bm25_idf(count, known[t][df_at]) if t in known else 0.0) or rarest for t in dict.fromkeys(tokens)}


def _ranks(keys: Sequence[tuple[str, int]]) -> np.ndarray:
    """Each key's rank in sorted order."""
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return ranks


def _highlight(f: Features, j: int, i: int) -> tuple[int, int]:
    """The highlight of sentence ``j`` (the ``i``-th of its passage): it, with the lead-in it follows
    or the words a lead-in of its introduces."""
    start, end = (int(x) for x in f.s_spans[j])
    if f.s_colon[j]:
        end = int(f.s_spans[j + 1][1])
    elif i > 0 and f.s_colon[j - 1]:
        start = int(f.s_spans[j - 1][0])
    return (start, end)
