"""The index: where articles, passages, sentence facts, BM25 postings and vectors are kept.

Laid out as the pipeline runs:

* :mod:`~qa.store.ingest`: open or make an index, diff it against the corpus, and take
  articles in (text side, encoding, batched commits), or out;
* :mod:`~qa.store.writer`: the transactions that add and remove articles;
* :mod:`~qa.store.store`: the opened index as retrieval reads it (:class:`IndexStore`);
* :mod:`~qa.store.postings`: BM25 postings, segmented and merged;
* :mod:`~qa.store.database`: the SQLite schema and connections;
* :mod:`~qa.store.records`: the rows handed out (stored articles, a question's candidates);
* :mod:`~qa.store.milvus`: the Milvus store, where the candidate searches run in a Milvus
  collection and the index folder stays the catalogue (``store="milvus://..."``);
* :mod:`~qa.store.on_ray`: ingest read, cut and encoded on Ray Data (``ray=...``).

:class:`Store` names the few operations retrieval and the assistant need from an index, so
that another backend (a distributed vector database) can stand behind the same code;
:class:`~qa.store.milvus.MilvusStore` is one.
"""

from __future__ import annotations

from .base import Store
from .ingest import BATCH_PASSAGES, MAX_ARTICLE_BYTES, IngestReport, add_paths, index_model, open_index, remove_ids
from .records import Candidates, StoredDocument
from .store import FORMAT_VERSION, IndexStore

__all__ = [
    "BATCH_PASSAGES",
    "FORMAT_VERSION",
    "MAX_ARTICLE_BYTES",
    "Candidates",
    "IndexStore",
    "IngestReport",
    "Store",
    "StoredDocument",
    "add_paths",
    "index_model",
    "open_index",
    "remove_ids",
]
