"""The index folder: build, refresh, check and load it.

An index is a folder of plain files::

    manifest.json     format version, model, dimension, counts, corpus fingerprint,
                      chunking, and the size and SHA-256 of every other file
    documents.jsonl   one article per line: id, metadata, file hash, its passage rows
    passages.jsonl    line i = passage row i = row i of passages.faiss
    passages.faiss    passage vectors (FAISS, inner product on normalised vectors)
    sentences.faiss   sentence vectors, in passage order (passage i's sentences follow
                      passage i-1's)
    bm25/             BM25 over passages (bm25s, .npy and .json)
    bm25-sentences/   BM25 over sentences
    sentence-facts.jsonl  line i = what retrieval knows of sentence row i (numbers, dates,
                      names, speaker; see qa/facts.py)
    names.json        how often each word is capitalised mid-sentence and in lower case
                      (the corpus's name lexicon)

Writes are atomic: a new version is written to a hidden sibling folder and swapped in
with two renames, so a build killed half-way leaves the previous index loadable. A
folder is only ever replaced if it is empty or holds nothing but these files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from embeddings import Encoder, IndexFileError, VectorIndex

from .analysis import NameLexicon
from .documents import ArticleMeta, CorpusFolder, FileState, Source
from .errors import CorpusError, IndexCorruptError, IndexLocationError, warn
from .facts import FACTS_VERSION, SentenceFacts
from .lexical import TOKENIZER_VERSION, LexicalIndex
from .passages import Chunking, Passage, Quote, make_passages

__all__ = ["FORMAT_VERSION", "IndexStore", "StoredDocument", "open_index"]

FORMAT_VERSION = 1
_FORMAT = "qa-index"
_KNOWN = {
    "manifest.json",
    "documents.jsonl",
    "passages.jsonl",
    "passages.faiss",
    "sentences.faiss",
    "bm25",
    "bm25-sentences",
    "sentence-facts.jsonl",
    "names.json",
}
_PROGRESS_MIN = 300


@dataclass(frozen=True)
class StoredDocument:
    """An indexed article: where it came from, its metadata and its passage rows."""

    doc_id: str
    meta: ArticleMeta
    derived: ArticleMeta
    state: FileState
    first: int
    count: int
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            **asdict(self.meta),
            "derived": asdict(self.derived),
            "size": self.state.size,
            "mtime_ns": self.state.mtime_ns,
            "sha256": self.state.sha256,
            "first_passage": self.first,
            "passages": self.count,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, row: dict) -> StoredDocument:
        return cls(
            doc_id=row["doc_id"],
            meta=ArticleMeta(**{k: row[k] for k in asdict(ArticleMeta())}),
            derived=ArticleMeta(**row["derived"]),
            state=FileState(row["size"], row["mtime_ns"], row["sha256"]),
            first=row["first_passage"],
            count=row["passages"],
            warnings=tuple(row.get("warnings", ())),
        )


@dataclass
class IndexStore:
    """An index in memory: passages, their vectors and sentence vectors, BM25, sentence facts,
    name lexicon, manifest (``facts`` and ``names`` are None only while an index made by other
    rules is being refreshed)."""

    folder: Path
    manifest: dict
    documents: dict[str, StoredDocument]
    passages: list[Passage]
    passage_vectors: VectorIndex
    sentence_vectors: VectorIndex
    lexical: LexicalIndex
    sentence_lexical: LexicalIndex
    facts: SentenceFacts | None = None
    names: NameLexicon | None = None
    sentence_owner: np.ndarray = field(init=False)
    sentence_first: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        counts = np.array([len(p.sentences) for p in self.passages], dtype=np.int64)
        self.sentence_first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.sentence_owner = np.repeat(np.arange(len(self.passages), dtype=np.int64), counts)

    def sentence_rows(self, passage: Passage, span: tuple[int, int]) -> frozenset[int]:
        """Rows (in sentence-index order) of the sentences of ``passage`` that lie within ``span``
        (source offsets); empty when the passage is not in this index."""
        doc = self.documents.get(passage.doc_id)
        if doc is None:
            return frozenset()
        for row in range(doc.first, doc.first + doc.count):
            if self.passages[row].char_start == passage.char_start:
                first = int(self.sentence_first[row])
                return frozenset(
                    first + i for i, (s, e) in enumerate(self.passages[row].sentences) if span[0] <= s and e <= span[1]
                )
        return frozenset()


# --------------------------------------------------------------------------- public entry


def open_index(
    corpus: Path | Source,
    index: Path,
    encoder: Encoder,
    *,
    chunking: Chunking = Chunking(),
    progress: bool = True,
    rebuild: bool = False,
    report: Callable[[str], None] | None = None,
) -> IndexStore:
    """Load the index of ``corpus`` at ``index``, building or refreshing it when needed.

    ``corpus`` is a corpus folder or any :class:`~qa.documents.Source`. The index is
    rebuilt when missing, damaged, made with another model, chunking or format, or when
    ``rebuild`` is set. When only some articles changed, only those are re-encoded.
    Metadata edits re-label passages without encoding anything.

    Raises:
        CorpusError: the corpus folder is missing or has no readable article.
        IndexLocationError: ``index`` exists but is not an index folder.
    """
    source = corpus if not isinstance(corpus, (str, Path)) else CorpusFolder(corpus)
    index = Path(index).resolve()
    say = report or (lambda _msg: None)
    _check_location(source.location, index)
    with _lock(index):
        _recover(index)
        store: IndexStore | None = None
        if not rebuild and (index / "manifest.json").exists():
            try:
                store = _load(index)
            except IndexCorruptError as exc:
                warn(f"the index at {index} is damaged ({exc}); rebuilding it")
        if store is not None and not _same_model(store.manifest, encoder):
            say(f"index at {index} was built with model {store.manifest.get('model')!r}; re-encoding everything")
            store = None
        previous = store.documents if store is not None else {}
        states = source.scan({doc_id: doc.state for doc_id, doc in previous.items()})
        metadata = source.metadata()
        fingerprint = _fingerprint(states, source.metadata_digest())
        if (
            store is not None
            and fingerprint == store.manifest["corpus_fingerprint"]
            and _same_text_rules(store.manifest, chunking)
        ):
            _emit_warnings(store)
            return store
        store = _build(source, index, encoder, chunking, states, metadata, fingerprint, store, progress, say)
        _emit_warnings(store)
        return store


def _emit_warnings(store: IndexStore) -> None:
    for doc in store.documents.values():
        for message in doc.warnings:
            warn(message)


def _same_model(manifest: dict, encoder: Encoder) -> bool:
    """Whether the index's vectors can be reused: same format, model and dimension."""
    return (
        manifest.get("format_version") == FORMAT_VERSION
        and manifest.get("model") == encoder.name
        and manifest.get("dimension") == encoder.dimension
    )


