"""The encoder (sentence-transformers, offline by default) and the FAISS vector index."""

from __future__ import annotations

import os

# FAISS (OpenMP) and torch (OpenBLAS/MKL) threads otherwise spin against each other: a single
# question took ~25 times longer on 2 cores. Must be set before torch or faiss loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Tokenizers' own thread pool warns (and can deadlock) once the web server forks or threads.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .encoder import (
    DEFAULT_MODEL,
    E5Encoder,
    Encoder,
    ModelLoadError,
    SentenceTransformerEncoder,
    encode_passages,
    encode_queries,
    load_encoder,
)
from .index import FLAT_LIMIT, IndexFileError, VectorFile, VectorIndex, plan

__all__ = [
    "DEFAULT_MODEL",
    "FLAT_LIMIT",
    "E5Encoder",
    "Encoder",
    "IndexFileError",
    "ModelLoadError",
    "SentenceTransformerEncoder",
    "VectorFile",
    "VectorIndex",
    "encode_passages",
    "encode_queries",
    "load_encoder",
    "plan",
]
