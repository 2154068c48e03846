"""Keeping an index in step with its sources: feeds, sitemaps, URL lists, WARC files and exports.

A source is recorded in the index (table ``sources``) when it is first added, and every sync
reads it again (:func:`sync_sources`). An article a source holds is taken in once: the commit
that takes it in also records, in ``source_items``, which source holds it and the *stamp* that
tells a changed version (the feed entry's update date, the sitemap's ``lastmod``, a hash of
the text in hand). Seen again with the same stamp, it is neither fetched nor encoded; with
another stamp, its page is fetched again, and it is re-encoded only when its text changed (a
changed article replaces its old version). An article reached by two URLs that differ only by
tracking parameters, ``www.``, AMP or the scheme has one canonical URL and is one article; one
with the text of an article already indexed (from another source, or the corpus folder) is left
out as its duplicate, by the content hash.

Crash-safe as the folder ingest is: articles are fetched as the ingest asks for them and
committed in batches, so killing a sync loses at most the batch in flight, and running it again
resumes (what was committed is recorded as seen).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from embeddings import Encoder

from ..collect import KINDS, Fetcher, Item, Page, guess_kind, is_url, list_items, read_item, source_name
from ..collect.sources import now, xml_kind
from ..errors import CorpusError, FetchError, SourceError, SourceNotFoundError, warn
from ..ingest.documents import Document, FileState
from ..ingest.passages import Chunking
from ..store.records import ORIGIN_SOURCE, KeptText
from ..store.store import IndexStore
from ..store.writer import StoreWriter
from .ingest import IngestReport, ingest, text_rules
from .reading import Work

__all__ = [
    "SourceRecord",
    "SyncReport",
    "add_source",
    "is_source",
    "list_sources",
    "remove_source",
    "resolve_kind",
    "sync_sources",
]

#: Errors kept per source from its last sync (the rest are counted).
_KEPT_ERRORS = 50


@dataclass(frozen=True)
class SourceRecord:
    """A recorded source: name, kind, where it is, its options, and how its last sync went."""

    id: int
    name: str
    kind: str
    location: str
    allow_private: bool
    added: str
    synced: str  # when last synced, ISO 8601 UTC ("" never)
    state: Mapping
    errors: tuple[str, ...]
    articles: int = 0  # indexed articles it holds


@dataclass
class SyncReport:
    """What one sync of one source did."""

    source: str
    listed: int = 0  # articles the source holds now
    unchanged: int = 0  # seen before with the same stamp: neither fetched nor encoded
    linked: int = 0  # already indexed (from another source, or fetched again unchanged)
    fetched: int = 0  # pages fetched
    fetch_seconds: float = 0.0  # spent fetching (the source and its pages), polite waits included
    failed: list[str] = field(default_factory=list)
    not_modified: bool = False  # the source itself said nothing changed (a 304, the same file)
    ingest: IngestReport = field(default_factory=IngestReport)
    seconds: float = 0.0

    def describe(self) -> str:
        if self.not_modified:
            return f"{self.source}: unchanged since the last sync"
        parts = [f"{self.listed} listed", f"{len(self.ingest.added)} added", f"{len(self.ingest.updated)} updated"]
        if self.unchanged or self.linked:
            parts.append(f"{self.unchanged + self.linked} already in")
        if self.ingest.skipped:
            parts.append(f"{len(self.ingest.skipped)} left out")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (see the warnings)")
        return f"{self.source}: {', '.join(parts)}; encoded {self.ingest.encoded} passage(s)"


# --------------------------------------------------------------------------- the record


def list_sources(store: IndexStore) -> list[SourceRecord]:
    """The sources recorded in the index, by name, with how many indexed articles each holds."""
    rows = store.db.execute(
        "SELECT s.id, s.name, s.kind, s.location, s.options, s.added, s.synced, s.state, s.errors, "
        "(SELECT COUNT(*) FROM source_items i JOIN documents d ON d.doc_id = i.doc_id WHERE i.source = s.id) "
        "FROM sources s ORDER BY s.name"
    ).fetchall()
    return [_record(row) for row in rows]


def _record(row) -> SourceRecord:
    id_, name, kind, location, options, added, synced, state, errors, articles = row
    return SourceRecord(
        id=id_,
        name=name,
        kind=kind,
        location=location,
        allow_private=bool(json.loads(options).get("allow_private")),
        added=added,
        synced=synced,
        state=json.loads(state),
        errors=tuple(json.loads(errors)),
        articles=articles,
    )


def _find(store: IndexStore, name: str) -> SourceRecord:
    records = list_sources(store)
    for record in records:
        if record.name == name or record.location == name:
            return record
    names = [r.name for r in records]
    raise SourceNotFoundError(
        f"no source named {name!r} in the index"
        + (f"; the sources are {', '.join(names)}" if names else "; add one with qa add FEED_OR_FILE")
    )


def is_source(location: str) -> bool:
    """Whether ``location`` names a source (a URL, or a feed, sitemap, URL list, WARC or export
    file) rather than an article file or a folder of them."""
    return is_url(location) or guess_kind(location) is not None


def resolve_kind(location: str, kind: str | None, fetcher: Fetcher | None) -> tuple[str, Page | None]:
    """The kind of the source at ``location``: ``kind`` when given, else told by its name or first
    bytes, else (for a URL) by what the server sends; with the page fetched to tell it (None when
    none was), so that reading the source does not fetch it again.

    Raises:
        SourceError: ``kind`` is unknown, or the kind cannot be told.
    """
    if kind is not None:
        if kind not in KINDS:
            raise SourceError(f"unknown kind of source {kind!r}; use one of {', '.join(KINDS)}")
        return kind, None
    found, page = guess_kind(location), None
    if found is None and is_url(location) and fetcher is not None:
        page = fetcher.get(location)
        head = page.body[:4096].lstrip()
        found = xml_kind(head)
        if found is None and page.is_html:
            raise SourceError(
                f"{location} is a web page, not a feed or sitemap; put page URLs in a text file, one a line, "
                "and add that file (qa add urls.txt)"
            )
    if found is None:
        raise SourceError(f"cannot tell what kind of source {location} is; pass --kind with one of {', '.join(KINDS)}")
    return found, page


def _record_source(
    store: IndexStore, location: str, kind: str, name: str | None, allow_private: bool
) -> tuple[SourceRecord, bool]:
    """The record of the source at ``location``, made when there is none; and whether it was made."""
    records = list_sources(store)
    for record in records:
        if record.location == location:
            if allow_private and not record.allow_private:
                with store.db.transaction() as conn:
                    conn.execute(
                        "UPDATE sources SET options = ? WHERE id = ?", (json.dumps({"allow_private": True}), record.id)
                    )
                record = replace(record, allow_private=True)
            return record, False
    taken = {r.name for r in records}
    if name is not None and name in taken:
        raise SourceError(f"a source is already named {name!r}; pass another --name")
    base = name or source_name(location)
    chosen, n = base, 2
    while chosen in taken:
        chosen, n = f"{base}-{n}", n + 1
    with store.db.transaction() as conn:
        conn.execute(
            "INSERT INTO sources(name, kind, location, options, added, synced, state, errors) "
            "VALUES (?, ?, ?, ?, ?, '', '{}', '[]')",
            (chosen, kind, location, json.dumps({"allow_private": allow_private}), now()),
        )
    return _find(store, chosen), True


# --------------------------------------------------------------------------- adding and syncing


def add_source(
    store: IndexStore,
    location: str | Path,
    encoder: Encoder,
    *,
    kind: str | None = None,
    name: str | None = None,
    allow_private: bool = False,
    fetch: Mapping | None = None,
    chunking: Chunking = Chunking(),
    progress: bool = True,
) -> SyncReport:
    """Record the source at ``location`` (a URL, or a file) and take its articles in.

    Args:
        location: a feed or sitemap URL, or a feed, sitemap, URL list, WARC, JSONL or CSV file.
        kind: one of :data:`~qa.collect.sources.KINDS`; told from the name or content when None.
        name: what ``qa sources`` calls it (default: host and path, or the file name).
        allow_private: fetch from private and loopback addresses too (kept for later syncs).
        fetch: options of the :class:`~qa.collect.fetch.Fetcher` (delay, timeout, retries...).

    Raises:
        SourceError: the source cannot be read at all, its kind cannot be told, or ``name`` is taken.
    """
    location = str(location)
    if not is_url(location):
        path = Path(location).expanduser()
        if not path.is_file():
            raise SourceError(f"{location} does not exist; pass a feed or sitemap URL, or a source file")
        location = str(path.resolve())
    with Fetcher(**{**(fetch or {}), "allow_private": allow_private}) as fetcher:
        kind, page = resolve_kind(location, kind, fetcher)
        if is_url(location) and kind not in ("feed", "sitemap"):
            raise SourceError(f"{location}: a {kind} source is read from a file; download it and add the file")
        record, new = _record_source(store, location, kind, name, allow_private)
        try:
            return _sync_one(store, record, encoder, fetcher, chunking=chunking, progress=progress, page=page)
        except SourceError:
            if new:  # a source that cannot be read at all is not recorded
                with store.db.transaction() as conn:
                    conn.execute("DELETE FROM source_items WHERE source = ?", (record.id,))
                    conn.execute("DELETE FROM sources WHERE id = ?", (record.id,))
            raise


def sync_sources(
    store: IndexStore,
    encoder: Encoder,
    *,
    names: Sequence[str] = (),
    refetch: bool = False,
    allow_private: bool = False,
    fetch: Mapping | None = None,
    chunking: Chunking = Chunking(),
    progress: bool = True,
) -> list[SyncReport]:
    """Read every recorded source (or those ``names``) again and take in what is new or changed.

    With ``refetch``, the source itself is read again even if it says it is unchanged, and every
    article's page is fetched again whatever its stamp; a text that did not change is not
    encoded. A source that fails is reported (a warning, and its errors in :func:`list_sources`)
    and the others go on.

    Raises:
        SourceNotFoundError: a name names no recorded source.
    """
    records = [_find(store, n) for n in names] if names else list_sources(store)
    reports = []
    for record in records:
        options = {**(fetch or {}), "allow_private": allow_private or record.allow_private}
        with Fetcher(**options) as fetcher:
            try:
                reports.append(
                    _sync_one(store, record, encoder, fetcher, chunking=chunking, progress=progress, refetch=refetch)
                )
            except SourceError as exc:
                warn(f"source {record.name}: {exc}")
                _finish_record(store, record, state=record.state, errors=[str(exc)])
                reports.append(SyncReport(record.name, failed=[str(exc)]))
    return reports


def _sync_one(
    store: IndexStore,
    record: SourceRecord,
    encoder: Encoder,
    fetcher: Fetcher,
    *,
    chunking: Chunking,
    progress: bool,
    refetch: bool = False,
    page: Page | None = None,
) -> SyncReport:
    started, fetching = time.perf_counter(), fetcher.seconds
    report = SyncReport(record.name)
    state = {} if refetch else record.state
    listing = list_items(record.kind, record.location, name=record.name, fetcher=fetcher, state=state, page=page)
    for message in listing.warnings:
        warn(message)
    if listing.unchanged:
        report.not_modified = True
        _finish_record(store, record, state=listing.state, errors=[])
        report.seconds, report.fetch_seconds = time.perf_counter() - started, fetcher.seconds - fetching
        return report
    report.listed = len(listing.items)
    seen = dict(store.db.execute("SELECT key, stamp FROM source_items WHERE source = ?", (record.id,)).fetchall())
    same_rules = store.db.get("rules") == text_rules(chunking)
    todo: list[Item] = []
    links: list[tuple[int, str, str, str]] = []  # already indexed: recorded without a commit of articles
    for item in listing.items:
        before = seen.get(item.doc_id)
        if before is not None and before == item.stamp and not refetch:
            report.unchanged += 1  # taken in (or left out for good) when it had this stamp
            continue
        known = store.document(item.doc_id) is not None
        if before is None and known and item.text is None and item.html is None and not refetch:
            links.append((record.id, item.doc_id, item.doc_id, item.stamp))  # another source's article: one article
            report.linked += 1
            continue
        todo.append(item)
    writer = StoreWriter(store)
    failures: list[str] = []
    work = _work(store, record, todo, fetcher, report, failures, links, same_rules=same_rules)
    ingest(writer, work, encoder, chunking=chunking, progress=progress, report=report.ingest, total=len(todo))
    writer.link(links)
    writer.finish()
    report.failed = failures
    _finish_record(store, record, state=listing.state, errors=listing.warnings + failures)
    report.seconds, report.fetch_seconds = time.perf_counter() - started, fetcher.seconds - fetching
    return report


def _work(
    store: IndexStore,
    record: SourceRecord,
    items: Sequence[Item],
    fetcher: Fetcher,
    report: SyncReport,
    failures: list[str],
    links: list[tuple[int, str, str, str]],
    *,
    same_rules: bool,
) -> Iterator[Work]:
    """The articles of ``items`` to ingest, each read (or fetched) as the ingest asks for it; one
    that fails is a warning, and is tried again at the next sync."""
    for item in items:
        try:
            document, page = read_item(item, fetcher)
            for message in document.warnings:  # an encoding guessed
                warn(f"source {record.name}: {message}")
        except (FetchError, CorpusError) as exc:
            message = str(exc) if str(exc).startswith(item.where) or item.url in str(exc) else f"{item.where}: {exc}"
            warn(f"source {record.name}: {message}")
            failures.append(message)
            continue
        if page is not None:
            report.fetched += 1
        raw = document.text.encode("utf-8")
        state = FileState(len(raw), time.time_ns(), hashlib.sha256(raw).hexdigest())
        before = store.document(document.doc_id)
        link = (record.id, item.doc_id, document.doc_id, item.stamp)
        if before is not None and before.state.sha256 == state.sha256 and same_rules:
            links.append(link)  # fetched again, the same text: nothing to encode
            report.linked += 1
            continue
        fetched = page.fetched if page is not None else (item.fetched or now())
        yield Work(
            document.doc_id,
            ORIGIN_SOURCE,
            state,
            item.meta,
            _loaded(document),
            replaces=before is not None,
            reuse=before is not None and before.state.sha256 == state.sha256,
            kept=KeptText("", record.name, fetched, document.author),
            links=(link,),
        )


def _loaded(document: Document) -> Callable[[], Document]:
    return lambda: document


def _finish_record(store: IndexStore, record: SourceRecord, *, state: Mapping, errors: Sequence[str]) -> None:
    kept = list(errors[:_KEPT_ERRORS])
    if len(errors) > _KEPT_ERRORS:
        kept.append(f"... and {len(errors) - _KEPT_ERRORS} more")
    with store.db.transaction() as conn:
        conn.execute(
            "UPDATE sources SET synced = ?, state = ?, errors = ? WHERE id = ?",
            (now(), json.dumps(dict(state)), json.dumps(kept), record.id),
        )


# --------------------------------------------------------------------------- removing


def remove_source(store: IndexStore, name: str, *, articles: bool = False) -> IngestReport:
    """Forget the source ``name``; with ``articles``, also take out the articles that no other
    source holds (those from the corpus folder or added as files stay).

    Raises:
        SourceNotFoundError: ``name`` names no recorded source.
    """
    record = _find(store, name)
    report = IngestReport()
    if articles:
        rows = store.db.execute(
            "SELECT i.doc_id FROM source_items i JOIN documents d ON d.doc_id = i.doc_id "
            "WHERE i.source = ? AND d.origin = ? AND NOT EXISTS "
            "(SELECT 1 FROM source_items o WHERE o.doc_id = i.doc_id AND o.source != i.source)",
            (record.id, ORIGIN_SOURCE),
        ).fetchall()
        doomed = sorted(r[0] for r in rows)
        writer = StoreWriter(store)
        for at in range(0, len(doomed), 500):
            writer.commit(remove=doomed[at : at + 500])
        writer.finish()
        report.removed = doomed
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM source_items WHERE source = ?", (record.id,))
        conn.execute("DELETE FROM sources WHERE id = ?", (record.id,))
    return report
