"""Indexing: keep an index in step with a corpus, ingesting articles in batches, here or on Ray.

* :mod:`~qa.indexing.ingest`: open or make an index folder (manifest, writer lock, backups),
  diff it against the corpus, take articles in (batched, crash-safe commits) or out
  (:func:`open_index`, :func:`add_paths`, :func:`remove_ids`, :class:`IngestReport`);
* :mod:`~qa.indexing.reading`: the text side of one article, shared by both paths
  (:func:`~qa.indexing.reading.read_one`);
* :mod:`~qa.indexing.on_ray`: articles read, cut and encoded by Ray Data workers (``ray=...``);
* :mod:`~qa.indexing.sources`: sources (feeds, sitemaps, URL lists, WARC, exports) recorded in
  the index and kept in step with it (:func:`add_source`, :func:`sync_sources`,
  :func:`list_sources`, :func:`remove_source`).

It drives :mod:`qa.ingest` (article -> records) and :mod:`embeddings` (records -> vectors)
into :mod:`qa.store`; it never imports search, answers or the apps.
"""

from __future__ import annotations

from .ingest import (
    BATCH_PASSAGES,
    MAX_ARTICLE_BYTES,
    IngestReport,
    add_paths,
    attribution_chunking,
    index_model,
    lock,
    open_index,
    remove_ids,
)
from .sources import SourceRecord, SyncReport, add_source, list_sources, remove_source, sync_sources

__all__ = [
    "BATCH_PASSAGES",
    "MAX_ARTICLE_BYTES",
    "IngestReport",
    "SourceRecord",
    "SyncReport",
    "add_paths",
    "add_source",
    "attribution_chunking",
    "index_model",
    "list_sources",
    "lock",
    "open_index",
    "remove_ids",
    "remove_source",
    "sync_sources",
]
