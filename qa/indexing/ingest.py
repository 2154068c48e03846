"""Taking articles in: open (or make) an index, diff it against the corpus, and ingest in batches.

An article goes through the text side (read, clean, cut into passages, attribute quotes, work
out sentence facts and BM25 tokens), then its passages are encoded (each sentence's vector is
pooled from its passage's forward pass), and batches of about :data:`BATCH_PASSAGES` passages
are committed one transaction each. Killing an ingest loses at most the batch in flight;
running it again resumes where it stopped, since the diff finds what is not in yet.

Bad input never stops an ingest: an empty, binary or over-large file, one that vanishes while
it is read, or a second copy of an indexed article's text is named in a warning and left out
(recorded in ``skipped``, so that the warning repeats at each refresh until the file changes).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from embeddings import Encoder, encode_passages

from ..errors import (
    CorpusError,
    DocumentNotFoundError,
    IndexCorruptError,
    IndexLocationError,
    MetadataError,
    ModelError,
    warn,
)
from ..ingest.documents import (
    ARTICLE_SUFFIXES,
    METADATA_FILE,
    ArticleMeta,
    CorpusFolder,
    Document,
    FileState,
    Source,
    file_state,
    load_document,
    load_metadata,
    scan_corpus,
)
from ..ingest.facts import FACTS_VERSION
from ..ingest.names import AliasTable
from ..ingest.passages import Chunking
from ..ingest.quotes.tagger import CONFIG, check_weights, model_id
from ..lexical import TOKENIZER_VERSION
from ..store.database import COUNTERS, DATABASE, Database
from ..store.milvus import LOG_FILE as MILVUS_LOG
from ..store.milvus import Backend, check_behind
from ..store.records import ORIGIN_CORPUS, ORIGIN_EXTERNAL, ORIGIN_SOURCE
from ..store.store import (
    FLOAT16_SENTENCE_FILE,
    FORMAT,
    FORMAT_VERSION,
    PASSAGE_VECTORS,
    SENTENCE_FILE,
    IndexStore,
)
from ..store.writer import Prepared, Skip, StoreWriter
from .reading import Work, deduplicate, kept_loader, read_one, relative_spans

__all__ = [
    "BATCH_PASSAGES",
    "MAX_ARTICLE_BYTES",
    "IngestReport",
    "add_paths",
    "attribution_chunking",
    "index_model",
    "open_index",
    "remove_ids",
]

#: Passages per committed batch: what a killed ingest can lose.
BATCH_PASSAGES = 256
#: Articles larger than this are left out with a warning (a 5 MB text is about 800,000 words).
MAX_ARTICLE_BYTES = 5_000_000
_PROGRESS_MIN = 10  # articles, below which no progress bar is shown
_MANIFEST = "manifest.json"
#: Files an index folder may hold (this format's and the previous one's); any other file means the
#: folder is not an index, and it is never written to.
_KNOWN = {
    _MANIFEST,
    DATABASE,
    MILVUS_LOG,
    f"{DATABASE}-wal",
    f"{DATABASE}-shm",
    PASSAGE_VECTORS,
    SENTENCE_FILE,
    FLOAT16_SENTENCE_FILE,
    # format 1
    "documents.jsonl",
    "passages.jsonl",
    "passages.faiss",
    "sentences.faiss",
    "bm25",
    "bm25-sentences",
    "sentence-facts.jsonl",
    "names.json",
}


def _is_known(name: str) -> bool:
    return name in _KNOWN or (name.startswith("ann-") and name.endswith(".faiss")) or name.startswith(".ann-")


@dataclass
class IngestReport:
    """What an ingest did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    relabelled: int = 0
    encoded: int = 0
    reused: int = 0
    seconds: float = 0.0

    def merged(self, other: IngestReport) -> IngestReport:
        """This report and ``other`` together."""
        return IngestReport(
            added=self.added + other.added,
            updated=self.updated + other.updated,
            removed=self.removed + other.removed,
            skipped=self.skipped + other.skipped,
            relabelled=self.relabelled + other.relabelled,
            encoded=self.encoded + other.encoded,
            reused=self.reused + other.reused,
            seconds=self.seconds + other.seconds,
        )

    def describe(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} left out (see the warnings)")
        if self.relabelled:
            parts.append(f"{self.relabelled} re-labelled")
        return f"{', '.join(parts)}; encoded {self.encoded} passage(s)" + (
            f", reused the vectors of {self.reused}" if self.reused else ""
        )


