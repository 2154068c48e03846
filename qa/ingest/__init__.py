"""Ingest: an article file becomes records: a clean text, passages, quotes and sentence facts.

The first stage of the pipeline, with no index, model or question in sight:

* :mod:`~qa.ingest.documents`: read a ``.txt``, ``.md`` or ``.html`` file and its
  ``metadata.toml`` entry, drop web-page debris, keep every offset into the original
  (:class:`Document`, :class:`ArticleMeta`; a folder of them is a :class:`CorpusFolder`);
* :mod:`~qa.ingest.passages`: split sentences and cut passages of whole sentences
  (:class:`Passage`, :class:`Quote`, :func:`make_passages`);
* :mod:`~qa.ingest.quotes`: who said what, sentence by sentence (rules of news English);
* :mod:`~qa.ingest.facts`: what retrieval needs of each sentence, worked out once
  (:class:`SentenceFacts`: numbers, dates, lead-ins, name groups, speakers);
* :mod:`~qa.ingest.names`: the corpus's lexicon of names (:class:`NameLexicon`).

It imports only the shared basics (:mod:`qa.errors`, :mod:`qa.text`, :mod:`qa.lexical`,
:mod:`qa.dates`); everything above it builds on its records.
"""

from __future__ import annotations

from .documents import ArticleMeta, CorpusFolder, Document, Source, load_document, load_metadata, scan_corpus
from .facts import SentenceFacts
from .names import NameLexicon
from .passages import Chunking, Passage, Quote, make_passages
from .quotes import ATTRIBUTION_VERSION, attribute_sentences

__all__ = [
    "ATTRIBUTION_VERSION",
    "ArticleMeta",
    "Chunking",
    "CorpusFolder",
    "Document",
    "NameLexicon",
    "Passage",
    "Quote",
    "SentenceFacts",
    "Source",
    "attribute_sentences",
    "load_document",
    "load_metadata",
    "make_passages",
    "scan_corpus",
]