def _same_text_rules(manifest: dict, chunking: Chunking) -> bool:
    """Whether passages, quotes and BM25 were made by the same rules (else they are remade)."""
    return (
        manifest.get("chunking") == asdict(chunking)
        and manifest.get("tokenizer") == TOKENIZER_VERSION
        and manifest.get("facts") == FACTS_VERSION
    )


def _fingerprint(states: dict[str, FileState], metadata_digest: str) -> str:
    digest = hashlib.sha256()
    for doc_id in sorted(states):
        digest.update(f"{doc_id}\0{states[doc_id].sha256}\n".encode())
    digest.update(metadata_digest.encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- building


def _build(
    source: Source,
    index: Path,
    encoder: Encoder,
    chunking: Chunking,
    states: dict[str, FileState],
    metadata: dict[str, ArticleMeta],
    fingerprint: str,
    old: IndexStore | None,
    progress: bool,
    say: Callable[[str], None],
) -> IndexStore:
    """Make the index; vectors of passages and sentences whose text did not change are reused."""
    old_docs = old.documents if old is not None else {}
    same_rules = old is not None and _same_text_rules(old.manifest, chunking)
    passages: list[Passage] = []
    documents: dict[str, StoredDocument] = {}
    facts: list[SentenceFacts] = []
    changed = 0
    for doc_id in sorted(states):
        state = states[doc_id]
        before = old_docs.get(doc_id)
        unchanged = before is not None and before.state.sha256 == state.sha256
        if unchanged and same_rules:
            derived, warnings = before.derived, before.warnings
            doc_passages = old.passages[before.first : before.first + before.count]
            first = old.sentence_first
            facts.append(old.facts.rows(int(first[before.first]), int(first[before.first + before.count])))
        else:
            document = source.load(doc_id)  # text-derived metadata only
            derived, warnings = document.meta, document.warnings
            doc_passages = make_passages(document, chunking)
            facts.append(SentenceFacts.of_article(doc_passages))
            changed += not unchanged
        meta = metadata.get(doc_id, ArticleMeta()).filled_from(derived)
        labels = asdict(meta)  # a passage carries every ArticleMeta field
        doc_passages = [replace(p, **labels) for p in doc_passages]
        documents[doc_id] = StoredDocument(
            doc_id, meta, derived, state, len(passages), len(doc_passages), tuple(warnings)
        )
        passages.extend(doc_passages)
    if not passages:
        raise CorpusError(f"no passages could be made from the articles in {source.location}")
    p_matrix, s_matrix, encoded = _vectors(encoder, passages, documents, old, progress)
    say(f"indexed {len(states)} article(s): {changed} new or changed; encoded {encoded} new text span(s)")
    store = IndexStore(
        folder=index,
        manifest={},
        documents=documents,
        passages=passages,
        passage_vectors=VectorIndex.from_vectors(p_matrix),
        sentence_vectors=VectorIndex.from_vectors(s_matrix),
        lexical=LexicalIndex.build([p.text for p in passages]),
        sentence_lexical=LexicalIndex.build([p.sentence_text(i) for p in passages for i in range(len(p.sentences))]),
        facts=SentenceFacts.join(facts),
        names=NameLexicon(p.text for p in passages),
    )
    store.manifest = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "model": encoder.name,
        "dimension": encoder.dimension,
        "passages": len(passages),
        "sentences": int(store.sentence_first[-1]),
        "documents": len(documents),
        "corpus_fingerprint": fingerprint,
        "chunking": asdict(chunking),
        "tokenizer": TOKENIZER_VERSION,
        "facts": FACTS_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write(store, index)
    return store


def _vectors(
    encoder: Encoder,
    passages: list[Passage],
    documents: dict[str, StoredDocument],
    old: IndexStore | None,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Passage and sentence matrices: reused from ``old`` where an unchanged article has the same
    span, encoded in batches otherwise. Returns both matrices and how many texts were encoded."""
    known_p: dict[tuple[str, int, int], int] = {}
    known_s: dict[tuple[str, int, int], int] = {}
    if old is not None:
        for doc_id, before in old.documents.items():
            now = documents.get(doc_id)
            if now is None or now.state.sha256 != before.state.sha256:
                continue
            for row in range(before.first, before.first + before.count):
                p = old.passages[row]
                known_p[(doc_id, p.char_start, p.char_end)] = row
                first = int(old.sentence_first[row])
                for i, (a, b) in enumerate(p.sentences):
                    known_s[(doc_id, a, b)] = first + i
    p_keys = [(p.doc_id, p.char_start, p.char_end) for p in passages]
    s_keys = [(p.doc_id, a, b) for p in passages for a, b in p.sentences]
    s_texts = [p.sentence_text(i) for p in passages for i in range(len(p.sentences))]
    matrices = []
    encoded = 0
    for keys, texts, known, vectors in (
        (p_keys, [p.text for p in passages], known_p, old.passage_vectors if old else None),
        (s_keys, s_texts, known_s, old.sentence_vectors if old else None),
    ):
        out = np.zeros((len(keys), encoder.dimension), dtype=np.float32)
        reuse = [(i, known[k]) for i, k in enumerate(keys) if k in known]
        if reuse:
            out[[i for i, _ in reuse]] = vectors.vectors(np.array([r for _, r in reuse], dtype=np.int64))
        todo = [i for i, k in enumerate(keys) if k not in known]
        if todo:
            show = progress and len(todo) > _PROGRESS_MIN
            out[todo] = encoder.encode([texts[i] for i in todo], progress=show)
            encoded += len(todo)
        matrices.append(out)
    return matrices[0], matrices[1], encoded


# --------------------------------------------------------------------------- files


def _passage_json(p: Passage) -> dict:
    return {
        "doc_id": p.doc_id,
        "char_start": p.char_start,
        "char_end": p.char_end,
        "text": p.text,
        "sentences": [list(s) for s in p.sentences],
        "quotes": [[q.speaker, q.char_start, q.char_end, q.direct] for q in p.quotes],
    }


def _write(store: IndexStore, index: Path) -> None:
    index.parent.mkdir(parents=True, exist_ok=True)
    for stale in index.parent.glob(f".{index.name}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index.name}.building-", dir=index.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        _write_jsonl(tmp / "documents.jsonl", (d.to_json() for d in store.documents.values()))
        _write_jsonl(tmp / "passages.jsonl", (_passage_json(p) for p in store.passages))
        store.passage_vectors.save(tmp / "passages.faiss")
        store.sentence_vectors.save(tmp / "sentences.faiss")
        store.lexical.save(tmp / "bm25")
        store.sentence_lexical.save(tmp / "bm25-sentences")
        _write_jsonl(tmp / "sentence-facts.jsonl", store.facts.to_json())
        _write_json(tmp / "names.json", store.names.to_json())
        store.manifest["files"] = {rel: _file_info(tmp / rel) for rel in _data_files(tmp)}
        _write_json(tmp / "manifest.json", store.manifest)
        _fsync_tree(tmp)
        _swap(tmp, index)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    store.folder = index


def _swap(new: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.previous")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _recover(index: Path) -> None:
    """Put back the previous index if a build died between the two renames of a swap."""
    old = index.with_name(f".{index.name}.previous")
    if old.exists() and not index.exists():
        os.rename(old, index)


def _data_files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"
    )


def _file_info(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def _check_location(corpus: Path, index: Path) -> None:
    if index == corpus or corpus.is_relative_to(index):
        raise IndexLocationError(
            f"the index folder {index} would contain the corpus {corpus}; pass an --index folder outside it"
        )
    if index.is_relative_to(corpus):
        raise IndexLocationError(
            f"the index folder {index} is inside the corpus folder {corpus}; pass an --index folder outside it"
        )
    if index.exists() and not index.is_dir():
        raise IndexLocationError(f"the index path {index} is a file; pass a folder for --index")
    if index.is_dir():
        foreign = sorted(p.name for p in index.iterdir() if p.name not in _KNOWN)
        if foreign:
            raise IndexLocationError(
                f"{index} is not an index folder (it holds {', '.join(foreign[:3])}"
                f"{' ...' if len(foreign) > 3 else ''}); it was left untouched. "
                "Pass an empty or new folder with --index"
            )


@contextlib.contextmanager
def _lock(index: Path) -> Iterator[None]:
    import fcntl

    index.parent.mkdir(parents=True, exist_ok=True)
    with open(index.parent / f".{index.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- loading


def index_model(index: str | os.PathLike) -> str | None:
    """The model an existing index was built with, or None when there is no readable index."""
    try:
        model = _read_manifest(Path(index)).get("model")
    except IndexCorruptError:
        return None
    return model if isinstance(model, str) and model else None


def _read_manifest(index: Path) -> dict:
    """The parsed ``manifest.json`` of an index folder (any format version).

    Raises:
        IndexCorruptError: it is missing, unreadable, or not a qa index manifest.
    """
    try:
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"manifest.json cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise IndexCorruptError("manifest.json is not a qa index manifest")
    return manifest


def _load(index: Path) -> IndexStore:
    """Read and check an index folder.

    Raises:
        IndexCorruptError: a file is missing, truncated, altered or inconsistent.
    """
    manifest = _read_manifest(index)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"it has format version {manifest.get('format_version')}, this version of qa reads {FORMAT_VERSION}"
        )
    try:
        checked: dict[str, bytes] = {}  # files read whole once: checksummed, then parsed from these bytes
        for rel, info in manifest["files"].items():
            path = index / rel
            if not path.is_file():
                raise IndexCorruptError(f"{rel} is missing")
            if path.stat().st_size != info["size"]:
                raise IndexCorruptError(f"{rel} has {path.stat().st_size} bytes, the manifest says {info['size']}")
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise IndexCorruptError(f"{rel} does not match its checksum")
            if rel in _PARSED_FROM_BYTES | _FACT_FILES:
                checked[rel] = data
        current = manifest.get("facts") == FACTS_VERSION  # else the facts are remade by open_index
        missing = sorted((_PARSED_FROM_BYTES | (_FACT_FILES if current else set())) - set(checked))
        if missing:
            raise IndexCorruptError(f"the manifest does not list {', '.join(missing)}")
        documents = {}
        for row in _parse_jsonl(checked.pop("documents.jsonl"), "documents.jsonl"):
            doc = StoredDocument.from_json(row)
            documents[doc.doc_id] = doc
        labels = {doc_id: asdict(doc.meta) for doc_id, doc in documents.items()}
        passages = []
        for row in _parse_jsonl(checked.pop("passages.jsonl"), "passages.jsonl"):
            passages.append(
                Passage(
                    doc_id=row["doc_id"],
                    text=row["text"],
                    char_start=row["char_start"],
                    char_end=row["char_end"],
                    sentences=tuple(tuple(s) for s in row["sentences"]),
                    quotes=tuple(Quote(*q) for q in row["quotes"]),
                    **labels[row["doc_id"]],
                )
            )
        if len(passages) != manifest["passages"]:
            raise IndexCorruptError(
                f"passages.jsonl has {len(passages)} rows, the manifest says {manifest['passages']}"
            )
        n_sent = sum(len(p.sentences) for p in passages)
        dim = manifest["dimension"]
        facts = names = None
        if current:
            facts = SentenceFacts.from_json(_parse_jsonl(checked.pop("sentence-facts.jsonl"), "sentence-facts.jsonl"))
            if len(facts) != n_sent:
                raise IndexCorruptError(f"sentence-facts.jsonl has {len(facts)} rows for {n_sent} sentences")
            names = NameLexicon.from_json(json.loads(checked.pop("names.json")))
        store = IndexStore(
            folder=index,
            manifest=manifest,
            documents=documents,
            passages=passages,
            passage_vectors=VectorIndex.from_bytes(
                checked.pop("passages.faiss"), dimension=dim, count=len(passages), name="passages.faiss"
            ),
            sentence_vectors=VectorIndex.from_bytes(
                checked.pop("sentences.faiss"), dimension=dim, count=n_sent, name="sentences.faiss"
            ),
            lexical=LexicalIndex.load(index / "bm25", rows=len(passages)),
            sentence_lexical=LexicalIndex.load(index / "bm25-sentences", rows=n_sent),
            facts=facts,
            names=names,
        )
    except IndexCorruptError:
        raise
    except (IndexFileError, KeyError, TypeError, ValueError, OSError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{type(exc).__name__}: {exc}") from exc
    return store


#: Index files that :func:`_load` parses from the bytes it checksummed (BM25 folders load by path).
_PARSED_FROM_BYTES = frozenset({"documents.jsonl", "passages.jsonl", "passages.faiss", "sentences.faiss"})
#: Files of the sentence facts and name lexicon, read when the manifest's facts version is current.
_FACT_FILES = frozenset({"sentence-facts.jsonl", "names.json"})


def _parse_jsonl(data: bytes, name: str) -> Iterator[dict]:
    # split on "\n" only: str.splitlines would also break at U+2028 and the like inside texts
    lines = data.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise IndexCorruptError(f"{name} line {number} is not JSON") from exc
