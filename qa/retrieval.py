"""Hybrid retrieval: dense and lexical evidence at passage and sentence level, plus news structure.

Each candidate passage gets a score from a few signals, each in [0, 1] or a cosine:

* ``dense``: cosine between the question and the whole passage;
* ``sentence``: the score of its best sentence, which is the question-sentence cosine
  plus the sentence's share of the question's terms, a bonus when the sentence holds
  the kind of answer asked for (a number for "how many", a date for "when") or is
  spoken by the person asked about, and a penalty for lead-in lines ("Dymov warned:");
* ``bm25``: BM25 of the passage, divided by the best BM25 of the query;
* ``coverage``: the IDF-weighted share of the question's terms found in the passage;
* ``names``: the share of the question's names (people, places, bodies) in the passage;
* ``speaker``: for "what did X say" questions, whether X is quoted in the passage.

The best sentence is also the highlight. Filters (outlet, dates, articles) apply
before ranking, so a filter never hides a passage that would have matched.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import numpy as np

from .analysis import METONYMS, QueryAnalysis
from .errors import FilterError, WeightsError
from .facts import name_words
from .lexical import STOPWORDS, _stem, fold_name
from .store import IndexStore

__all__ = ["PLAIN_HYBRID", "Features", "Filters", "RetrievalConfig", "Retriever", "Scored", "combine"]


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
    """Weights of the passage and sentence scores, and the candidate pool size.

    The defaults were fitted for news by ``bench/tune.py`` on ``tests/data/tuning.jsonl``
    (cross-validated) and checked on the dev set. Another kind of corpus may want other
    weights (scientific abstracts want passage BM25, which news does not): fit them on its
    own questions with ``bench/tune.py --out FILE`` and load them with :meth:`read`
    (``Assistant.load(weights=FILE)``, ``--weights FILE``).

    ``hedge`` is how many of the first five places go to the best passages of
    :data:`PLAIN_HYBRID` (dense, best sentence and BM25, without the news-structure
    signals) that the full score did not already rank above them: a guard against a
    structure signal misfiring on a question unlike the ones the weights were fitted on.
    0 turns it off; 5 ranks the first five by the plain hybrid alone.
    """

    dense: float = 0.75
    sentence: float = 1.5
    bm25: float = 0.0
    coverage: float = 0.0
    names: float = 0.5
    speaker: float = 0.1
    sentence_coverage: float = 0.0
    sentence_bm25: float = 0.5
    sentence_type: float = 0.3
    sentence_speaker: float = 0.2
    sentence_intro: float = 0.75
    sentence_seen: float = 0.2
    sentence_next: float = 0.3
    candidates: int = 200
    hedge: int = 2

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
_COUNTS = {"candidates": (1, 1_000_000), "hedge": (0, 5)}

#: The plain hybrid that :attr:`RetrievalConfig.hedge` draws on: passage and best-sentence
#: cosines, passage BM25 and the sentence's share of the question's terms (the first fit of
#: the news weights, before names, speakers, answer types and follow-ups were added).
PLAIN_HYBRID = replace(
    RetrievalConfig(**{f.name: 0.0 for f in fields(RetrievalConfig) if f.name not in _COUNTS}, hedge=0),
    dense=1.0,
    sentence=1.5,
    bm25=0.3,
    sentence_coverage=0.2,
    sentence_intro=0.1,
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


_FIRST_PLACES = 5  # the places a reader scans; hedge shares them with the plain hybrid
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

    Sentence arrays hold the sentences of ``rows[0]``, then those of ``rows[1]``, and so
    on; ``counts[i]`` is the number of sentences of ``rows[i]``.
    """

    rows: np.ndarray
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
    s_bm25: np.ndarray
    s_seen: np.ndarray  # shown as the answer to the earlier turn this follow-up leans on
    s_next: np.ndarray  # the sentence right after that answer, in the same passage


