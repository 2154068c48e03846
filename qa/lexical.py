"""Lexical matching: one tokenizer for BM25 and name matching, and a bm25s index.

Tokens are lower-cased, accent-folded (Erdoğan = Erdogan), name variants are folded
(Zelenskyy = Zelensky, Türkiye = Turkey), stopwords dropped and words stemmed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text import fold_accents

__all__ = ["TOKENIZER_VERSION", "LexicalIndex", "fold_name", "tokenize", "words"]

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
def _stem(word: str) -> str:
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
    return [_stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


class LexicalIndex:
    """BM25 (Lucene variant, bm25s) over a list of texts; saved as plain .npy and .json files.

    Args:
        k1: term-frequency saturation.
        b: length normalisation.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self.k1, self.b = k1, b
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._size = 0

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Index ``texts``; row ``i`` is ``texts[i]``."""
        index = cls(k1=k1, b=b)
        corpus = [tokenize(t) or ["\u2205"] for t in texts]
        if corpus:
            index._bm25.index(corpus, show_progress=False)
        index._size = len(corpus)
        return index

    def __len__(self) -> int:
        return self._size

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the query ``tokens`` (unknown tokens score nothing)."""
        if not self._size:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in tokens if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 for an unknown one)."""
        df = self.doc_freq(token)
        if not df:
            return 0.0
        return float(np.log(1 + (self._size - df + 0.5) / (df + 0.5)))

    def doc_freq(self, token: str) -> int:
        """Number of rows containing ``token``."""
        col = self._bm25.vocab_dict.get(token)
        if col is None:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[col + 1] - indptr[col])

    def rows_with(self, token: str) -> np.ndarray:
        """Rows that contain ``token``."""
        col = self._bm25.vocab_dict.get(token) if self._size else None
        if col is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self._bm25.scores["indptr"]
        return np.asarray(self._bm25.scores["indices"][indptr[col] : indptr[col + 1]], dtype=np.int64)

    def coverage(self, tokens: Sequence[str]) -> np.ndarray:
        """Per row, the IDF-weighted share of the distinct ``tokens`` it contains (0-1).

        A token the index has never seen weighs as much as the rarest one, so a question
        about something absent from the corpus never reaches full coverage.
        """
        out = np.zeros(self._size, dtype=np.float32)
        weights = self.coverage_weights(tokens)
        if not weights or not self._size:
            return out
        for token, weight in weights.items():
            out[self.rows_with(token)] += weight
        return out / sum(weights.values())

    def coverage_weights(self, tokens: Sequence[str]) -> dict[str, float]:
        """The weight of each distinct token in :meth:`coverage`: its IDF, or the rarest
        possible IDF for a token the index has never seen."""
        rarest = float(np.log(1 + (self._size + 0.5) / 1.5))
        return {token: self.idf(token) or rarest for token in dict.fromkeys(tokens)}

    def save(self, folder: Path) -> None:
        """Write the index as plain files under ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self._size:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "lexical.json").write_text(
            json.dumps({"rows": self._size, "k1": self.k1, "b": self.b, "tokenizer": TOKENIZER_VERSION})
        )

    @classmethod
    def load(cls, folder: Path, *, rows: int) -> LexicalIndex:
        """Read an index saved by :meth:`save`; raises ``ValueError`` when it does not hold ``rows``."""
        import bm25s

        folder = Path(folder)
        info = json.loads((folder / "lexical.json").read_text())
        if info.get("rows") != rows or info.get("tokenizer") != TOKENIZER_VERSION:
            raise ValueError(
                f"{folder} holds {info.get('rows')} rows (tokenizer {info.get('tokenizer')}), expected {rows}"
            )
        index = cls(k1=info["k1"], b=info["b"])
        index._size = rows
        if rows:
            index._bm25 = bm25s.BM25.load(str(folder), show_progress=False, allow_pickle=False)
            if index._bm25.scores["num_docs"] != rows:
                raise ValueError(f"{folder} holds {index._bm25.scores['num_docs']} rows, expected {rows}")
        return index
