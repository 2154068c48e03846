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
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import MetadataError
from ..ingest.passages import Passage
from ..ingest.quotes import is_unnamed
from ..lexical import STOPWORDS
from ..text import fold_accents

__all__ = ["ALIAS_FILE", "AliasTable", "Quoted", "Speaker", "is_unnamed", "name_key"]

#: The alias table's file name, in the corpus folder.
ALIAS_FILE = "aliases.toml"
_TITLE = re.compile(
    r"^(?:(?:the|a|an|president|prime|minister|foreign|defen[cs]e|secretary|deputy|kremlin|spokes\w+|"
    r"press|chief|senior|former|u\.s\.|us|state|sen\.?|senator|rep\.?|gov\.?|governor|mr\.?|mrs\.?|ms\.?|dr\.?)\s+)+",
    re.IGNORECASE,
)
_ROLE_WORD = re.compile(r"spokes\w+|minister|secretary|negotiator|envoy|ambassador|aide|adviser|advisor|chief")


def name_key(name: str) -> str:
    """A name folded for comparison: accents and case dropped, leading titles stripped."""
    folded = fold_accents(name).lower().replace("’", "'").strip(" .,;:")
    return _TITLE.sub("", folded).strip() or folded


def _words(key: str) -> list[str]:
    return [w for w in re.split(r"[\s\-]+", key) if w]


@dataclass(frozen=True)
class Quoted:
    """One quote: the speaker's words in an article, with the passage they are in.

    ``speaker`` is the person as the quotes view names them (the article's full name, or the
    alias table's); ``said_as`` is how the sentence names them. ``score`` is the quote's match
    to the ``about`` of :meth:`qa.Assistant.quotes` (None without one).
    """

    speaker: str
    said_as: str
    char_start: int
    char_end: int
    direct: bool
    passage: Passage
    score: float | None = None

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
class Speaker:
    """Someone the corpus quotes: how often, in how many articles, by which outlets, and the names used."""

    name: str
    quotes: int
    articles: int
    outlets: tuple[str, ...]
    variants: tuple[str, ...]


class AliasTable:
    """Other spellings of a person's name, read from ``aliases.toml`` (see the module docstring)."""

    def __init__(self, names: dict[str, Sequence[str]] | None = None) -> None:
        self.canonical: dict[str, str] = {}
        for name, variants in (names or {}).items():
            for variant in (name, *variants):
                self.canonical[name_key(variant)] = name

    @classmethod
    def read(cls, folder: str | Path) -> AliasTable:
        """The table in ``folder`` (empty when there is no file).

        Raises:
            MetadataError: the file is not valid TOML, or an entry is not ``["Name"] variants = [...]``.
        """
        path = Path(folder) / ALIAS_FILE
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise MetadataError(f"{path} is not valid UTF-8 TOML ({exc}); fix that line") from exc
        names = {}
        for name, entry in data.items():
            variants = entry.get("variants") if isinstance(entry, dict) else None
            if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
                raise MetadataError(
                    f'{path}: entry {name!r} must be a table like ["{name}"] with variants = ["other spelling", ...]'
                )
            names[name] = variants
        return cls(names)

    def resolve(self, name: str) -> str | None:
        """The table's name for ``name``, or None when it is not in the table."""
        return self.canonical.get(name_key(name))


_LINKS = frozenset({"of", "and", "for", "the", "on", "&"})


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w.lower() not in _LINKS)


def _spelled_out(acronym: str, text: str) -> str | None:
    """The name an acronym stands for in ``text``: written before it in brackets ("Customs and
    Border Protection (CBP)"), or else the one capitalised run whose initials begin with it
    ("The New York Times" for NYT, "Centers for Disease Control" for CDC)."""
    bracketed = re.search(rf"((?:[A-Z][\w’'\-]*\s+(?:(?:of|and|for|the|on|&)\s+)*)+)\(\s*{acronym}\s*\)", text)
    if bracketed:
        words = bracketed.group(1).split()
        while words and not _initials(words).endswith(acronym):
            words.pop()
        while words and _initials(words) != acronym:
            words.pop(0)  # "Official figures released by Customs ...": keep the acronym's own words
        return " ".join(words) or None
    found = set()
    for run in re.findall(r"[A-Z][\w’'\-]*(?:\s+(?:(?:of|and|for|the|on|&)\s+)*[A-Z][\w’'\-]*)+", text):
        words = run.split()
        for first in range(len(words)):
            for last in range(first + 1, len(words) + 1):
                if (
                    _initials(words[first:last]) == acronym
                    and words[first].lower() not in _LINKS - {"the"}
                    and words[last - 1].lower() not in _LINKS
                ):
                    found.add(" ".join(words[first + (words[first] == "The") : last]))
    found = {f for f in found if not any(f != g and f in g for g in found)}  # the longest spelling
    return found.pop() if len(found) == 1 else None


def resolve_article(speakers: Iterable[str], text: str, aliases: AliasTable) -> dict[str, str]:
    """For the speakers one article quotes, the name each stands for.

    A short form becomes the article's full name that ends with it (or starts with it, for a
    first name) when only one does; a role ("Kremlin spokesman") the person the text names right
    after that role's noun; the alias table then has the last word.
    """
    names = sorted(set(speakers), key=lambda n: -len(n))
    full = [n for n in names if len(_words(name_key(n))) >= 2 and n[:1].isupper()]
    out = {}
    for name in names:
        key = name_key(name)
        words = _words(key)
        chosen = name
        if len(words) == 1 and name[:1].isupper():  # a short form, not a description ("the city")
            longer = [f for f in full if f != name and words[0] in _words(name_key(f))]
            if len({name_key(f) for f in longer}) == 1:
                chosen = longer[0]
            elif not longer and name[:1].isupper():  # "Medinsky" where the text says "Vladimir Medinsky"
                given = {
                    m.group(1)
                    for m in re.finditer(rf"(?<=[\w,;:’'\-] )([A-Z][\w’'\-]+)\s+{re.escape(name)}\b", text)
                    if not _TITLE.match(m.group(1).lower() + " ") and m.group(1).lower() not in STOPWORDS
                }
                if len(given) == 1:
                    chosen = f"{given.pop()} {name}"
        if chosen == name and re.fullmatch(r"[A-Z]{2,6}", name):
            chosen = _spelled_out(name, text) or name  # "CDEMA": the Caribbean Disaster Emergency Management Agency
        role = _ROLE_WORD.search(name.lower())
        if role and chosen == name:
            after = re.search(
                rf"\b(?i:{re.escape(role.group(0)[:6])})\w*\s+((?:[A-Z][\w’'\-]+\s+){{0,2}}[A-Z][\w’'\-]+)", text
            )
            if after:
                person = after.group(1)
                match = [f for f in full if name_key(f) == name_key(person) or name_key(person).endswith(name_key(f))]
                chosen = match[0] if match else person
        out[name] = aliases.resolve(chosen) or aliases.resolve(name) or chosen
    return out


def asked_matches(asked: str, speaker: str, aliases: AliasTable) -> bool:
    """Whether the speaker asked for (a name, a surname, an alias) is ``speaker``."""
    canonical = aliases.resolve(asked)
    if canonical is not None:
        return name_key(canonical) == name_key(speaker)
    want, have = _words(name_key(asked)), _words(name_key(speaker))
    return bool(want) and all(w in have for w in want)


def decode_quotes(raw: str) -> list[tuple[str, int, int, bool]]:
    """A passage's stored quotes: (speaker, start, end, direct)."""
    return [(s, int(a), int(b), bool(d)) for s, a, b, d in json.loads(raw)] if raw else []


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