def combine(f: Features, cfg: RetrievalConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passage scores, each passage's best sentence (index within it), and all sentence scores."""
    s = (
        f.s_dense
        + cfg.sentence_coverage * f.s_coverage
        + cfg.sentence_bm25 * f.s_bm25
        + cfg.sentence_type * f.s_type
        + cfg.sentence_speaker * f.s_speaker
        - cfg.sentence_intro * f.s_lead_in
        - cfg.sentence_seen * f.s_seen
        + cfg.sentence_next * f.s_next
    )
    if f.s_colon.any():  # "Dymov warned:" and the words it introduces are one unit
        lead = np.flatnonzero(f.s_colon)
        s = s.copy()
        s[lead] = s[lead + 1] = np.maximum(s[lead], s[lead + 1])
    starts = np.concatenate([[0], np.cumsum(f.counts)[:-1]]).astype(np.int64)
    best_score = np.maximum.reduceat(s, starts)
    at_max = np.where(s == np.repeat(best_score, f.counts), np.arange(len(s)), len(s))
    best = np.minimum.reduceat(at_max, starts) - starts
    speaker = np.maximum.reduceat(f.s_speaker, starts) if f.asks_speaker else np.zeros(len(f.rows), np.float32)
    scores = (
        cfg.dense * f.dense
        + cfg.sentence * best_score
        + cfg.bm25 * f.bm25_norm
        + cfg.coverage * f.coverage
        + cfg.names * f.names
        + cfg.speaker * speaker
    )
    return scores, best, s


class Retriever:
    """Scores the passages of an :class:`IndexStore` for analysed, encoded questions."""

    def __init__(self, store: IndexStore, *, config: RetrievalConfig = RetrievalConfig()) -> None:
        self.store = store
        self.config = config
        if store.facts is None or store.names is None:
            raise ValueError(f"the index at {store.folder} has no sentence facts; open it with qa.store.open_index")
        facts = store.facts
        self.lexicon = store.names
        self._has_number, self._has_date = facts.number, facts.date
        self._lead_in, self._colon = facts.lead_in, facts.colon
        self._groups, self._counted, self._speakers = facts.groups, facts.counted, facts.speakers
        first = store.sentence_first
        spoken = self._speakers
        self._passage_speakers = [frozenset().union(*spoken[first[r] : first[r + 1]]) for r in range(len(first) - 1)]
        #: Words of the names of everyone quoted in the corpus: a "he" after one of them in a
        #: question ("what did Rubio say about his talks?") refers to it, not to an earlier turn.
        self.speaker_words: frozenset[str] = frozenset(
            w for p in store.passages for q in p.quotes for w in name_words(q.speaker) if w not in STOPWORDS
        )

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the passages ``filters`` allow (None: all)."""
        if filters is None or not filters.active:
            return None
        docs = self.store.documents
        allowed_docs = {d for d, doc in docs.items() if filters.allows(doc.meta.outlet, doc.meta.date, d)}
        mask = np.zeros(len(self.store.passages), dtype=bool)
        for d in allowed_docs:
            doc = docs[d]
            mask[doc.first : doc.first + doc.count] = True
        return mask

    def search(
        self,
        query: QueryAnalysis,
        vector: np.ndarray,
        *,
        k: int = 5,
        allowed: np.ndarray | None = None,
        speakers: frozenset[str] = frozenset(),
        seen: frozenset[int] = frozenset(),
    ) -> list[Scored]:
        """Top ``k`` passages for one question; see :meth:`batch_search`."""
        return self.batch_search([query], vector[None, :], k=k, allowed=allowed, speakers=[speakers], seen=[seen])[0]

    def batch_search(
        self,
        queries: Sequence[QueryAnalysis],
        vectors: np.ndarray,
        *,
        k: int = 5,
        allowed: np.ndarray | None = None,
        speakers: Sequence[frozenset[str]] | None = None,
        seen: Sequence[frozenset[int]] | None = None,
    ) -> list[list[Scored]]:
        """Top ``k`` passages per question, best first, among ``allowed`` rows (all when None).

        Args:
            queries: analysed questions (see :func:`qa.analysis.analyse`).
            vectors: their embeddings, one row each.
            k: passages per question.
            allowed: boolean mask over passages, from :meth:`mask`.
            speakers: per question, names that "he"/"she" stands for (from the conversation).
            seen: per question, sentence rows (see :attr:`IndexStore.sentence_first`) already
                shown as the answer to the earlier turn a follow-up leans on.
        """
        speakers = speakers or [frozenset()] * len(queries)
        seen = seen or [frozenset()] * len(queries)
        return [
            self.rank(self.features(q, v, allowed=allowed, context=s, seen=shown), k=k)
            for q, v, s, shown in zip(queries, vectors, speakers, seen)
        ]

    # ------------------------------------------------------------------ internals

    def _candidates(self, vector: np.ndarray, bm25: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        store, n = self.store, len(self.store.passages)
        pool = self.config.candidates
        if n <= pool:
            rows = np.arange(n)
            return rows if allowed is None else rows[allowed]
        _, dense_rows = store.passage_vectors.search(vector[None, :], pool, allowed=allowed)
        sent_allowed = None if allowed is None else allowed[store.sentence_owner]
        _, sent_rows = store.sentence_vectors.search(vector[None, :], pool, allowed=sent_allowed)
        lexical = bm25 if allowed is None else np.where(allowed, bm25, 0.0)
        top_lex = np.argpartition(-lexical, min(pool, n - 1))[:pool]
        top_lex = top_lex[lexical[top_lex] > 0]
        owners = store.sentence_owner[sent_rows[0][sent_rows[0] >= 0]]
        return np.unique(np.concatenate([dense_rows[0][dense_rows[0] >= 0], owners, top_lex]))

    def _name_coverage(self, names: frozenset[str], rows: np.ndarray) -> np.ndarray:
        """Per row, the share of the question's names it mentions, counting a capital for its
        country ("Moscow" for Russia) and a quoted speaker as mentioned."""
        if not names:
            return np.zeros(len(rows), np.float32)
        where = {int(r): i for i, r in enumerate(rows)}
        hits = np.zeros(len(rows), np.float32)
        for name in names:
            found = np.zeros(len(rows), dtype=bool)
            for form in {name, METONYMS.get(name, name)}:
                present = [where[r] for r in self.store.lexical.rows_with(_stem(form)) if r in where]
                found[present] = True
            folded = fold_name(name)
            found |= np.array([folded in self._passage_speakers[r] for r in rows], dtype=bool)
            hits += found
        return hits / len(names)

    def _speaker_match(self, names: frozenset[str], asked: frozenset[str]) -> float:
        if not asked or not names:
            return 0.0
        shared = names & asked
        if shared & self.lexicon.words:
            return 1.0
        return len(shared) / len(asked)

    def features(
        self,
        query: QueryAnalysis,
        vector: np.ndarray,
        *,
        allowed: np.ndarray | None = None,
        context: frozenset[str] = frozenset(),
        seen: frozenset[int] = frozenset(),
    ) -> Features:
        """Every raw signal for the candidate passages of one question, and for their sentences.

        ``context`` holds the names "he"/"she" may stand for; ``seen`` the sentence rows
        already shown as the earlier turn's answer (both empty for an independent question).
        """
        store = self.store
        tokens = list(query.tokens)
        bm25_all = store.lexical.scores(tokens)
        rows = self._candidates(vector, bm25_all, allowed)
        asked = frozenset(map(fold_name, query.speaker or (context if query.speaker_pronoun else frozenset())))
        speaker_stems = {_stem(w) for w in asked}
        sentence_tokens = [t for t in tokens if t not in speaker_stems] or tokens
        first, last = store.sentence_first[rows], store.sentence_first[rows + 1]
        srows = np.concatenate([np.arange(a, b) for a, b in zip(first, last)]) if len(rows) else np.zeros(0, np.int64)
        lex = bm25_all[rows]
        top_lex = float(lex.max()) if len(lex) else 0.0
        n = len(rows)
        s_lex = store.sentence_lexical.scores(sentence_tokens)[srows] if len(srows) else np.zeros(0, np.float32)
        top_s_lex = float(s_lex.max()) if len(s_lex) else 0.0
        return Features(
            rows=rows,
            counts=(last - first).astype(np.int64),
            dense=store.passage_vectors.vectors(rows) @ vector if n else np.zeros(0, np.float32),
            bm25=lex,
            bm25_norm=lex / top_lex if top_lex > 0 else lex,
            coverage=store.lexical.coverage(tokens)[rows],
            names=self._name_coverage(query.names, rows),
            has_names=bool(query.names),
            asks_speaker=bool(asked),
            s_dense=store.sentence_vectors.vectors(srows) @ vector if len(srows) else np.zeros(0, np.float32),
            s_coverage=store.sentence_lexical.coverage(sentence_tokens)[srows],
            s_bm25=s_lex / top_s_lex if top_s_lex > 0 else s_lex,
            s_type=self._type_ok(query, srows),
            s_speaker=np.array([self._speaker_match(self._speakers[r], asked) for r in srows], dtype=np.float32),
            s_lead_in=self._lead_in[srows].astype(np.float32),
            s_colon=self._colon[srows] & _not_last(last - first),
            s_seen=np.isin(srows, list(seen)).astype(np.float32),
            s_next=(srows == self._after(seen)).astype(np.float32),
        )

    def _after(self, seen: frozenset[int]) -> int:
        """The sentence row right after ``seen`` in the same passage (-1 when there is none)."""
        if not seen:
            return -1
        last, owner = max(seen), self.store.sentence_owner
        return last + 1 if last + 1 < len(owner) and owner[last + 1] == owner[last] else -1

    def rank(self, f: Features, *, k: int, config: RetrievalConfig | None = None) -> list[Scored]:
        """The ``k`` best passages from precomputed :class:`Features` (``config`` overrides the weights).

        Passages are ordered by their full score, except that :attr:`RetrievalConfig.hedge`
        of the first five places go to the plain hybrid's best passages not already placed
        (so a hedged passage may carry a lower score than one ranked below it). Every
        passage's highlight is its best sentence by the full score.
        """
        if not len(f.rows):
            return []
        cfg = config or self.config
        scores, best, s_scores = combine(f, cfg)
        order = sorted(range(len(f.rows)), key=lambda i: (-scores[i], f.rows[i]))
        if cfg.hedge and len(order) > _FIRST_PLACES - cfg.hedge:
            head = order[: _FIRST_PLACES - cfg.hedge]
            plain = combine(f, PLAIN_HYBRID)[0]
            head += [int(i) for i in np.lexsort((f.rows, -plain)) if i not in head][: cfg.hedge]
            order = head + [i for i in order if i not in head]
        order = order[:k]
        starts = np.concatenate([[0], np.cumsum(f.counts)[:-1]])
        out = []
        for i in order:
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
            }
            out.append(
                Scored(
                    int(f.rows[i]),
                    float(scores[i]),
                    int(best[i]),
                    self._highlight(int(f.rows[i]), int(best[i])),
                    signals,
                )
            )
        return out

    def _highlight(self, row: int, i: int) -> tuple[int, int]:
        p = self.store.passages[row]
        if not p.sentences:
            return (p.char_start, p.char_end)
        first = int(self.store.sentence_first[row])
        start, end = p.sentences[i]
        if i + 1 < len(p.sentences) and self._colon[first + i]:
            end = p.sentences[i + 1][1]
        elif i > 0 and self._colon[first + i - 1]:
            start = p.sentences[i - 1][0]
        return (start, end)

    def _type_ok(self, query: QueryAnalysis, srows: np.ndarray) -> np.ndarray:
        """Per sentence, whether it holds the kind of answer asked for (headings and lead-ins never do)."""
        if query.wants is None:
            return np.ones(len(srows), dtype=np.float32)
        if query.wants == "number":
            focus = query.focus
            if focus is None:
                ok = self._has_number[srows]
            elif focus == "@duration":
                ok = np.array([bool(self._counted[r] & _DURATION) for r in srows])
            elif focus == "@amount":
                ok = np.array([bool(self._counted[r] & _AMOUNT) for r in srows])
            else:
                ok = np.array([focus in self._counted[r] for r in srows])
        elif query.wants == "date":
            ok = self._has_date[srows]
        else:
            asked = query.names | {fold_name(w) for w in query.names}
            must = query.focus if query.focus in self.lexicon else None
            ok = np.array(
                [any(not (g & asked) and (must is None or must in g) for g in self._groups[r]) for r in srows]
            )
        return (ok & ~self._lead_in[srows] & ~self._colon[srows]).astype(np.float32)
