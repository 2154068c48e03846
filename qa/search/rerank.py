"""An optional second stage: rescore the best first-stage candidates with a bigger model.

Off by default (it costs a model call per question). Two kinds plug in:

* :class:`CrossEncoderReranker` - any sentence-transformers ``CrossEncoder`` folder, for
  users who have a reranker (none ships offline here);
* :class:`BiEncoderReranker` - a bigger bi-encoder, e.g. all-mpnet-base-v2 (offline from
  its part packages); passage and sentence vectors are cached per passage.

The final score of a candidate is ``first_stage + weight * z(second_stage)``, where ``z``
standardises the second-stage scores over the candidates, so the weight means the same
whatever the model's score scale.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError
from ..ingest.passages import Passage

__all__ = ["BiEncoderReranker", "CrossEncoderReranker", "Reranker", "load_reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Scores passages (and optionally their sentences) for one question; higher is better."""

    name: str

    def score(self, question: str, passages: Sequence[Passage]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Passage scores, and per passage its sentence scores (None when the model scores passages only)."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` (a local folder or name) scoring (question, passage) pairs.

    Args:
        path: the model folder (or a name the machine can load).
        batch_size: pairs per forward pass.
    """

    def __init__(self, path: str | os.PathLike, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(str(path), device="cpu")
        except Exception as exc:  # many error types from transformers
            raise ModelError(f"cannot load cross-encoder {str(path)!r}: {type(exc).__name__}: {exc}") from exc
        self.name = f"cross-encoder:{path}"
        self.batch_size = batch_size

    def score(self, question: str, passages: Sequence[Passage]) -> tuple[np.ndarray, None]:
        pairs = [(question, p.text) for p in passages]
        scores = self._model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(passages), -1)[:, -1], None


class BiEncoderReranker:
    """A bigger bi-encoder (default all-mpnet-base-v2): cosine of question and passage, and of each sentence.

    Passage and sentence vectors are computed once per passage and kept in memory.

    Args:
        model: a sentence-transformers model name or path.
        cache_size: passages whose vectors are kept.
    """

    def __init__(self, model: str | os.PathLike = "all-mpnet-base-v2", *, cache_size: int = 100_000) -> None:
        from embeddings import ModelLoadError, load_encoder

        try:
            self._encoder = load_encoder(model)
        except ModelLoadError as exc:
            raise ModelError(str(exc)) from exc
        self.name = f"bi-encoder:{self._encoder.name}"
        self._cache: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self._cache_size = cache_size

    def _vectors(self, passages: Sequence[Passage]) -> list[tuple[np.ndarray, np.ndarray]]:
        missing = [p for p in passages if (p.doc_id, p.char_start) not in self._cache]
        if missing:
            texts = [p.text for p in missing]
            sentences = [p.sentence_text(i) for p in missing for i in range(len(p.sentences))]
            vectors = self._encoder.encode(texts + sentences)
            at = len(texts)
            for i, p in enumerate(missing):
                n = len(p.sentences)
                self._cache[(p.doc_id, p.char_start)] = (vectors[i], vectors[at : at + n])
                at += n
            while len(self._cache) > self._cache_size:
                self._cache.pop(next(iter(self._cache)))
        return [self._cache[(p.doc_id, p.char_start)] for p in passages]

    def score(self, question: str, passages: Sequence[Passage]) -> tuple[np.ndarray, list[np.ndarray]]:
        query = self._encoder.encode([question])[0]
        found = self._vectors(passages)
        passage_scores = np.array([p @ query for p, _ in found], dtype=np.float32)
        return passage_scores, [s @ query if len(s) else np.zeros(0, np.float32) for _, s in found]


def load_reranker(spec: str | os.PathLike | Reranker | None) -> Reranker | None:
    """A reranker from a spec: None, a :class:`Reranker`, ``"cross-encoder:PATH"``, or a bi-encoder model name/path."""
    if spec is None or isinstance(spec, Reranker):
        return spec
    text = str(spec)
    if text.startswith("cross-encoder:"):
        return CrossEncoderReranker(text.removeprefix("cross-encoder:"))
    return BiEncoderReranker(text)


def standardise(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread over the candidates (all zeros when they are all equal)."""
    values = np.asarray(values, dtype=np.float32)
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
