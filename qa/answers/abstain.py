"""Deciding whether the corpus answers a question at all.

A small logistic model over signals of the best hits: how well the best sentence and
passage match, whether the question's terms and names are there, whether the person
asked about is quoted, and whether the best sentence holds the kind of answer asked for
(a number, a date). Its weights were fitted by ``bench/tune.py`` on
``tests/data/tuning.jsonl`` (L2 strength chosen by cross-validation); they live here as
plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..search.analysis import QueryAnalysis

__all__ = ["FEATURES", "AbstentionModel", "features"]

FEATURES = ("score", "sentence_dense", "coverage", "names", "speaker", "speaker_gap", "typed_gap", "margin")


def features(query: QueryAnalysis, signals: Sequence[dict[str, float]]) -> dict[str, float]:
    """The abstention features of a ranked list of hits' signals (best first; the top 3 count).

    ``speaker_gap`` is how much worse the best sentence spoken by the person asked about
    matches the question than the best sentence at all (for "what did X say"
    questions); ``typed_gap`` is the same for the best sentence holding the kind of
    answer asked for (a number, a date, a name). Both are 0 when not asked.
    """
    if not signals:
        return dict.fromkeys(FEATURES, 0.0)
    top, head = signals[0], signals[:3]
    best = max(s["best_dense"] for s in head)
    second = signals[1]["score"] if len(signals) > 1 else 0.0
    return {
        "score": top["score"],
        "sentence_dense": top["sentence_dense"],
        "coverage": top["coverage"],
        "names": max(s["names"] for s in head),
        "speaker": max(s["speaker"] for s in head),
        "speaker_gap": best - max(s["speaker_dense"] for s in head) if top.get("asks_speaker") else 0.0,
        "typed_gap": best - max(s["typed_dense"] for s in head) if query.wants else 0.0,
        "margin": top["score"] - second,
    }


@dataclass(frozen=True)
class AbstentionModel:
    """``P(answerable) = sigmoid(bias + sum(weight * feature))``; answerable when it reaches ``threshold``."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "score": 0.4336,
            "sentence_dense": -0.1441,
            "coverage": -0.7264,
            "names": 1.622,
            "speaker": 0.901,
            "speaker_gap": -1.3082,
            "typed_gap": -2.6941,
            "margin": -0.3419,
        }
    )
    bias: float = -1.9525
    threshold: float = 0.5948

    def probability(self, values: dict[str, float]) -> float:
        """Probability that the question is answerable."""
        z = self.bias + sum(w * values.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
