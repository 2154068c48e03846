"""Sources of articles besides a corpus folder: what each holds, read into :class:`Item`s.

Kinds:

- ``feed``: an RSS or Atom feed, by URL or file (feedparser). Each entry's page is fetched and
  extracted; the entry's title, date, author and link are its metadata.
- ``sitemap``: a sitemap, a news sitemap or a sitemap index, by URL or file.
- ``urls``: a text file of article URLs, one a line (``#`` starts a comment).
- ``warc``: a WARC file, gzipped or not (warcio): each HTML response is an article, dated by
  its page or else by its capture.
- ``jsonl`` and ``csv``: exports, gzipped or not, with a ``text`` field or column and optional
  ``title``, ``date``, ``outlet``, ``url``, ``id`` (``author``, ``source`` too).

Reading a source lists its items without fetching any page: an item carries its text (exports,
WARC) or the URL to fetch (feeds, sitemaps, URL lists), and a *stamp* that changes when the
article does (the entry's update date, the sitemap's ``lastmod``, or a hash of the text in
hand). Whatever is wrong with one entry (a line that is not JSON, a bad date, a record cut
short, an entry pointing at the feed itself) is a warning naming the source and the line or
URL; the rest is read. What makes a whole source unusable raises :class:`SourceError`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ..errors import CorpusError, FetchError, SourceError
from ..ingest.documents import ArticleMeta, Document, document_from_html, document_from_text, parse_date
from .fetch import Fetcher, Page, decode_page
from .urls import canonical_url, clean_url, host_of, is_url

__all__ = [
    "EXPORT_FIELDS",
    "KINDS",
    "Item",
    "Listing",
    "guess_kind",
    "list_items",
    "read_item",
    "source_name",
    "xml_kind",
]

KINDS = ("feed", "sitemap", "urls", "warc", "jsonl", "csv")
#: The fields an export may give; ``text`` is required.
EXPORT_FIELDS = ("text", "title", "date", "outlet", "url", "id", "author", "source")
_SITEMAP_DEPTH = 3


@dataclass(frozen=True)
class Item:
    """One article a source holds: its id in the index, what tells a changed version, and either
    its text (``text`` or ``html`` in hand) or the ``url`` to fetch."""

    doc_id: str  # the canonical URL, or SOURCE/ID (SOURCE/line-N) for an export row with no URL
    stamp: str  # changes when the article does ("" when the source does not say)
    where: str  # for warnings: "SOURCE line 3", "SOURCE entry 2 (URL)"
    meta: ArticleMeta = field(default_factory=ArticleMeta)
    url: str = ""
    text: str | None = None
    html: bytes | None = None
    charset: str | None = None
    author: str = ""
    fetched: str = ""  # when the text in hand was captured (a WARC record's date), ISO 8601


@dataclass
class Listing:
    """What reading a source gave: its items, the warnings about single entries, and the state to
    send next time (a feed's ETag, a file's size and hash); ``unchanged`` when the source said it
    has not changed since that state (a 304, or the same file)."""

    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)
    unchanged: bool = False


def guess_kind(location: str) -> str | None:
    """The kind of source at ``location`` from its name (and, for a local file, its first bytes);
    None when it looks like an article file or folder, or cannot be told."""
    lower = location.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith((".warc", ".arc")):
        return "warc"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".rss", ".atom")):
        return "feed"
    if is_url(location):
        return None  # told by what the server sends: see list_items
    path = Path(location)
    if not path.is_file():
        return None
    head = _open_bytes(path)[:4096].lstrip()
    if lower.endswith(".xml") or head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<urlset")):
        return xml_kind(head) or ("feed" if lower.endswith(".xml") else None)
    if lower.endswith(".txt"):
        lines = [line.strip() for line in head.decode("utf-8", "replace").splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("#")]
        urls = sum(1 for line in lines[:20] if is_url(line))
        if lines and is_url(lines[0]) and urls * 2 > len(lines[:20]):  # an article never is mostly bare URLs
            return "urls"
    return None


def xml_kind(head: bytes) -> str | None:
    """``sitemap`` or ``feed`` from the first bytes of an XML document, or None."""
    if re.search(rb"<(?:\w+:)?(?:urlset|sitemapindex)\b", head):
        return "sitemap"
    if re.search(rb"<(?:\w+:)?(?:rss|feed|RDF)\b", head):
        return "feed"
    return None


def source_name(location: str) -> str:
    """A short default name for a source: host and path for a URL, the file name for a file."""
    if is_url(location):
        from urllib.parse import urlsplit

        parts = urlsplit(location)
        return (host_of(location) + parts.path.rstrip("/")) or location
    return Path(location).name


# --------------------------------------------------------------------------- listing


def list_items(
    kind: str,
    location: str,
    *,
    name: str,
    fetcher: Fetcher | None,
    state: dict | None = None,
    page: Page | None = None,
) -> Listing:
    """Read the source ``location`` of ``kind`` (see :data:`KINDS`) into items, without fetching
    any article page. ``state`` is what the last reading returned (a feed's ETag, a file's hash):
    an unchanged source comes back with ``unchanged`` set and no items. ``page`` is the source's
    own page when it was fetched already (to tell its kind); it is not fetched again.

    Raises:
        SourceError: the source cannot be read at all (a missing file, a feed or sitemap that
            cannot be fetched or parsed, a CSV with no ``text`` column).
    """
    state = state or {}
    if kind not in KINDS:
        raise SourceError(f"{location}: unknown kind of source {kind!r}; use one of {', '.join(KINDS)}")
    listing = Listing()
    if is_url(location):
        if kind not in ("feed", "sitemap"):
            raise SourceError(f"{location}: a {kind} source is read from a file; download it and add the file")
        if fetcher is None:
            raise SourceError(f"{location}: fetching is needed to read this source")
        if page is None:
            page = fetcher.get(location, etag=state.get("etag", ""), last_modified=state.get("last_modified", ""))
        listing.state = {"etag": page.etag, "last_modified": page.last_modified}
        if page.not_modified:
            listing.unchanged, listing.state = True, state
            return listing
        body = page.body
    else:
        path = Path(location)
        if not path.is_file():
            raise SourceError(f"{location} does not exist (or is not a file); check the path, or qa sources remove it")
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        listing.state = {"sha256": digest, "size": len(raw)}
        if state.get("sha256") == digest:
            listing.unchanged = True
            return listing
        body = _gunzip(raw, location) if kind != "warc" else raw
    reader = {
        "feed": _feed_items,
        "sitemap": _sitemap_items,
        "urls": _url_list_items,
        "warc": _warc_items,
        "jsonl": _jsonl_items,
        "csv": _csv_items,
    }[kind]
    seen: set[str] = set()
    for item in reader(body, location=location, name=name, fetcher=fetcher, warn=listing.warnings.append):
        if item.doc_id in seen:
            continue  # the same article twice in one source: once is enough
        seen.add(item.doc_id)
        listing.items.append(item)
    return listing


def _gunzip(raw: bytes, location: str) -> bytes:
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        # a gzip cut short: keep what can be read
        out = io.BytesIO()
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                while chunk := fh.read(65536):
                    out.write(chunk)
        except (OSError, EOFError):
            pass
        if not out.getvalue():
            raise SourceError(f"{location} is not a readable gzip file ({exc}); check the file") from exc
        return out.getvalue()


def _open_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(65536)
        except (OSError, EOFError):
            return b""
    return head


def _date(value, where: str, warn: Callable[[str], None]) -> str:
    """An ISO date from what a source gives (text, a struct_time), or "" with a warning."""
    if value in (None, ""):
        return ""
    if hasattr(value, "tm_year"):
        return f"{value.tm_year:04d}-{value.tm_mon:02d}-{value.tm_mday:02d}"
    text = str(value).strip()
    day = parse_date(text)
    if day is None:
        try:
            import dateparser

            found = dateparser.parse(text, settings={"STRICT_PARSING": True, "PREFER_DAY_OF_MONTH": "first"})
        except (ValueError, TypeError, OverflowError):
            found = None
        day = found.date().isoformat() if found else None
    if day is None:
        warn(f"{where}: the date {text[:40]!r} cannot be read; the article goes in undated")
        return ""
    return day


# --------------------------------------------------------------------------- feeds


def _feed_items(body: bytes, *, location: str, name: str, fetcher, warn) -> Iterator[Item]:
    import feedparser

    parsed = feedparser.parse(body)
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries:
        problem = parsed.get("bozo_exception")
        raise SourceError(f"{location} is not a readable RSS or Atom feed ({problem}); check the URL or file")
    if parsed.get("bozo"):
        warn(
            f"{location}: the feed is malformed ({parsed.get('bozo_exception')}); the entries that could be read go in"
        )
    feed_url = canonical_url(location) if is_url(location) else ""
    self_links = {
        canonical_url(link.get("href", "")) for link in parsed.feed.get("links", []) if link.get("rel") == "self"
    }
    for n, entry in enumerate(entries, 1):
        link = entry.get("link") or ""
        if not link and is_url(entry.get("id", "")):
            link = entry["id"]
        where = f"{location} entry {n}"
        if not is_url(link):
            warn(f"{where} has no http(s) link; it was left out")
            continue
        key = canonical_url(link)
        if key == feed_url or key in self_links:
            warn(f"{where} points at the feed itself ({link}); it was left out")
            continue
        with warnings.catch_warnings():  # feedparser warns of its own updated -> published fallback
            warnings.simplefilter("ignore", DeprecationWarning)
            stamp = entry.get("updated") or entry.get("published") or ""
            day = _date(entry.get("published_parsed") or entry.get("updated_parsed"), f"{where} ({link})", warn)
        yield Item(
            doc_id=key,
            stamp=stamp,
            where=f"{where} ({link})",
            meta=ArticleMeta(title=_plain(entry.get("title", "")), date=day, url=link),
            url=link,
            author=entry.get("author", ""),
        )


def _plain(text: str) -> str:
    """Feed titles may carry markup and entities."""
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text or "")).split())


# --------------------------------------------------------------------------- sitemaps


def _sitemap_items(
    body: bytes, *, location: str, name: str, fetcher, warn, depth: int = 0, seen=None
) -> Iterator[Item]:
    from lxml import etree

    seen = seen if seen is not None else {canonical_url(location)}
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{location} is not a readable sitemap ({exc}); check the URL or file") from exc
    if root is None:
        raise SourceError(f"{location} is not a readable sitemap (no XML in it); check the URL or file")
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        for n, loc in enumerate(root.iter("{*}loc"), 1):
            url = (loc.text or "").strip()
            where = f"{location} sitemap {n} ({url})"
            if canonical_url(url) in seen:
                warn(f"{where} was listed already (a sitemap pointing at itself?); it was read once")
                continue
            seen.add(canonical_url(url))
            if depth >= _SITEMAP_DEPTH or fetcher is None or not is_url(url):
                warn(f"{where} was not read (sitemaps nest at most {_SITEMAP_DEPTH} deep, over http(s))")
                continue
            try:
                page = fetcher.get(url)
                yield from _sitemap_items(
                    _gunzip(page.body, url),
                    location=url,
                    name=name,
                    fetcher=fetcher,
                    warn=warn,
                    depth=depth + 1,
                    seen=seen,
                )
            except (FetchError, SourceError) as exc:
                warn(f"{where}: {exc}")
        return
    if tag != "urlset":
        raise SourceError(f"{location} is not a sitemap (its root is <{tag}>, not <urlset> or <sitemapindex>)")
    for n, node in enumerate(root.iter("{*}url"), 1):
        loc = node.find("{*}loc")
        url = (loc.text or "").strip() if loc is not None else ""
        where = f"{location} url {n}"
        if not is_url(url):
            warn(f"{where} has no http(s) <loc>; it was left out")
            continue
        lastmod = _text(node, "{*}lastmod")
        published = _text(node, "{*}news/{*}publication_date")
        title = _text(node, "{*}news/{*}title")
        outlet = _text(node, "{*}news/{*}publication/{*}name")
        day = _date(published or lastmod, f"{where} ({url})", warn)
        yield Item(
            doc_id=canonical_url(url),
            stamp=lastmod or published,
            where=f"{where} ({url})",
            meta=ArticleMeta(title=title, outlet=outlet, date=day, url=url),
            url=url,
        )


def _text(node, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


# --------------------------------------------------------------------------- URL lists


def _url_list_items(body: bytes, *, location: str, name: str, fetcher, warn) -> Iterator[Item]:
    text, note = decode_page(body, None, name=location)
    if note:
        warn(note)
    for n, line in enumerate(text.splitlines(), 1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        if not is_url(url):
            warn(f"{location} line {n} is not an http(s) URL ({url[:60]!r}); it was left out")
            continue
        yield Item(
            doc_id=canonical_url(url),
            stamp="",
            where=f"{location} line {n} ({url})",
            meta=ArticleMeta(url=url),
            url=url,
        )


# --------------------------------------------------------------------------- WARC


def _warc_items(body: bytes, *, location: str, name: str, fetcher, warn) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    stream = io.BytesIO(body)
    try:
        for record in ArchiveIterator(stream):
            n += 1
            if record.rec_type not in ("response", "resource"):
                continue
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            where = f"{location} record {n} ({url})"
            kind, charset = "", None
            if record.rec_type == "response":
                if record.http_headers is None:
                    continue
                status = record.http_headers.get_statuscode()
                if not status or not status.startswith("2"):
                    continue
                kind = record.http_headers.get_header("Content-Type") or ""
            else:
                kind = record.rec_headers.get_header("Content-Type") or ""
            media, _, params = kind.partition(";")
            found = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.IGNORECASE)
            charset = found.group(1) if found else None
            payload = record.content_stream().read()
            if getattr(record.raw_stream, "limit", 0) > 0:  # the file ends inside this record
                warn(f"{location} is cut short in record {n} ({url}); that record is left out, the ones before go in")
                break
            if media.strip().lower() not in ("text/html", "application/xhtml+xml", ""):
                continue
            if not is_url(url):
                warn(f"{where} has no http(s) target URI; it was left out")
                continue
            captured = record.rec_headers.get_header("WARC-Date") or ""
            yield Item(
                doc_id=canonical_url(url),
                stamp=hashlib.sha256(payload).hexdigest(),
                where=where,
                meta=ArticleMeta(url=url),
                url=url,
                html=payload,
                charset=charset,
                fetched=captured,
            )
    except Exception as exc:  # warcio raises many kinds (ArchiveLoadFailed, EOFError, zlib errors)
        why = f"{type(exc).__name__}: {exc}"
        warn(f"{location} is cut short or damaged after record {n} ({why}); the records before it go in")


# --------------------------------------------------------------------------- exports


def _jsonl_items(body: bytes, *, location: str, name: str, fetcher, warn) -> Iterator[Item]:
    text, note = decode_page(body, None, name=location)
    if note:
        warn(note)
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            warn(f"{location} line {n} is not JSON ({exc.args[0][:60] if exc.args else exc}); it was left out")
            continue
        if not isinstance(row, dict):
            warn(f"{location} line {n} is not a JSON object; it was left out")
            continue
        item = _export_item(row, location=location, name=name, n=n, warn=warn)
        if item is not None:
            yield item


def _csv_items(body: bytes, *, location: str, name: str, fetcher, warn) -> Iterator[Item]:
    text, note = decode_page(body, None, name=location)
    if note:
        warn(note)
    csv.field_size_limit(50_000_000)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "text" not in columns:
        raise SourceError(
            f"{location} has no 'text' column (its columns are {', '.join(columns) or 'none'}); "
            f"name the article text column 'text' (optional: {', '.join(EXPORT_FIELDS[1:])})"
        )
    try:
        for row in reader:
            n = reader.line_num
            clean = {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
            item = _export_item(clean, location=location, name=name, n=n, warn=warn)
            if item is not None:
                yield item
    except csv.Error as exc:
        warn(f"{location} line {reader.line_num} is not valid CSV ({exc}); the rows before it go in")


def _export_item(row: dict, *, location: str, name: str, n: int, warn) -> Item | None:
    where = f"{location} line {n}"
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        warn(f"{where} has no text; it was left out")
        return None
    fields = {}
    for key in ("title", "outlet", "url", "id", "author", "source"):
        value = row.get(key)
        fields[key] = "" if value is None else str(value).strip()
    url = fields["url"] if is_url(fields["url"]) else ""
    if fields["url"] and not url:
        warn(f"{where}: url {fields['url'][:60]!r} is not an http(s) URL; it was kept as the article's id only")
    if url:
        doc_id = canonical_url(url)
    elif fields["id"]:
        doc_id = f"{name}/{fields['id']}"
    else:
        doc_id = f"{name}/line-{n}"
    outlet = fields["outlet"] or fields["source"] or (host_of(url) if url else "")
    return Item(
        doc_id=doc_id,
        stamp=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        where=where,
        meta=ArticleMeta(
            title=fields["title"], outlet=outlet, date=_date(row.get("date"), where, warn), url=clean_url(url)
        ),
        url=url,
        text=text,
        author=fields["author"],
    )


# --------------------------------------------------------------------------- reading one


def read_item(item: Item, fetcher: Fetcher | None) -> tuple[Document, Page | None]:
    """The article of ``item``: its text in hand, or its page fetched and extracted; with the page
    (None when nothing was fetched). An encoding that had to be guessed is in the document's
    ``warnings``.

    Raises:
        FetchError: the page cannot be fetched (robots.txt, an address, an HTTP error, the cap).
        CorpusError: the page or text holds no article text (not HTML, nothing extracted).
    """
    if item.text is not None:
        document = document_from_text(item.text, doc_id=item.doc_id, meta=item.meta)
        return replace(document, author=item.author), None
    page = None
    if item.html is not None:
        body, charset, final = item.html, item.charset, item.url
    else:
        if fetcher is None:
            raise FetchError(f"{item.url}: fetching is needed to read this article")
        page = fetcher.get(item.url)
        if not page.is_html:
            raise CorpusError(f"{item.where}: {page.url} is not an HTML page ({page.content_type or 'no type'})")
        body, charset, final = page.body, page.charset, page.url
    html, note = decode_page(body, charset, name=final)
    meta = replace(item.meta, url=clean_url(final))
    doc_id = canonical_url(final) if page is not None else item.doc_id  # a redirect: the article is where it ended
    document = document_from_html(html, doc_id=doc_id, meta=meta, url=final, notes=(note,) if note else ())
    # the lowest fallbacks: the site's host for the outlet, the capture's day for the date
    found = replace(
        document.meta, outlet=document.meta.outlet or host_of(final), date=document.meta.date or item.fetched[:10]
    )
    return replace(document, meta=found, author=item.author or document.author), page


def now() -> str:
    """The time now, ISO 8601 UTC, as sources record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")
