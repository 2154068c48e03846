"""Who is quoted and what they said: the quotes view over an index.

Every sentence the index attributes to a speaker (:mod:`qa.ingest.quotes`) is a quote. Names that
differ only in case or accents are one person (Erdoğan, Erdogan). Within an article, a short
form (Peskov) is the full name the article gives (Dmitry Peskov), and a role ("the Kremlin
spokesman") is the person the article names with that role ("Kremlin spokesperson Dmitry
Peskov"). Across articles, other spellings are joined by an alias table that users edit:
``aliases.toml`` beside ``metadata.toml`` in the corpus folder::

    ["Volodymyr Zelensky"]
    variants = ["Zelenskyy", "Zelenskiy", "Volodymyr Zelenskyy"]

A speaker asked for by one word ("Lavrov") finds every name that holds it ("Sergey Lavrov").
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import FilterError
from ..ingest.names import ALIAS_FILE, AliasTable, key_words, name_key, resolve_article
from ..ingest.passages import Passage, Quote
from ..ingest.quotes import is_unnamed
from ..ingest.quotes.kinds import CONFIDENT, KINDS, SPEECH

__all__ = [
    "ALIAS_FILE",
    "AliasTable",
    "QuoteRow",
    "Quoted",
    "Speaker",
    "asked_matches",
    "check_kinds",
    "decode_quotes",
    "is_unnamed",
    "name_key",
    "resolve_article",
    "shown",
    "tally",
]


@dataclass(frozen=True)
class Quoted:
    """One quote: the speaker's words in an article, with the passage they are in.

    ``speaker`` is the person as the quotes view names them (the article's full name, or the
    alias table's); ``said_as`` is how the sentence names them. ``score`` is the quote's match
    to the ``about`` of :meth:`qa.Assistant.quotes` (None without one). ``attribution`` is the
    kind of attribution (:data:`KINDS`: direct, reported, carried, belief, document) and
    ``confidence`` how often one like it is right.
    """

    speaker: str
    said_as: str
    char_start: int
    char_end: int
    direct: bool
    passage: Passage
    score: float | None = None
    attribution: str = "direct"
    confidence: float = 1.0

    @property
    def label(self) -> str:
        """How the quote is introduced: "Sergey Lavrov said", "... said (reported)", "... believes",
        with the confidence where it is under :data:`CONFIDENT`."""
        verb = {
            "direct": "said",
            "reported": "said (reported)",
            "carried": "said (carried on)",
            "belief": "believes, wants or plans (belief)",
            "document": "reports, in a document or data",
        }.get(self.attribution, "said")
        doubt = f" [doubtful speaker: confidence {self.confidence:.2f}]" if self.confidence < CONFIDENT else ""
        return f"{self.speaker} {verb}{doubt}"

    @property
    def text(self) -> str:
        """The quote's sentence, verbatim."""
        start = self.char_start - self.passage.char_start
        return self.passage.text[start : start + self.char_end - self.char_start]

    @property
    def citation(self) -> str:
        """Outlet, title, date, kind, file and the quote's character span."""
        p = self.passage
        parts = [p.outlet or "outlet not stated", f"“{p.title}”" if p.title else "untitled", p.date or "undated"]
        kind = f" · {p.kind}" if p.kind else ""
        return f"{', '.join(parts)}{kind} — {p.doc_id}, chars {self.char_start}–{self.char_end}"

    def to_dict(self) -> dict:
        """Plain JSON-ready fields."""
        p = self.passage
        return {
            "speaker": self.speaker,
            "said_as": self.said_as,
            "text": self.text,
            "direct": self.direct,
            "attribution": self.attribution,
            "confidence": self.confidence,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "score": None if self.score is None else round(self.score, 6),
            "citation": self.citation,
            "doc_id": p.doc_id,
            "outlet": p.outlet,
            "title": p.title,
            "date": p.date,
            "kind": p.kind,
            "url": p.url,
            "passage": {"char_start": p.char_start, "char_end": p.char_end, "text": p.text},
        }


@dataclass(frozen=True)
class QuoteRow:
    """A stored quote with where it is: its passage's row id, article and outlet, and the speaker
    as the quotes view names them (resolved in its article, then by the alias table)."""

    speaker: str
    pid: int
    doc_id: str
    outlet: str
    quote: Quote


@dataclass(frozen=True)
class Speaker:
    """Someone the corpus quotes: how often, in how many articles, by which outlets, and the names used."""

    name: str
    quotes: int
    articles: int
    outlets: tuple[str, ...]
    variants: tuple[str, ...]


def asked_matches(asked: str, speaker: str, aliases: AliasTable) -> bool:
    """Whether the speaker asked for (a name, a surname, an alias) is ``speaker``."""
    canonical = aliases.resolve(asked)
    if canonical is not None:
        return name_key(canonical) == name_key(speaker)
    want, have = key_words(name_key(asked)), key_words(name_key(speaker))
    return bool(want) and all(w in have for w in want)


def decode_quotes(raw: str) -> list[Quote]:
    """A passage's stored quotes."""
    return [Quote.from_row(row) for row in json.loads(raw)] if raw else []


def shown(
    kind: str, confidence: float, *, kinds: Iterable[str] | None = None, min_confidence: float | None = None
) -> bool:
    """Whether a quote of this kind and confidence is shown: by default speech (:data:`SPEECH`) at
    :data:`CONFIDENT` or more."""
    return kind in (SPEECH if kinds is None else kinds) and confidence >= (
        CONFIDENT if min_confidence is None else min_confidence
    )


def check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...] | None:
    """``kinds`` as a tuple, each one of :data:`KINDS`.

    Raises:
        FilterError: an unknown kind, named with the known ones.
    """
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [kinds]
    found = tuple(kinds)
    unknown = [k for k in found if k not in KINDS]
    if unknown:
        raise FilterError(f"unknown kind of quote {', '.join(map(repr, unknown))}; use any of {', '.join(KINDS)}")
    return found


def tally(rows: Iterable[tuple[str, str, str, str]]) -> list[Speaker]:
    """Speakers from (speaker, said_as, doc_id, outlet) rows, most quoted first."""
    quotes: dict[str, int] = defaultdict(int)
    docs: dict[str, set[str]] = defaultdict(set)
    outlets: dict[str, set[str]] = defaultdict(set)
    variants: dict[str, set[str]] = defaultdict(set)
    for speaker, said_as, doc_id, outlet in rows:
        quotes[speaker] += 1
        docs[speaker].add(doc_id)
        outlets[speaker].add(outlet)
        variants[speaker].add(said_as)
    return sorted(
        (
            Speaker(name, quotes[name], len(docs[name]), tuple(sorted(outlets[name])), tuple(sorted(variants[name])))
            for name in quotes
        ),
        key=lambda s: (-s.quotes, name_key(s.name)),
    )
