"""Search: from a question to ranked passages, each with its best sentence.

* :mod:`~qa.search.analysis`: what a question asks for, read without a model
  (:class:`QueryAnalysis`: names, the speaker asked about, answer type, time words);
* :mod:`~qa.search.followup`: whether a follow-up leans on the earlier turns, and how it is searched;
* :mod:`~qa.search.retrieval`: candidates from the store (vectors and BM25), scored by the
  sentence-level signals and weights of :class:`RetrievalConfig` (:class:`Retriever`);
* :mod:`~qa.search.copies`: wire copies of one story collapsed into one hit;
* :mod:`~qa.search.rerank`: the optional second stage (:func:`load_reranker`).

It reads :mod:`qa.store` and :mod:`qa.ingest`'s records; it never imports answers or the apps.
"""

from __future__ import annotations

from .analysis import QueryAnalysis, analyse
from .rerank import Reranker, load_reranker
from .retrieval import Filters, RetrievalConfig, Retriever, Scored

__all__ = ["Filters", "QueryAnalysis", "Reranker", "RetrievalConfig", "Retriever", "Scored", "analyse", "load_reranker"]
