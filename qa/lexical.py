"""Lexical matching: one tokenizer for BM25 (see ``qa/store/postings.py``) and name matching.

Tokens are lower-cased, accent-folded (Erdoğan = Erdogan), name variants are folded
(Zelenskyy = Zelensky, Türkiye = Turkey), stopwords dropped and words stemmed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import fold_accents

__all__ = ["STOPWORDS", "TOKENIZER_VERSION", "fold_name", "stem", "tokenize", "words"]

TOKENIZER_VERSION = 1
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")

#: Spelling variants of the same name, folded to one form before stemming.
ALIASES = {
    "turkiye": "turkey",
    "kiev": "kyiv",
    "kharkov": "kharkiv",
    "odessa": "odesa",
    "lvov": "lviv",
    "nikolaev": "mykolaiv",
    "witkoff": "vitkov",
    "zelenskiy": "zelensky",
    "zelenskyi": "zelensky",
    "zelenski": "zelensky",
    "usa": "us",
}

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "let's",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "with",
        "won't",
        "would",
        "wouldn't",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
    ]
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def fold_name(word: str) -> str:
    """One spelling for the variants of a name word: ``zelenskyy`` -> ``zelensky``, ``turkiye`` -> ``turkey``."""
    return _variant(word)


def _variant(word: str) -> str:
    word = ALIASES.get(word, word)
    if len(word) > 4 and (word.endswith("yy") or word.endswith("iy")):
        word = word[:-2] + "y"
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The BM25 stem of one folded word (its name variant first: ``zelenskyy`` -> ``zelenski``)."""
    return _stemmer().stemWord(_variant(word))


def words(text: str) -> list[str]:
    """Lower-cased, accent-folded words of ``text``, apostrophes normalised, possessives dropped."""
    out = []
    for match in _WORD.finditer(fold_accents(text).lower()):
        word = match.group(0).replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        out.append(word)
    return out


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text``: folded, variant-normalised, stopwords removed, stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
