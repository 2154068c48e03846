"""BEIR benchmark folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

The corpus is indexed one passage per document (title + text), as in the published
numbers; sentences are still split so sentence-level scoring works.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import QuestionFileError
from ..ingest.documents import ArticleMeta, Block, Document, FileState
from ..ingest.passages import Chunking
from .questions import jsonl_rows

if TYPE_CHECKING:
    from ..assistant import Assistant

__all__ = [
    "WHOLE_DOCUMENTS",
    "BeirCorpus",
    "BeirSet",
    "beir_index",
    "is_beir_folder",
    "open_beir",
    "read_qrels",
    "read_queries",
]

#: Chunking that keeps every document as one passage.
WHOLE_DOCUMENTS = Chunking(min_words=10**9, max_words=10**9)


def beir_index(index: str | Path, folder: str | Path) -> Path:
    """Where a BEIR dataset's index is kept: beside ``index``, as ``<index>.beir-<dataset folder name>``."""
    index = Path(index)
    return index.with_name(f"{index.name}.beir-{Path(folder).resolve().name}")


def is_beir_folder(path: Path) -> bool:
    """Whether ``path`` looks like a BEIR dataset folder."""
    path = Path(path)
    return path.is_dir() and (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file()


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict, str]]:
    if not path.is_file():
        raise QuestionFileError(f"{path} is missing; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/")
    return jsonl_rows(path, required=required)


class BeirCorpus:
    """A BEIR ``corpus.jsonl`` as a :class:`~qa.ingest.documents.Source`: one document per line."""

    def __init__(self, folder: str | Path) -> None:
        self.location = Path(folder).resolve()
        self._docs: dict[str, tuple[str, str, FileState]] | None = None

    def _rows(self) -> dict[str, tuple[str, str, FileState]]:
        if self._docs is None:
            self._docs = {}
            for _, row, line in _read_jsonl(self.location / "corpus.jsonl", ("_id", "text")):
                digest = hashlib.sha256(line.encode()).hexdigest()
                state = FileState(len(line), 0, digest)
                self._docs[str(row["_id"])] = (str(row.get("title") or ""), str(row["text"] or ""), state)
        return self._docs

    def scan(self, previous: Mapping[str, FileState]) -> dict[str, FileState]:
        return {doc_id: state for doc_id, (_, _, state) in self._rows().items()}

    def metadata(self) -> dict[str, ArticleMeta]:
        return {}

    def state(self, doc_id: str, previous: FileState | None = None) -> FileState | None:
        row = self._rows().get(doc_id)
        return row[2] if row else None

    def load(self, doc_id: str) -> Document:
        title, body, _ = self._rows()[doc_id]
        title, body = title.strip(), body.strip() or title.strip() or doc_id
        text = f"{title}\n\n{body}" if title else body
        blocks = [Block(len(text) - len(body), len(text))]
        if title:
            blocks.insert(0, Block(0, len(title), heading=True))
        return Document(doc_id, text, tuple(blocks), ArticleMeta(title=title))


def read_queries(folder: Path) -> dict[str, str]:
    """Query id -> text from ``queries.jsonl``."""
    return {
        str(row["_id"]): str(row["text"]) for _, row, _ in _read_jsonl(Path(folder) / "queries.jsonl", ("_id", "text"))
    }


def read_qrels(folder: Path, split: str = "test") -> dict[str, dict[str, int]]:
    """Query id -> {doc id: relevance} from ``qrels/<split>.tsv`` (a header line is allowed)."""
    path = Path(folder) / "qrels" / f"{split}.tsv"
    if not path.is_file():
        raise QuestionFileError(f"{path} is missing; a BEIR folder holds qrels/{split}.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip() or (number == 1 and parts[0] == "query-id"):
                continue
            if len(parts) != 3:
                raise QuestionFileError(f"{path}:{number}: expected query-id, corpus-id and score separated by tabs")
            try:
                score = int(parts[2])
            except ValueError as exc:
                raise QuestionFileError(f"{path}:{number}: score {parts[2]!r} is not an integer") from exc
            qrels.setdefault(parts[0], {})[parts[1]] = score
    return qrels


@dataclass(frozen=True)
class BeirSet:
    """A BEIR dataset opened for evaluation: its assistant, judged queries and judgements."""

    assistant: Assistant
    qrels: dict[str, dict[str, int]]
    queries: dict[str, str]
    ids: list[str]  # the judged query ids, shortest first, then by text


def open_beir(folder: str | Path, *, index: str | Path, split: str = "test", **load) -> BeirSet:
    """Read a BEIR folder's ``split`` judgements and queries, and open (or build) its index, one
    passage per document; ``load`` goes to :meth:`~qa.assistant.Assistant.load` (``encoder``,
    ``model``, ``progress``, ``rerank``, ``weights``, ``sentence_vectors``, ``store``,
    ``attribution_model``).

    Raises:
        QuestionFileError: a file is missing or malformed, or the judgements name unknown queries.
    """
    from ..assistant import Assistant

    folder = Path(folder)
    qrels, queries = read_qrels(folder, split), read_queries(folder)
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise QuestionFileError(f"{folder}/qrels/{split}.tsv names queries missing from queries.jsonl: {unknown[:5]}")
    assistant = Assistant.load(corpus=BeirCorpus(folder), index=index, chunking=WHOLE_DOCUMENTS, **load)
    return BeirSet(assistant, qrels, queries, sorted(qrels, key=lambda q: (len(q), q)))
