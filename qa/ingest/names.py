"""Names in article text: the corpus lexicon of capitalised words, and a sentence's name groups.

* :class:`NameLexicon` holds the words the texts write capitalised mid-sentence and never in
  lower case (Lavrov, NATO, Istanbul). An index keeps its counts per article; question analysis
  matches a question's words against it, so lower-case questions ("what did rubio say") still
  name people.
* :func:`name_groups` cuts a sentence into its capitalised runs (a person, place or body each),
  stored per sentence as a fact at ingest.
* :data:`NAME_EXCLUDED`: capitalised words that are not names (titles, calendar words).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from ..lexical import STOPWORDS, words

__all__ = ["NAME_EXCLUDED", "NameLexicon", "name_groups"]

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
