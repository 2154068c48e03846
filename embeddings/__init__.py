"""The encoder (sentence-transformers, offline by default) and the FAISS vector index."""

from __future__ import annotations

from .encoder import DEFAULT_MODEL, Encoder, ModelLoadError, SentenceTransformerEncoder, load_encoder
from .index import IndexFileError, VectorIndex

__all__ = [
    "DEFAULT_MODEL",
    "Encoder",
    "IndexFileError",
    "ModelLoadError",
    "SentenceTransformerEncoder",
    "VectorIndex",
    "load_encoder",
]