#: How sentence vectors are made: pooled from the passage's forward pass, or encoded one by one.
SENTENCE_VECTORS = ("pooled", "separate")


def text_rules(chunking: Chunking) -> dict:
    """The rules that make an index's text side; an index made by other rules is re-cut. A trained
    attribution model counts by its content, not by where its folder is."""
    cutting = {k: v for k, v in asdict(chunking).items() if k != "tagger"}
    return {"chunking": cutting, "tokenizer": TOKENIZER_VERSION, "facts": FACTS_VERSION}


# --------------------------------------------------------------------------- opening


def open_index(
    corpus: Path | Source,
    index: Path,
    encoder: Encoder,
    *,
    chunking: Chunking = Chunking(),
    progress: bool = True,
    rebuild: bool = False,
    refresh: bool = True,
    sentence_vectors: str = "pooled",
    report: Callable[[str], None] | None = None,
    store: str | None = None,
    ray: str | None = None,
) -> IndexStore:
    """Open the index of ``corpus`` at ``index``, making it or bringing it up to date with the corpus.

    ``corpus`` is a corpus folder or any :class:`~qa.ingest.documents.Source`. Articles added, changed
    or removed since the last ingest are ingested or removed (only those are encoded); metadata
    edits re-label articles without encoding anything. ``sentence_vectors`` is ``"pooled"``
    (each sentence's vector pooled from its passage's forward pass: the fast default) or
    ``"separate"`` (each sentence encoded on its own: about half the ingest rate). The index is
    made again from scratch when ``rebuild`` is set, when it was made with another model or
    other sentence vectors, or when it is damaged; an
    index of the previous format is rebuilt, with a message. With ``refresh=False``, or while
    another process is writing to it, an existing index is opened as it stands.

    ``store`` picks where the candidate searches run: None or ``"faiss"`` (FAISS and the
    index's own BM25, the default), ``"milvus-lite:PATH.db"`` or ``"milvus://HOST:PORT/COLLECTION"``
    (see :mod:`qa.store.milvus`); the index folder is the catalogue either way. With ``ray`` (a
    Ray address, or ``"local"``), the articles to ingest are read, cut and encoded on Ray
    (:mod:`qa.indexing.on_ray`); commits are made here as always.

    Raises:
        CorpusError: the corpus folder is missing or has no article.
        IndexLocationError: ``index`` exists but is not an index folder.
        StoreSpecError: ``store`` is malformed, or its backend is not installed.
        StoreUnavailableError: the Milvus store cannot be reached.
        StoreMismatchError: the Milvus collection mirrors another index.
        RayError: Ray is not installed, cannot be reached, or its job failed (what was committed
            before stays; running again resumes).
    """
    backend = Backend.parse(store)
    backend.check()  # an unreachable Milvus fails here, before the index folder is touched
    source = corpus if not isinstance(corpus, (str, Path)) else CorpusFolder(corpus)
    index = Path(index).resolve()
    say = report or (lambda _msg: None)
    if sentence_vectors not in SENTENCE_VECTORS:
        raise ValueError(f"sentence_vectors is {sentence_vectors!r}; use one of {', '.join(SENTENCE_VECTORS)}")
    _check_location(source.location, index)
    if not refresh and (index / DATABASE).is_file() and not rebuild:
        try:
            opened = backend.open(index)
        except IndexCorruptError:
            opened = None  # made again below
        if opened is not None and opened.model == encoder.name and opened.dimension == encoder.dimension:
            check_behind(opened)
            return _emit_warnings(opened)
        if opened is not None:
            opened.close()
    with lock(index, wait=not refresh) as locked:
        if not locked:
            say(f"another process is updating {index}; opening it as last committed")
            opened = backend.open(index)
            check_behind(opened)
            return _emit_warnings(opened)
        opened = _open_or_create(index, encoder, chunking, sentence_vectors, rebuild=rebuild, say=say, backend=backend)
        sync(opened, source, encoder, chunking=chunking, progress=progress, say=say, ray=ray)
        _drop_backup(index)
    return _emit_warnings(opened)


