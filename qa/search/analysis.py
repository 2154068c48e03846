"""What a question asks for, read without any model: names, the speaker asked about, answer type.

* **Names.** The corpus lexicon (:class:`~qa.ingest.names.NameLexicon`) holds the words
  written capitalised mid-sentence and never in lower case (Lavrov, NATO, Istanbul); a
  question's words are matched against it, so lower-case questions ("what did rubio say")
  still name people.
* **Speaker.** "what did X say / think / tell", "how does X see", "according to X",
  "X's view": X is the speaker whose words answer, matched against the quotes attributed
  at index time.
* **Answer type.** "how many" wants a number, "when" a date, "where" a place, "who" or
  "which outlet/official/bodies" a name the question does not already hold; a sentence
  without one is unlikely to be the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..dates import TimeWindow, resolve_time
from ..ingest.names import NAME_EXCLUDED, NameLexicon
from ..lexical import STOPWORDS, tokenize, words

__all__ = ["METONYMS", "QueryAnalysis", "analyse"]

_SPEECH = frozenset(
    """say said says tell told tells think thinks thought claim claimed claims argue argued argues believe believes
    believed warn warned warns mean meant predict predicted admit admitted deny denied confirm confirmed confirms
    announce announced reveal revealed insist insisted insists describe described describes characterize
    characterise characterized characterised react reacted respond responded reply replied stress stressed
    emphasize emphasise emphasized emphasised note noted notes add added report reported conclude concluded
    mention mentioned discuss discussed comment commented remark remarked state stated""".split()
)
#: Words that frame a question ("what did X *say*", "*according* to X") rather than name its topic.
_FRAME_WORDS = ("say", "said", "says", "tell", "told", "tells", "think", "thinks", "thought", "according")
_AUX = frozenset("did does do has have had will would was is were are can could should".split())
_CLAUSE = frozenset("when where if that which who whom while after before because as".split())
_PRONOUNS = {"he", "she", "they", "him", "her", "them"}
_DETERMINERS = {"the", "a", "an", "this", "that", "his", "her", "their", "its", "our", "my", "your"}
#: Capitals and seats of government stand for their country in news English.
METONYMS = {
    "moscow": "russia",
    "kremlin": "russia",
    "kyiv": "ukraine",
    "kiev": "ukraine",
    "washington": "us",
    "ankara": "turkey",
    "beijing": "china",
    "brussels": "eu",
    "london": "uk",
    "paris": "france",
    "berlin": "germany",
    "tehran": "iran",
    "minsk": "belarus",
}
_NOT_SPEAKER = {
    "it",
    "this",
    "that",
    "there",
    "you",
    "we",
    "i",
    "anyone",
    "people",
    "anything",
    "analysis",
    "report",
    "article",
    "piece",
    "story",
    "text",
    "paper",
    "column",
    "interview",
    "reporting",
    "outlet",
    "opinion",
}
_FRAMES = [
    re.compile(r"\baccording to\s+(?P<x>[^,?.!]+)", re.I),
    re.compile(
        r"\b(?P<x>[\w.\-’']+(?:\s+[\w.\-’']+){0,3}?)['’]s?\s+(?:view|views|position|stance|take|reaction|response|"
        r"assessment|comments?|remarks?|statement|words|message|opinion|argument|warning|claims?)\b",
        re.I,
    ),
    re.compile(r"\bin\s+(?P<x>[\w.\-’' ]+?)['’]s?\s+(?:view|opinion|words|reading|eyes|telling)\b", re.I),
]
_HEAD = r"^\s*(?:(?:and|so|but|then|also|ok|okay)\s+)?(?:(?:in|on|at|by|for|since|until)\s+)?"
_WANTS = [
    (
        "number",
        re.compile(
            _HEAD + r"(?:how\s+(?:many|much|long|large|big|often)\b|what\s+(?:number|percentage|share|"
            r"amount|proportion)\b)",
            re.I,
        ),
    ),
    ("date", re.compile(_HEAD + r"(?:when\b|(?:what|which)\s+(?:dates?|days?|years?|months?|time|week)\b)", re.I)),
    (
        "place",
        re.compile(_HEAD + r"(?:where\b|(?:what|which)\s+(?:city|country|place|venue|palace|location|town)\b)", re.I),
    ),
    (
        "name",
        re.compile(
            _HEAD + r"(?:who|whom|which)\b|" + _HEAD + r"what\s+(?:journalist|official|analyst|minister|person|leader|"
            r"diplomat|outlet|agency|agencies|newspaper|countr(?:y|ies)|organi[sz]ations?|bod(?:y|ies)|groups?|people|"
            r"officials|general|spokesperson|politician|media|city|cities)\b",
            re.I,
        ),
    ),
]


@dataclass(frozen=True)
class QueryAnalysis:
    """A question taken apart: its BM25 tokens, names, asked-for speaker and answer type.

    ``focus`` is what the answer counts or names: the stem of "bodies" in "how many bodies
    ...", ``"@duration"`` for "how long", ``"@amount"`` for "how much", "palace" in "which
    palace ...".
    """

    text: str
    tokens: tuple[str, ...]
    names: frozenset[str]
    speaker: frozenset[str]
    speaker_pronoun: bool
    wants: str | None
    focus: str | None = None
    when: TimeWindow | None = None
    as_of: date | None = None

    @property
    def who_said(self) -> bool:
        """Whether the question asks what someone said or thinks."""
        return bool(self.speaker) or self.speaker_pronoun


_FRAME_STEMS = frozenset(t for w in _FRAME_WORDS for t in tokenize(w))


def _speaker(question: str) -> tuple[set[str], bool]:
    """The words naming the speaker a question asks about, and whether it is a pronoun."""
    tokens = [w for w in words(question)]
    for v, token in enumerate(tokens):
        if token not in _SPEECH or v == 0:
            continue
        if tokens[v - 1] in _DETERMINERS:
            continue  # "the report": a noun, not a verb
        a = next((i for i in range(v - 1, -1, -1) if tokens[i] in _AUX), None)
        if a is None or a == v - 1:
            continue
        x = tokens[a + 1 : v]
        cut = max((i for i, t in enumerate(x) if t in _CLAUSE), default=-1)
        x = [t for t in x[cut + 1 :] if t not in {"the", "a", "an"}]
        if not x or len(x) > 6 or x[0] in _NOT_SPEAKER:
            continue
        if x[0] in _PRONOUNS:
            return set(), True
        return {t for t in x if t not in STOPWORDS}, False
    for frame in _FRAMES:
        match = frame.search(question)
        if match:
            x = [t for t in words(match.group("x")) if t not in {"the", "a", "an"}]
            if x and x[0] not in _NOT_SPEAKER and len(x) <= 6 and not any(t in _NOT_SPEAKER for t in x):
                if x[0] in _PRONOUNS:
                    return set(), True
                return {t for t in x if t not in STOPWORDS}, False
    return set(), False


_VERBISH = (
    r"is|are|was|were|did|does|do|has|have|had|will|would|can|could|should|may|might|must|remain|remained|went|got|"
    r"came|hit|took|died|attended|joined|exist|existed"
)
_HOW = re.compile(rf"\bhow\s+(?P<how>many|much|long)\s+(?P<x>(?:[\w\-]+\s+){{0,4}}?)(?:{_VERBISH})\b", re.I)
_WHICH = re.compile(
    rf"\b(?:which|what)\s+(?P<x>(?:[a-z][\w\-]*\s+){{0,2}}?[a-z][\w\-]*?)\s+(?:{_VERBISH}|said|says|\w+ed)\b", re.I
)
#: Plural and short forms that name the same thing as the word a sentence uses.
FOCUS_SYNONYMS = {"pow": "prison", "pows": "prison", "captiv": "prison", "kid": "child", "troop": "soldier"}


def _focus(question: str, wants: str | None) -> str | None:
    if wants == "number":
        match = _HOW.search(question)
        if match is None:
            return None
        phrase = words(match.group("x"))
        if "of" in phrase[1:]:  # "bodies of fallen soldiers" counts bodies
            phrase = phrase[: phrase.index("of", 1)]
        head = [w for w in phrase if w not in STOPWORDS]
        if match.group("how").lower() == "long" and not head:
            return "@duration"
        if head:
            stem = tokenize(head[-1])
            return FOCUS_SYNONYMS.get(head[-1], FOCUS_SYNONYMS.get(stem[0], stem[0])) if stem else None
        return "@amount" if match.group("how").lower() == "much" else None
    if wants in ("name", "place"):
        match = _WHICH.search(question)
        if match:
            head = [w for w in words(match.group("x")) if w not in STOPWORDS]
            return head[-1] if head else None
    return None


def analyse(
    question: str, lexicon: NameLexicon | None = None, *, context: str = "", as_of: date | None = None
) -> QueryAnalysis:
    """Analyse ``question`` against the corpus's name ``lexicon``.

    ``context`` is conversation text searched along with the question (earlier turns of
    a follow-up): its words join the search terms, but speaker, answer type and names
    are read from the question alone. ``as_of`` is the day it is asked: its time words
    ("this week", "in May") are resolved against it into ``when`` and are not search terms.
    """
    qwords = words(question)
    capitalised = {w for tok in re.findall(r"(?<!^)(?<![?.!]\s)\b[A-Z][\w’'\-]+", question.strip()) for w in words(tok)}
    names = frozenset(
        w
        for w in qwords
        if ((lexicon is not None and w in lexicon) or w in capitalised)
        and w not in STOPWORDS
        and w not in NAME_EXCLUDED
    )
    speaker, pronoun = _speaker(question)
    wants = next((kind for kind, pattern in _WANTS if pattern.search(question)), None)
    focus = _focus(question, wants)
    when = resolve_time(question, as_of) if as_of is not None else None
    searched = question.replace(when.phrase, " ") if when is not None else question
    return QueryAnalysis(
        text=question,
        tokens=tuple(t for t in tokenize(f"{searched} {context}" if context else searched) if t not in _FRAME_STEMS),
        names=names,
        speaker=frozenset(speaker),
        speaker_pronoun=pronoun,
        wants=wants,
        focus=focus,
        when=when,
        as_of=as_of,
    )
