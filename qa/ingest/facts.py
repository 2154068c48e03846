"""What retrieval knows of every sentence, worked out once when an article is indexed.

Per sentence: whether it holds a number or a date, whether it is a lead-in ("Dymov
warned:") or a line without an end mark, its capitalised name groups, the words right after
its numbers ("1,000 prisoners" -> prison), and the words of whoever speaks it (name plus the
words the article uses to describe them). They are stored in the index (``passage_data``, per
passage), so that answering a question reads them for its candidates only.
:data:`FACTS_VERSION` names the rules; an index made by other rules has its text side remade.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..lexical import STOPWORDS, fold_name, tokenize, words
from .names import name_groups
from .passages import Passage
from .quotes import sentence_speaker

__all__ = ["FACTS_VERSION", "SentenceFacts", "name_words", "sentence_has"]

#: Bump when a rule here changes what is stored: indexes with another version have their text side
#: remade (no encoding). Quotes, which speakers are read from, follow ``ATTRIBUTION_VERSION``
#: (part of the chunking rules), so a change there remakes the facts too.
FACTS_VERSION = 1

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_IN_SENTENCE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})|(?:1\d|20)\d\d|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight|"
    r"(?:last|next|this)\s+(?:week|month|year|weekend)|weekend|morning|evening|afternoon|overnight|"
    rf"(?:early|late|mid)\s+(?:{_MONTHS}|\w+day)|(?:in|since|until|by|before|after)\s+(?:{_MONTHS}))\b",
    re.I,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens"
)
_NUMBER_IN_SENTENCE = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)


def sentence_has(kind: str, sentence: str) -> bool:
    """Whether ``sentence`` holds a number (``kind="number"``) or a date (``kind="date"``)."""
    pattern = {"number": _NUMBER_IN_SENTENCE, "date": _DATE_IN_SENTENCE}[kind]
    return bool(pattern.search(sentence))


_TERMINAL = (".", "!", "?", "”", '"', "’", "'", ")", "…")

_NUMBER = re.compile(
    r"(?:\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|a\s+few|several)\b)"
    r"(?P<after>(?:[\s\-]+[\w’']+){0,3})",
    re.I,
)
_DESCRIPTOR_STOP = {
    "to",
    "with",
    "by",
    "for",
    "and",
    "that",
    "from",
    "in",
    "on",
    "at",
    "as",
    "said",
    "told",
    "his",
    "her",
}
_WORDISH = re.compile(r"[\w.’'\-]+")


def name_words(name: str) -> frozenset[str]:
    """The folded words of a name ("Volodymyr Zelenskyy" -> volodymyr, zelensky)."""
    return frozenset(fold_name(w) for w in words(name))


def _counted(sentence: str) -> frozenset[str]:
    """Stems of the words right after each number in a sentence ("1,000 prisoners" -> prison), and
    amount markers; used to check that a number counts what a question asks about."""
    found: set[str] = set()
    for match in _NUMBER.finditer(sentence):
        found.update(tokenize(match.group(0)))
        found.update(tokenize(match.group("after")))
    found.update(ch for ch in "$€£%" if ch in sentence)
    return frozenset(found)


def _words_before(text: str, name: str, most: int = 5) -> Iterator[list[str]]:
    """For each place ``name`` stands as a word after a space, the up to ``most`` words right
    before it (letters, digits, ``.’'-`` only; a word with other marks contributes its tail),
    looking no further back than the previous place that had any."""
    start = 0
    for match in re.finditer(rf"(?<=\s){re.escape(name)}\b", text):
        before: list[str] = []
        for token in reversed(text[start : match.start()].split()[-most:]):
            if _WORDISH.fullmatch(token):
                before.append(token)
                continue
            tail = re.search(rf"{_WORDISH.pattern}$", token)
            if tail:
                before.append(tail.group(0))
            break
        if before:
            start = match.end()
            yield before[::-1]


def _descriptors(passages: Sequence[Passage]) -> dict[str, frozenset[str]]:
    """For each speaker of an article (given as its passages): its name words plus the words that
    describe it where the article names it ("Ukrainian political analyst Valeriy Dymov" ->
    ukrainian, political, analyst)."""
    out: dict[str, frozenset[str]] = {}
    speakers = {q.speaker for p in passages for q in p.quotes}
    text = " ".join(p.text for p in passages) if speakers else ""
    for speaker in speakers:
        found = set(name_words(speaker))
        surname = speaker.split()[-1]
        for before in _words_before(text, surname):
            for word in reversed(before):
                folded = words(word)
                if not folded or folded[0] in _DESCRIPTOR_STOP or word.endswith((",", ".", ":", ";")):
                    break
                found.update(fold_name(w) for w in folded if w not in STOPWORDS)
        out[speaker] = frozenset(found)
    return out


@dataclass(frozen=True)
class SentenceFacts:
    """Facts of a run of sentences, in sentence-row order (passage after passage)."""

    number: np.ndarray  # bool: holds a number
    date: np.ndarray  # bool: holds a date
    lead_in: np.ndarray  # bool: does not end like a sentence ("Dymov warned:", a heading)
    colon: np.ndarray  # bool: ends in ":"
    groups: tuple[tuple[frozenset[str], ...], ...]  # capitalised name groups
    counted: tuple[frozenset[str], ...]  # stems right after its numbers
    speakers: tuple[frozenset[str], ...]  # words of whoever speaks it, and of their description

    def __len__(self) -> int:
        return len(self.number)

    @classmethod
    def of_article(cls, passages: Sequence[Passage]) -> SentenceFacts:
        """Work out the facts of one article's sentences (its passages, in order)."""
        texts = [p.sentence_text(i) for p in passages for i in range(len(p.sentences))]
        described = _descriptors(passages)
        speakers: list[frozenset[str]] = []
        for p in passages:
            spans = {span: i for i, span in enumerate(p.sentences)}
            mine: list[frozenset[str]] = [frozenset()] * len(p.sentences)
            for quote in p.quotes:
                i = spans.get((quote.char_start, quote.char_end))
                if i is not None:
                    mine[i] = described.get(quote.speaker, name_words(quote.speaker))
            for i in range(len(p.sentences)):  # "Trump recently claimed ..." inside someone's quote
                reported = sentence_speaker(p.sentence_text(i), nested=True)
                if reported and reported not in ("he", "she", "they"):
                    mine[i] = mine[i] | name_words(reported)
            speakers.extend(mine)
        return cls(
            number=np.array([sentence_has("number", t) for t in texts], dtype=bool),
            date=np.array([sentence_has("date", t) for t in texts], dtype=bool),
            lead_in=np.array([not t.rstrip().endswith((*_TERMINAL, ":")) for t in texts], dtype=bool),
            colon=np.array([t.rstrip().endswith(":") for t in texts], dtype=bool),
            groups=tuple(tuple(name_groups(t)) for t in texts),
            counted=tuple(_counted(t) for t in texts),
            speakers=tuple(speakers),
        )

    @classmethod
    def join(cls, parts: Sequence[SentenceFacts]) -> SentenceFacts:
        """The facts of ``parts`` one after another."""

        def flags(name: str) -> np.ndarray:
            return np.concatenate([np.zeros(0, bool), *(getattr(p, name) for p in parts)])

        return cls(
            number=flags("number"),
            date=flags("date"),
            lead_in=flags("lead_in"),
            colon=flags("colon"),
            groups=tuple(g for p in parts for g in p.groups),
            counted=tuple(c for p in parts for c in p.counted),
            speakers=tuple(s for p in parts for s in p.speakers),
        )

    def rows(self, start: int, stop: int) -> SentenceFacts:
        """The facts of sentence rows ``start`` to ``stop`` (exclusive)."""
        cut = slice(start, stop)
        return SentenceFacts(
            self.number[cut],
            self.date[cut],
            self.lead_in[cut],
            self.colon[cut],
            self.groups[cut],
            self.counted[cut],
            self.speakers[cut],
        )