def _emit_warnings(store: IndexStore) -> IndexStore:
    for message in store.warnings():
        warn(message)
    return store


#: ``attribution_model`` value that asks for the rules alone.
RULES = "rules"


def attribution_chunking(
    index: str | os.PathLike, chunking: Chunking, attribution_model: str | os.PathLike | None
) -> Chunking:
    """``chunking`` with the attribution model the index is (to be) attributed with.

    ``attribution_model`` is a trained model's folder (``make train-attribution``), ``"rules"`` for
    the rules alone, or None for what the index at ``index`` was made with (the rules for a new
    one). A recorded model that is gone or damaged leaves the rules alone, with a warning: the
    next refresh re-attributes every article without encoding anything.

    Raises:
        ModelError: the model asked for is missing, damaged or has no confidence table (the message
            names the folder and ``make train-attribution``).
    """
    if attribution_model is None:
        recorded = _recorded(Path(index), "attribution_model")
        if not recorded:
            return replace(chunking, tagger="", tagger_id="")
        try:
            return _with_model(chunking, recorded)
        except ModelError as exc:
            warn(
                f"{index} was attributed with the model at {recorded}, which cannot be used now ({exc}); "
                "the rules alone attribute its quotes from now on. Pass --attribution-model DIR "
                "(attribution_model=) to use a model again."
            )
            return replace(chunking, tagger="", tagger_id="")
    if str(attribution_model) == RULES:
        return replace(chunking, tagger="", tagger_id="")
    return _with_model(chunking, attribution_model)


def _with_model(chunking: Chunking, folder: str | os.PathLike) -> Chunking:
    folder = Path(folder).resolve()
    identity = model_id(folder)
    try:
        settings = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / CONFIG} cannot be read ({exc}); make it with `make train-attribution`") from exc
    if not isinstance(settings, dict) or not settings.get("confidence"):
        raise ModelError(
            f"{folder / CONFIG} has no confidence table; make it with `make train-attribution` "
            f"(or bench/bench_polnear.py --calibrate --model {folder})"
        )
    check_weights(folder)
    return replace(chunking, tagger=str(folder), tagger_id=identity)


