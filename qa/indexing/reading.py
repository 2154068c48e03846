"""The text side of ingest: one article read, cleaned, cut, attributed and prepared for a commit.

Shared by the ingest here (:mod:`~qa.indexing.ingest`) and on Ray's workers
(:mod:`~qa.indexing.on_ray`): :func:`read_one` turns a :class:`Work` item into an
:class:`Outcome`: the article prepared by :func:`prepare` (passages, sentence facts, BM25 tokens, name
counts, speakers), or the reason it is left out (too large, unreadable, gone, or a duplicate of
an indexed article's text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from ..errors import ArticleGoneError, CorpusError
from ..ingest.attribution import vote_passages
from ..ingest.documents import ArticleMeta, Document, FileState, document_from_text
from ..ingest.facts import SentenceFacts, name_words
from ..ingest.names import NameLexicon
from ..ingest.passages import Chunking, Passage, make_passages
from ..ingest.quotes.tagger import shared_tagger
from ..lexical import STOPWORDS, tokenize
from ..store.records import KeptText
from ..store.store import IndexStore
from ..store.writer import Prepared, Skip

__all__ = ["Outcome", "Work", "content_hash", "deduplicate", "kept_loader", "prepare", "read_one", "relative_spans"]


@dataclass(frozen=True)
class Work:
    """An article to (re-)ingest."""

    doc_id: str
    origin: str
    state: FileState
    given: ArticleMeta
    load: Callable[[], Document]
    replaces: bool  # an older version is indexed
    reuse: bool = False  # the file is unchanged: vectors of identical passages may be reused
    #: For an article from a source: where its text came from (the text itself is the document's)
    kept: KeptText | None = None
    #: (source id, entry key, article id, stamp) rows recorded in the commit that takes this article in or out
    links: tuple[tuple[int, str, str, str], ...] = ()


def prepare(document: Document, work: Work, chunking: Chunking) -> Prepared:
    """The text side of one article: passages (labelled), sentence facts, tokens, names, speakers."""
    meta = work.given.filled_from(document.meta)
    labels = asdict(meta)
    passages = [replace(p, **labels) for p in make_passages(document, chunking)]
    if chunking.tagger:  # a trained model votes with the rules
        passages = vote_passages(document.text, passages, shared_tagger(chunking.tagger, chunking.tagger_id))
    lexicon = NameLexicon(p.text for p in passages)
    return Prepared(
        doc_id=work.doc_id,
        origin=work.origin,
        state=work.state,
        given=work.given,
        derived=document.meta,
        meta=meta,
        content=content_hash(document),
        warnings=tuple(document.warnings),
        passages=passages,
        facts=SentenceFacts.of_article(passages),
        tokens=[[tokenize(p.sentence_text(i)) for i in range(len(p.sentences))] for p in passages],
        capital=lexicon.capital,
        lower=lexicon.lower,
        speakers=frozenset(w for p in passages for q in p.quotes for w in name_words(q.speaker) if w not in STOPWORDS),
        kept=replace(work.kept, text=document.text) if work.kept is not None else None,
    )


def content_hash(document: Document) -> str:
    """A hash of an article's content (its clean blocks, whitespace folded): two files with the same
    article text have the same one, whatever their debris or line breaks."""
    text = " ".join(document.text[b.start : b.end] for b in document.blocks)
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What the text side made of one article: prepared, or left out (and why)."""

    item: Work
    prepared: Prepared | None = None
    skip: Skip | None = None
    reason: str | None = None


def read_one(
    item: Work, chunking: Chunking, max_bytes: int, *, known: tuple[IndexStore, dict] | None = None
) -> Outcome:
    """Read and prepare one article, or say why it is left out. With ``known`` (the index and the
    hashes of this run's articles) a duplicate is found before it is prepared; without it (on a
    worker, with no index at hand) :func:`deduplicate` finds it later."""
    try:
        _check_size(item, max_bytes)
        document = item.load()
        if known is not None:
            duplicate = _duplicate(item, content_hash(document), *known)
            if duplicate is not None:
                return duplicate
        return Outcome(item, prepared=prepare(document, item, chunking))
    except ArticleGoneError as exc:
        return Outcome(item, reason=str(exc))
    except CorpusError as exc:
        return Outcome(item, skip=Skip(item.doc_id, item.origin, item.state, str(exc)), reason=str(exc))


def relative_spans(passage: Passage) -> list[tuple[int, int]]:
    """The passage's sentence spans, counted from its own start (as :func:`encode_passages` takes them)."""
    return [(a - passage.char_start, b - passage.char_start) for a, b in passage.sentences]


def deduplicate(outcome: Outcome, store: IndexStore, contents: dict) -> Outcome:
    """``outcome``, or the skip of a duplicate when its text is already indexed or read in this run."""
    if outcome.prepared is None:
        return outcome
    return _duplicate(outcome.item, outcome.prepared.content, store, contents) or outcome


def _check_size(item: Work, max_bytes: int) -> None:
    if item.state.size > max_bytes:
        raise CorpusError(
            f"{item.doc_id} is {item.state.size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB an "
            "article may have; split it into articles, or pass a larger max_article_bytes"
        )


def _duplicate(item: Work, content: str, store: IndexStore, contents: dict) -> Outcome | None:
    kept = contents.get(content) or _indexed_with(store, content, item.doc_id)
    if kept is not None:
        reason = f"it has the same text as {kept}, which is indexed; only {kept} is kept"
        return Outcome(item, skip=Skip(item.doc_id, item.origin, item.state, reason, kept), reason=reason)
    contents[content] = item.doc_id
    return None


def _indexed_with(store: IndexStore, content: str, doc_id: str) -> str | None:
    row = store.db.execute(
        "SELECT doc_id FROM documents WHERE content = ? AND doc_id != ? ORDER BY doc_id LIMIT 1", (content, doc_id)
    ).fetchone()
    return row[0] if row else None


def kept_loader(store: IndexStore, doc_id: str) -> Callable[[], Document]:
    """Reads an article from a source again from the text the index keeps (to re-cut it when the
    text rules change: no page is fetched)."""

    def load() -> Document:
        stored, kept = store.document(doc_id), store.kept_text(doc_id)
        if stored is None or kept is None:
            raise ArticleGoneError(f"{doc_id}: the index keeps no text for it; qa sync fetches it again")
        return document_from_text(kept.text, doc_id=doc_id, meta=stored.derived)

    return load
