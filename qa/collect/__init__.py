"""Collecting articles from sources other than a corpus folder: feeds, sitemaps, URL lists, WARC
files and exports (:mod:`~qa.collect.sources`), fetched politely and safely
(:mod:`~qa.collect.fetch`), one article per canonical URL (:mod:`~qa.collect.urls`).

**In:** a source's URL or file. **Out:** :class:`~qa.collect.sources.Item`\\ s, and the
:class:`~qa.ingest.documents.Document` of each. No index is in sight here.
"""

from .fetch import USER_AGENT, Fetcher, Page
from .sources import KINDS, Item, Listing, guess_kind, list_items, read_item, source_name
from .urls import canonical_url, host_of, is_url

__all__ = [
    "KINDS",
    "USER_AGENT",
    "Fetcher",
    "Item",
    "Listing",
    "Page",
    "canonical_url",
    "guess_kind",
    "host_of",
    "is_url",
    "list_items",
    "read_item",
    "source_name",
]