def _recorded(index: Path, key: str):
    """A setting of an existing index's database, read without opening the index (None without one)."""
    path = index / DATABASE
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def index_model(index: str | os.PathLike) -> str | None:
    """The model an existing index was made with, or None when there is no readable index."""
    try:
        manifest = json.loads((Path(index) / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    model = manifest.get("model") if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None
    return model if isinstance(model, str) and model else None


def _open_or_create(
    index: Path, encoder: Encoder, chunking: Chunking, sentence_vectors: str, *, rebuild: bool, say, backend: Backend
) -> IndexStore:
    manifest = _read_manifest(index)
    if manifest == {}:
        warn(f"the index at {index} is damaged (manifest.json cannot be read); rebuilding it")
        manifest = None
    if manifest is not None and manifest.get("format_version") != FORMAT_VERSION:
        warn(
            f"the index at {index} was made by an earlier version of qa (format {manifest.get('format_version')}); "
            f"it is rebuilt in format {FORMAT_VERSION}, which encodes every article again"
        )
        _backup(index)
        manifest = None
    store = None
    if manifest is not None and not rebuild:
        try:
            store = backend.open(index)
        except IndexCorruptError as exc:
            warn(f"the index at {index} is damaged ({exc}); rebuilding it")
        if store is not None and (store.model != encoder.name or store.dimension != encoder.dimension):
            say(f"index at {index} was built with model {store.model!r}; re-encoding everything")
            store.close()
            store = None
        elif store is not None and store.db.get("sentence_vectors", "pooled") != sentence_vectors:
            say(f"index at {index} has {store.db.get('sentence_vectors')} sentence vectors; re-encoding everything")
            store.close()
            store = None
    if store is None:
        known = _uuid_of(index)  # an index made again keeps its id, so its Milvus collection stays its own
        _clear(index)
        store = _create(index, encoder, chunking, sentence_vectors, backend=backend, uuid_=known, take_over=rebuild)
    return store


def _uuid_of(index: Path) -> str | None:
    """The id of the index at ``index``, if one can be read there."""
    try:
        db = Database(index)
    except (FileNotFoundError, sqlite3.Error):
        return None
    try:
        return db.get("uuid")
    except sqlite3.Error:
        return None
    finally:
        db.close()


def _read_manifest(index: Path) -> dict | None:
    path = index / _MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == FORMAT else {}


def _create(
    index: Path,
    encoder: Encoder,
    chunking: Chunking,
    sentence_vectors: str = "pooled",
    *,
    backend: Backend = Backend(),
    uuid_: str | None = None,
    take_over: bool = False,
) -> IndexStore:
    index.mkdir(parents=True, exist_ok=True)
    db = Database(index, create=True)
    with db.transaction():
        db.set(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            model=encoder.name,
            dimension=encoder.dimension,
            rules=text_rules(chunking),
            sentence_vectors=sentence_vectors,
            sentence_file=SENTENCE_FILE,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            uuid=uuid_ or uuid.uuid4().hex,
            **COUNTERS,
        )
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": encoder.name,
        "dimension": encoder.dimension,
        "database": DATABASE,
        "vectors": [PASSAGE_VECTORS, SENTENCE_FILE],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = index / f".{_MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, index / _MANIFEST)
    try:
        return backend.wrap(index, db, take_over=take_over)
    except BaseException:
        db.close()
        raise


def _clear(index: Path) -> None:
    """Delete this package's files from an index folder (never anything else)."""
    if not index.is_dir():
        return
    for path in index.iterdir():
        if _is_known(path.name):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _backup(index: Path) -> None:
    """Move an old-format index aside until the new one is complete."""
    backup = index.with_name(f".{index.name}.previous-format")
    if backup.exists():
        shutil.rmtree(backup)
    backup.mkdir()
    for path in index.iterdir():
        if _is_known(path.name):
            os.rename(path, backup / path.name)


def _drop_backup(index: Path) -> None:
    backup = index.with_name(f".{index.name}.previous-format")
    if backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


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
        foreign = sorted(p.name for p in index.iterdir() if not _is_known(p.name))
        if foreign:
            raise IndexLocationError(
                f"{index} is not an index folder (it holds {', '.join(foreign[:3])}"
                f"{' ...' if len(foreign) > 3 else ''}); it was left untouched. "
                "Pass an empty or new folder with --index"
            )


@contextlib.contextmanager
def lock(index: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the index's writer lock; yields False (without waiting) when another process holds it
    and ``wait`` is off."""
    import fcntl

    index.parent.mkdir(parents=True, exist_ok=True)
    with open(index.parent / f".{index.name}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- diffing the corpus


def sync(
    store: IndexStore,
    source: Source,
    encoder: Encoder,
    *,
    chunking: Chunking = Chunking(),
    progress: bool = True,
    say: Callable[[str], None] = lambda _m: None,
    ray: str | None = None,
) -> IngestReport:
    """Bring ``store`` in line with ``source``: ingest new and changed articles, remove gone ones,
    re-label articles whose metadata changed (read and encoded on Ray with ``ray``, see :func:`ingest`)."""
    started = time.perf_counter()
    writer = StoreWriter(store)
    report = IngestReport()
    indexed = store.documents
    corpus_docs = {d: doc for d, doc in indexed.items() if doc.origin == ORIGIN_CORPUS}
    skipped = _skipped(store)
    previous = {d: doc.state for d, doc in corpus_docs.items()}
    previous.update({d: skip.state for d, skip in skipped.items() if d not in previous})
    states = source.scan(previous)
    if not states and corpus_docs:
        raise CorpusError(
            f"the corpus folder {source.location} is missing or holds no article, but the index holds "
            f"{len(corpus_docs)} article(s) from it; nothing was removed. Restore the folder, pass the right "
            "--corpus, or take the articles out with qa remove"
        )
    metadata = source.metadata()
    same_rules = store.db.get("rules") == text_rules(chunking)
    if not same_rules and corpus_docs:
        say("the index was cut by other text rules; re-cutting every article (unchanged passages keep their vectors)")

    removed = sorted(set(corpus_docs) - set(states))
    gone_skips = [d for d, skip in skipped.items() if skip.origin == ORIGIN_CORPUS and d not in states]
    if removed or gone_skips:
        writer.commit(remove=removed, unskip=gone_skips)
        report.removed.extend(removed)

    work: list[Work] = []
    relabel = []
    indexed_now = set(corpus_docs) - set(removed)
    for doc_id in sorted(states):
        state = states[doc_id]
        given = metadata.get(doc_id, ArticleMeta())
        before = corpus_docs.get(doc_id)
        if before is not None and before.state.sha256 == state.sha256 and same_rules:
            if before.given != given:
                relabel.append((doc_id, given, given.filled_from(before.derived)))
            continue
        skip = skipped.get(doc_id)
        still_out = skip is not None and skip.state.sha256 == state.sha256
        if before is None and still_out and (skip.duplicate_of is None or skip.duplicate_of in indexed_now):
            warn(f"{doc_id} was left out of the index: {skip.reason}")
            continue
        work.append(
            Work(
                doc_id,
                ORIGIN_CORPUS,
                state,
                given,
                _loader(source, doc_id),
                replaces=before is not None,
                reuse=before is not None and before.state.sha256 == state.sha256,
            )
        )
    for doc_id, doc in indexed.items():  # articles added from outside the corpus: re-read when changed
        if doc.origin != ORIGIN_EXTERNAL:
            continue
        path = Path(doc_id)
        if not path.is_file():
            warn(f"{doc_id} (added from outside the corpus) is gone; qa remove {doc_id} takes it out of the index")
            continue
        state = file_state(path, doc.state)
        if state.sha256 != doc.state.sha256 or not same_rules:
            work.append(
                Work(
                    doc_id,
                    ORIGIN_EXTERNAL,
                    state,
                    doc.given,
                    _file_loader(path),
                    replaces=True,
                    reuse=state.sha256 == doc.state.sha256,
                )
            )
    if not same_rules:  # articles from sources have no file: re-cut from the text the index keeps
        origins = store.origins(d for d, doc in indexed.items() if doc.origin == ORIGIN_SOURCE)
        for doc_id, doc in indexed.items():
            if doc.origin == ORIGIN_SOURCE:
                work.append(
                    Work(
                        doc_id,
                        ORIGIN_SOURCE,
                        doc.state,
                        doc.given,
                        kept_loader(store, doc_id),
                        replaces=True,
                        reuse=True,
                        kept=origins.get(doc_id),
                    )
                )
    if relabel:
        writer.update_labels(relabel)
        report.relabelled = len(relabel)
    ingest(writer, work, encoder, chunking=chunking, progress=progress, report=report, ray=ray)
    if not same_rules or store.db.get("attribution_model", "") != chunking.tagger:
        writer.set(rules=text_rules(chunking), attribution_model=chunking.tagger)
    aliases = _alias_names(source)
    if aliases is not None and store.db.get("aliases", {}) != aliases:
        writer.settings_commit(aliases=aliases)  # kept for replicas, which have no corpus folder
    writer.finish()
    report.seconds = time.perf_counter() - started
    if report.added or report.updated or report.removed or report.relabelled or report.skipped:
        say(f"indexed {len(states)} article(s): {report.describe()}")
    return report


def _alias_names(source: Source) -> dict[str, list[str]] | None:
    """The corpus's alias table (``aliases.toml``) as names and variants; None when it cannot be
    read (warned: the index keeps the table it has)."""
    try:
        return AliasTable.read(source.location).names if Path(source.location).is_dir() else {}
    except MetadataError as exc:
        warn(f"{exc}; the index keeps the alias table it had")
        return None


def _skipped(store: IndexStore) -> dict[str, Skip]:
    rows = store.db.execute("SELECT doc_id, origin, size, mtime_ns, sha256, reason, duplicate_of FROM skipped")
    return {
        d: Skip(d, origin, FileState(size, mtime, sha), reason, dup)
        for d, origin, size, mtime, sha, reason, dup in rows
    }


def _loader(source: Source, doc_id: str) -> Callable[[], Document]:
    return lambda: source.load(doc_id)


def _file_loader(path: Path) -> Callable[[], Document]:
    return lambda: load_document(Path("/"), path.as_posix())


# --------------------------------------------------------------------------- ingesting


def ingest(
    writer: StoreWriter,
    work: Iterable[Work],
    encoder: Encoder,
    *,
    chunking: Chunking = Chunking(),
    progress: bool = True,
    report: IngestReport | None = None,
    max_bytes: int = MAX_ARTICLE_BYTES,
    ray: str | None = None,
    total: int | None = None,
) -> IngestReport:
    """Ingest ``work`` in batches of about :data:`BATCH_PASSAGES` passages, one commit each.

    ``work`` may be a generator (a source's articles, fetched as they are asked for); ``total``
    then says how many to expect, for the progress bar. Each item's ``links`` are recorded in
    the commit that takes it in, or records it as left out.

    The text side runs in this thread, between batches: on 2 cores a second thread for it
    slowed the encoder more than it saved (measured in ``bench/RESULTS.md``). With ``ray`` (a
    Ray address, or ``"local"`` for a cluster of this machine) articles are read, cut and
    encoded by Ray Data workers (:mod:`qa.indexing.on_ray`); the commits are the same, made here.
    """
    report = report if report is not None else IngestReport()
    if isinstance(work, Sequence):
        if not work:
            return report
        total = len(work)
    bar = None
    if progress and total is not None and total >= _PROGRESS_MIN:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="indexing", unit="article", dynamic_ncols=True)
    started, passages_done = time.perf_counter(), 0
    batch: list[tuple[Prepared, Work, tuple | None]] = []
    skips: list[Skip] = []
    gone: list[str] = []
    links: list[tuple[int, str, str, str]] = []  # of the articles left out since the last commit

    pending = 0  # articles read since the last commit

    def flush() -> None:
        nonlocal batch, skips, gone, links, passages_done, pending
        if batch or skips or gone or links:
            passages_done += _commit(writer, batch, skips, gone, encoder, report, links)
        batch, skips, gone, links = [], [], [], []
        if bar is not None:  # progress counts committed articles, so the rate and time left are real
            bar.update(pending)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{passages_done / elapsed:.1f} passages/s" if elapsed > 0 else "")
        pending = 0

    contents: dict[str, str] = {}  # content hash -> article, for this run
    if ray is None:
        outcomes = ((read_one(item, chunking, max_bytes, known=(writer.store, contents)), None) for item in work)
    else:
        from .on_ray import read_and_encode

        pooled = writer.store.db.get("sentence_vectors", "pooled") == "pooled"
        outcomes = (
            (deduplicate(outcome, writer.store, contents), vectors)
            for outcome, vectors in read_and_encode(
                work, encoder, chunking=chunking, max_bytes=max_bytes, pooled=pooled, address=ray
            )
        )
    try:
        for outcome, vectors in outcomes:
            item = outcome.item
            if outcome.prepared is not None:
                batch.append((outcome.prepared, item, vectors))
            else:
                if outcome.skip is not None:
                    skips.append(outcome.skip)
                    links.extend(item.links)  # left out for good (until it changes): not fetched again
                reason = outcome.reason
                warn(reason if reason.startswith(item.doc_id) else f"{item.doc_id} was left out of the index: {reason}")
                report.skipped.append(item.doc_id)
                if item.replaces:
                    gone.append(item.doc_id)  # its older version goes: the file no longer holds an article
            pending += 1
            if sum(len(p.passages) for p, _, _ in batch) >= BATCH_PASSAGES:
                flush()
        flush()
    finally:
        if bar is not None:
            bar.close()
    return report


def _commit(
    writer: StoreWriter,
    batch: list[tuple[Prepared, Work, tuple | None]],
    skips: list[Skip],
    gone: list[str],
    encoder: Encoder,
    report: IngestReport,
    links: Sequence[tuple[int, str, str, str]] = (),
) -> int:
    """Encode a batch (reusing the vectors of passages an unchanged file still has, and taking those
    a worker encoded: ``(passage vectors, sentence vectors per passage)`` beside an article), write
    its vectors, commit it; returns its passages."""
    texts, spans, slots = [], [], []
    p_vectors: list[np.ndarray | None] = []
    s_vectors: list[np.ndarray | None] = []
    for prepared, item, encoded in batch:
        old = writer.vectors_of(item.doc_id) if item.reuse else {}
        for j, p in enumerate(prepared.passages):
            key = (p.char_start, p.char_end, tuple(x for s in p.sentences for x in s))
            if key in old:
                p_vectors.append(old[key][0])
                s_vectors.append(old[key][1])
                report.reused += 1
            elif encoded is not None:
                p_vectors.append(encoded[0][j])
                s_vectors.append(encoded[1][j])
                report.encoded += 1
            else:
                slots.append(len(p_vectors))
                p_vectors.append(None)
                s_vectors.append(None)
                texts.append(p.text)
                spans.append(relative_spans(p))
    if texts:
        pooled = writer.store.db.get("sentence_vectors", "pooled") == "pooled"
        encoded_p, encoded_s = encode_passages(encoder, texts, spans, pooled=pooled)
        for slot, pv, sv in zip(slots, encoded_p, encoded_s):
            p_vectors[slot], s_vectors[slot] = pv, sv
        report.encoded += len(texts)
    dim = writer.store.dimension
    first_passage, first_sentence = writer.next_ids()
    passages = np.vstack(p_vectors) if p_vectors else np.zeros((0, dim), np.float32)
    sentences = np.vstack(s_vectors) if s_vectors else np.zeros((0, dim), np.float32)
    writer.write_vectors(first_passage, passages, first_sentence, sentences)
    replaced = [item.doc_id for _, item, _ in batch if item.replaces]
    writer.commit(
        add=[p for p, _, _ in batch],
        remove=[*gone, *replaced],
        skip=skips,
        unskip=[p.doc_id for p, _, _ in batch],
        first_passage=first_passage,
        first_sentence=first_sentence,
        links=[*links, *(link for _, item, _ in batch for link in item.links)],
    )
    for prepared, item, _ in batch:
        (report.updated if item.replaces else report.added).append(prepared.doc_id)
    return len(p_vectors)


# --------------------------------------------------------------------------- add and remove


def add_paths(
    store: IndexStore,
    corpus: Path,
    paths: Sequence[str | os.PathLike],
    encoder: Encoder,
    *,
    chunking: Chunking = Chunking(),
    progress: bool = True,
    max_bytes: int = MAX_ARTICLE_BYTES,
) -> IngestReport:
    """Ingest the articles at ``paths`` (files, or folders searched recursively).

    A file inside the corpus folder keeps its corpus id (its path relative to the corpus) and
    the corpus metadata; a file elsewhere is indexed under its absolute path, with metadata from
    a ``metadata.toml`` in the folder given (or beside the file). An article already indexed
    with the same content is left as it is.

    Raises:
        CorpusError: a path does not exist, or names a file that is not an article.
    """
    corpus = Path(corpus).resolve()
    files: dict[str, tuple[Path, str, ArticleMeta]] = {}
    corpus_meta: dict[str, ArticleMeta] | None = None
    folders: dict[Path, dict[str, ArticleMeta]] = {}  # each folder's metadata.toml, read once

    def metadata_of(folder: Path) -> dict[str, ArticleMeta]:
        if folder not in folders:
            folders[folder] = load_metadata(folder) if (folder / METADATA_FILE).exists() else {}
        return folders[folder]

    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.exists():
            raise CorpusError(f"{raw} does not exist; pass article files (.txt, .md, .html) or folders of them")
        if path.is_dir():
            found = scan_corpus(path)
            root_meta = metadata_of(path)
        else:
            if path.suffix.lower() not in ARTICLE_SUFFIXES:
                raise CorpusError(f"{raw} is not an article file; articles end in {', '.join(ARTICLE_SUFFIXES)}")
            found = {path.name: path}
            root_meta = metadata_of(path.parent)
        for rel, file in found.items():
            if file.is_relative_to(corpus):
                if corpus_meta is None:
                    corpus_meta = load_metadata(corpus)
                doc_id = file.relative_to(corpus).as_posix()
                files[doc_id] = (file, ORIGIN_CORPUS, corpus_meta.get(doc_id, ArticleMeta()))
            else:
                files[file.as_posix()] = (file, ORIGIN_EXTERNAL, root_meta.get(rel, ArticleMeta()))
    writer = StoreWriter(store)
    work = []
    for doc_id, (file, origin, given) in sorted(files.items()):
        before = store.document(doc_id)
        state = file_state(file, before.state if before else None)
        if before is not None and before.state.sha256 == state.sha256:
            if before.given != given:
                writer.update_labels([(doc_id, given, given.filled_from(before.derived))])
            continue
        work.append(Work(doc_id, origin, state, given, _file_loader(file), replaces=before is not None))
    report = ingest(writer, work, encoder, chunking=chunking, progress=progress, max_bytes=max_bytes)
    writer.finish()
    return report


def remove_ids(store: IndexStore, doc_ids: Sequence[str], corpus: Path | None = None) -> IngestReport:
    """Take the articles ``doc_ids`` out of the index.

    An article whose file is still in the corpus folder is recorded as removed, so that a later
    refresh (``qa index``) leaves it out until its file changes or it is added again.

    Raises:
        DocumentNotFoundError: an id names no indexed article (nothing is removed then).
    """
    doc_ids = list(dict.fromkeys(doc_ids))
    unknown = [d for d in doc_ids if store.document(d) is None]
    if unknown:
        import difflib

        known = store.document_ids()
        hints = {d: difflib.get_close_matches(d, known, n=1) for d in unknown}
        said = "; ".join(f"{d!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for d, h in hints.items())
        raise DocumentNotFoundError(
            f"no indexed article has the id {said}; nothing was removed. Article ids are file names "
            "relative to the corpus folder (or absolute paths for files added from elsewhere)"
        )
    writer = StoreWriter(store)
    skips = []
    for doc_id in doc_ids:
        doc = store.document(doc_id)
        if doc.origin == ORIGIN_CORPUS and corpus is not None and (Path(corpus) / doc_id).is_file():
            skips.append(Skip(doc_id, doc.origin, doc.state, "it was removed with qa remove (qa add brings it back)"))
        elif doc.origin == ORIGIN_SOURCE:
            skips.append(
                Skip(
                    doc_id,
                    doc.origin,
                    doc.state,
                    "it was removed with qa remove (it comes back when its source changes it)",
                )
            )
    writer.commit(remove=doc_ids, skip=skips)
    writer.finish()
    return IngestReport(removed=doc_ids)
