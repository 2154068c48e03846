"""The store: where an index keeps articles, passages, sentence facts, BM25 postings and vectors.

* :mod:`~qa.store.store`: the opened index as retrieval reads it (:class:`IndexStore`:
  FAISS over the vector files, BM25 over the postings, SQLite for the rest);
* :mod:`~qa.store.writer`: the transactions that add and remove articles;
* :mod:`~qa.store.postings`: BM25 postings, segmented and merged;
* :mod:`~qa.store.database`: the SQLite schema and connections;
* :mod:`~qa.store.records`: the rows handed out (stored articles, a question's candidates);
* :mod:`~qa.store.milvus`: the Milvus store, where the candidate searches run in a Milvus
  collection and the index folder stays the catalogue (``store="milvus://..."``).

:class:`Store` names the few operations retrieval and the assistant need from an index, so
that another backend (a distributed vector database) can stand behind the same code;
:class:`~qa.store.milvus.MilvusStore` is one. Filling a store from a corpus is
:mod:`qa.indexing`'s work; the store imports :mod:`qa.ingest`'s records and :mod:`embeddings`,
never search, answers or the apps.
"""

from __future__ import annotations

from .base import Store
from .records import Candidates, StoredDocument
from .store import FORMAT_VERSION, IndexStore

__all__ = ["FORMAT_VERSION", "Candidates", "IndexStore", "Store", "StoredDocument"]
