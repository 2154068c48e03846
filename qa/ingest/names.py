"""Names in article text: the corpus lexicon of capitalised words, and a sentence's name groups.

* :class:`NameLexicon` holds the words the texts write capitalised mid-sentence and never in
  lower case (Lavrov, NATO, Istanbul). An index keeps its counts per article; question analysis
  matches a question's words against it, so lower-case questions ("what did rubio say") still
  name people.
* :func:`name_groups` cuts a sentence into its capitalised runs (a person, place or body each),
  stored per sentence as a fact at ingest.
* :data:`NAME_EXCLUDED`: capitalised words that are not names (titles, calendar words).
* :func:`resolve_article` names each speaker an article quotes as fully as the article does:
  a short form (Peskov) is the full name the article gives (Dmitry Peskov), a role ("the Kremlin
  spokesman") the person the article names with that role, an acronym the name it spells out;
  :class:`AliasTable` (``aliases.toml`` beside ``metadata.toml``, which users edit) joins other
  spellings across articles. Names that differ only in case, accents or a leading title are one
  (:func:`name_key`).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import MetadataError
from ..lexical import STOPWORDS, words
from ..text import fold_accents

__all__ = [
    "ALIAS_FILE",
    "NAME_EXCLUDED",
    "AliasTable",
    "NameLexicon",
    "key_words",
    "name_groups",
    "name_key",
    "resolve_article",
]

_TITLE_WORDS = {
    "president",
    "minister",
    "secretary",
    "general",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "foreign",
    "defense",
    "defence",
    "chief",
    "head",
    "deputy",
    "senator",
    "chancellor",
    "director",
    "official",
    "officials",
    "diplomat",
    "analyst",
    "correspondent",
    "envoy",
    "leader",
    "negotiator",
    "state",
    "prime",
}
_CALENDAR = frozenset(
    """january february march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday""".split()
)
#: Capitalised words that are not names: titles ("President") and calendar words ("May", "Monday").
NAME_EXCLUDED = frozenset(_TITLE_WORDS | _CALENDAR)


_GROUP = re.compile(r"(?<![\w’'])[A-Z][\w’'.\-]*(?:\s+(?:of\s+|de\s+|al-)?[A-Z][\w’'.\-]*)*")


def name_groups(sentence: str) -> list[frozenset[str]]:
    """The capitalised runs of a sentence (a person, place or body each), as sets of folded words.

    A run at the very start of the sentence counts only when it is two words or more
    (a lone capitalised first word is just the start of the sentence).
    """
    groups = []
    for match in _GROUP.finditer(sentence):
        found = frozenset(w for w in words(match.group(0)) if w not in STOPWORDS and w not in _TITLE_WORDS)
        if not found or (match.start() == len(sentence) - len(sentence.lstrip(" “\"‘'")) and len(found) < 2):
            continue
        groups.append(found)
    return groups


@lru_cache(maxsize=200_000)
def _first_word(token: str) -> str:
    """The first folded word of a token (tokens repeat a lot across a corpus)."""
    found = words(token)
    return found[0] if found else ""


class NameLexicon:
    """Words the texts write capitalised mid-sentence and never in lower case: names.

    ``capital`` counts how often each word is capitalised mid-sentence, ``lower`` how often it
    is in lower case; an index adds up these counts per article (its ``names`` table) and
    answers the same membership question from them. ``words`` are lower-cased and accent-folded.
    """

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.capital: Counter[str] = Counter()
        self.lower: Counter[str] = Counter()
        for text in texts:
            for sentence in re.split(r"(?<=[.!?:“”\"])\s+|\n+", text):
                tokens = re.findall(r"[^\W\d_][\w’'\-.]*", sentence)
                if len(tokens) > 2 and sum(t[0].isupper() for t in tokens) * 3 > len(tokens) * 2:
                    continue  # a title-case heading capitalises every word
                for i, token in enumerate(tokens):
                    token = token.rstrip(".")
                    folded = _first_word(token)
                    if not folded:
                        continue
                    if token[0].isupper():
                        if i > 0:
                            self.capital[folded] += 1
                    else:
                        self.lower[folded] += 1
        self.words = frozenset(
            w
            for w in self.capital
            if not self.lower[w] and w not in STOPWORDS and w not in _TITLE_WORDS and w not in _CALENDAR and len(w) > 1
        )

    def __contains__(self, word: str) -> bool:
        return word in self.words


# --------------------------------------------------------------------------- speakers named in full

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


def key_words(key: str) -> list[str]:
    """The words of a :func:`name_key`."""
    return [w for w in re.split(r"[\s\-]+", key) if w]


class AliasTable:
    """Other spellings of a person's name, read from ``aliases.toml`` (see the module docstring)."""

    def __init__(self, names: dict[str, Sequence[str]] | None = None) -> None:
        #: Each name and its variants, as given (what the index keeps for its replicas).
        self.names: dict[str, list[str]] = {name: list(variants) for name, variants in (names or {}).items()}
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


#: A capitalised word right before the end of a window, itself after a word character (or
#: ``,;:’'-``) and one space: "… said Vladimir " → "Vladimir".
_WORD_BEFORE = re.compile(r"(?<=[\w,;:’'\-] )([A-Z][\w’'\-]+)\s+$")
_WORD_CHAR = re.compile(r"\w")


def _words_before(name: str, text: str) -> list[str]:
    """The capitalised words written right before ``name`` in ``text`` ("Vladimir" in "… said
    Vladimir Medinsky"): each place ``name`` stands is found first, then the word before it is
    read, which is far quicker than a search for the pair from every position of the text."""
    found, at, taken = [], 0, 0  # ``taken``: where the last pair found ends (pairs never overlap)
    ends_in_word = bool(name) and bool(_WORD_CHAR.match(name[-1]))
    while name and (at := text.find(name, at + 1)) > 0:
        end = at + len(name)
        boundary = ends_in_word != bool(end < len(text) and _WORD_CHAR.match(text, end))  # as regex \b
        if not text[at - 1].isspace() or not boundary:
            continue
        before = _WORD_BEFORE.search(text, max(taken, at - 120), at)
        if before:
            found.append(before.group(1))
            taken = end
    return found


def resolve_article(speakers: Iterable[str], text: str, aliases: AliasTable) -> dict[str, str]:
    """For the speakers one article quotes, the name each stands for.

    A short form becomes the article's full name that ends with it (or starts with it, for a
    first name) when only one does; a role ("Kremlin spokesman") the person the text names right
    after that role's noun; the alias table then has the last word.
    """
    names = sorted(set(speakers), key=lambda n: -len(n))
    full = [n for n in names if len(key_words(name_key(n))) >= 2 and n[:1].isupper()]
    out = {}
    for name in names:
        key = name_key(name)
        words = key_words(key)
        chosen = name
        if len(words) == 1 and name[:1].isupper():  # a short form, not a description ("the city")
            longer = [f for f in full if f != name and words[0] in key_words(name_key(f))]
            if len({name_key(f) for f in longer}) == 1:
                chosen = longer[0]
            elif not longer and name[:1].isupper():  # "Medinsky" where the text says "Vladimir Medinsky"
                given = {
                    word
                    for word in _words_before(name, text)
                    if not _TITLE.match(word.lower() + " ") and word.lower() not in STOPWORDS
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
