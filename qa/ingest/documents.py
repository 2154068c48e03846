"""Articles on disk -> :class:`Document`: decoded source text, metadata, and clean blocks.

A document keeps its *source text* (the file decoded as UTF-8; for HTML, the article
text that trafilatura extracts) and a list of *blocks*: the character spans of that text
that are article content. Web-page debris ("spot_img", "Related Posts", breadcrumbs,
font-size widgets, bare date lines...) is left out of the blocks but stays in the source
text, so every offset downstream points into the original text.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from ..errors import ArticleGoneError, CorpusError, MetadataError, warn
from .names import ALIAS_FILE

__all__ = [
    "ARTICLE_SUFFIXES",
    "KINDS",
    "METADATA_FILE",
    "ArticleMeta",
    "Block",
    "CorpusFolder",
    "Document",
    "FileState",
    "Source",
    "clean_blocks",
    "document_from_html",
    "document_from_text",
    "load_document",
    "load_metadata",
    "scan_corpus",
]

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
METADATA_FILE = "metadata.toml"
KINDS = ("report", "interview", "opinion")
_META_FIELDS = ("title", "outlet", "date", "url", "kind", "notes")


@dataclass(frozen=True)
class ArticleMeta:
    """What is known about an article; empty strings where the article does not say."""

    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    kind: str = ""

    def filled_from(self, other: ArticleMeta) -> ArticleMeta:
        """These fields, each empty one taken from ``other`` (given metadata over what the text shows)."""
        return ArticleMeta(**{k: v or getattr(other, k) for k, v in asdict(self).items()})


@dataclass(frozen=True)
class Block:
    """A span of article content in the source text: a paragraph or a heading."""

    start: int
    end: int
    heading: bool = False


@dataclass(frozen=True)
class Document:
    """One article: its id (file name relative to the corpus), source text and clean blocks."""

    doc_id: str
    text: str
    blocks: tuple[Block, ...]
    meta: ArticleMeta
    warnings: tuple[str, ...] = ()
    dropped: tuple[tuple[int, int, str], ...] = field(default=(), repr=False)
    author: str = ""  # the byline a web page states, when read from HTML


@dataclass(frozen=True)
class FileState:
    """What identifies a version of a file: size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str


# --------------------------------------------------------------------------- sources


class Source(Protocol):
    """Where articles come from: a corpus folder, or a benchmark's JSONL corpus."""

    location: Path

    def scan(self, previous: Mapping[str, FileState]) -> dict[str, FileState]:
        """Every article's id and version; ``previous`` versions let unchanged files skip hashing."""
        ...

    def metadata(self) -> dict[str, ArticleMeta]:
        """Metadata given by the user, by article id."""
        ...

    def load(self, doc_id: str) -> Document:
        """The article, with metadata derived from its text only."""
        ...

    def state(self, doc_id: str, previous: FileState | None = None) -> FileState | None:
        """One article's current version (``previous`` lets an unchanged file skip hashing), or
        None when it is gone."""
        ...


class CorpusFolder:
    """A folder of .txt, .md and .html articles with an optional ``metadata.toml``.

    With ``optional``, a folder that does not exist or holds no article is read as holding none
    (for an index whose articles all come from sources or other folders); otherwise it is an error.
    """

    def __init__(self, folder: str | Path, *, optional: bool = False) -> None:
        self.location = Path(folder).resolve()
        self.optional = optional
        self._files: dict[str, Path] = {}

    def scan(self, previous: Mapping[str, FileState]) -> dict[str, FileState]:
        self._files = {}
        if self.optional and not self.location.exists():
            return {}
        try:
            self._files = scan_corpus(self.location)
        except CorpusError:
            if self.optional and self.location.is_dir():  # a folder with no article in it
                return {}
            raise
        states = {}
        for doc_id, path in self._files.items():
            try:
                states[doc_id] = file_state(path, previous.get(doc_id))
            except FileNotFoundError:
                warn(f"{doc_id} vanished while the corpus was scanned; it was left out")
        return states

    def metadata(self) -> dict[str, ArticleMeta]:
        meta = load_metadata(self.location) if self.location.is_dir() else {}
        files = self._files if self._files or self.optional else scan_corpus(self.location)
        for name in sorted(set(meta) - set(files)):
            warn(f"{METADATA_FILE} has an entry for {name!r}, but no such article is in {self.location}")
        return meta

    def load(self, doc_id: str) -> Document:
        return load_document(self.location, doc_id)

    def state(self, doc_id: str, previous: FileState | None = None) -> FileState | None:
        path = self.location / doc_id
        return file_state(path, previous) if path.is_file() else None


# --------------------------------------------------------------------------- reading


def scan_corpus(folder: Path) -> dict[str, Path]:
    """Map doc id (path relative to ``folder``, POSIX style) to file, for every article.

    Raises:
        CorpusError: the folder is missing, not a folder, or holds no article file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(
            f"corpus folder {str(folder)!r} does not exist; create it and put articles "
            f"(.txt, .md or .html) in it, or pass another folder with --corpus"
        )
    if not folder.is_dir():
        raise CorpusError(
            f"corpus path {str(folder)!r} is a file, not a folder; pass the folder that holds the articles"
        )
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() in ARTICLE_SUFFIXES:
            found[rel.as_posix()] = path
        elif rel.as_posix() not in (METADATA_FILE, ALIAS_FILE):  # the corpus's own settings
            ignored.append(rel.as_posix())
    if ignored:
        warn(
            f"ignored {len(ignored)} file(s) in {folder} that are not articles "
            f"(.txt, .md, .html): {', '.join(ignored[:5])}{' ...' if len(ignored) > 5 else ''}"
        )
    if not found:
        raise CorpusError(f"corpus folder {str(folder)!r} holds no article; add .txt, .md or .html files to it")
    return found


def file_state(path: Path, previous: FileState | None = None) -> FileState:
    """Size, mtime and SHA-256 of a file; the hash is reused when size and mtime match ``previous``."""
    st = path.stat()
    if previous is not None and previous.size == st.st_size and previous.mtime_ns == st.st_mtime_ns:
        return previous
    return FileState(st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())


def looks_binary(raw: bytes) -> bool:
    """Whether file bytes are not text at all: a NUL byte, or many control bytes, in the first 8 KB."""
    head = raw[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and control * 10 > len(head)


def _decode(raw: bytes, name: str) -> tuple[str, list[str]]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if looks_binary(raw):
        raise CorpusError(
            f"{name} is a binary file, not text; convert it to .txt, .md or .html, or move it out of the corpus"
        )
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        message = (
            f"{name} is not valid UTF-8 (first bad byte at offset {exc.start}); it was decoded "
            f"with U+FFFD replacement characters. Re-save it as UTF-8 to index it exactly."
        )
        warn(message)
        return raw.decode("utf-8", errors="replace"), [message]


def _html_to_text(html: str, name: str, url: str | None = None) -> tuple[str, ArticleMeta, str]:
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_precision=True)
    found = trafilatura.extract_metadata(html, default_url=url)
    meta, author = ArticleMeta(), ""
    if found is not None:
        meta = ArticleMeta(
            title=found.title or "",
            outlet=found.sitename or "",
            date=found.date or "",
            url=found.url or "",
        )
        author = found.author or ""
    if not text or not text.strip():
        raise CorpusError(f"{name}: no article text could be extracted from this HTML page")
    return text, meta, author


def document_from_html(
    html: str, *, doc_id: str, meta: ArticleMeta | None = None, url: str | None = None, notes: tuple[str, ...] = ()
) -> Document:
    """A web page's article: its text as trafilatura extracts it, cleaned as an ``.html`` file is,
    with ``meta`` (given) filled from the page's own metadata (title, site name, date, canonical URL)
    and its byline in ``author``.

    Raises:
        CorpusError: no article text can be extracted from the page.
    """
    text, found, author = _html_to_text(html, doc_id, url)
    document = _document(doc_id, text, found, meta, list(notes), markdown=False)
    return replace(document, author=author)


def load_document(folder: Path, doc_id: str, meta: ArticleMeta | None = None) -> Document:
    """Read one article, decode it, extract HTML, and find its content blocks.

    Args:
        folder: the corpus folder.
        doc_id: the article's path relative to ``folder``.
        meta: its entry in the metadata file, if any; missing fields are filled from the text.

    Raises:
        CorpusError: the file cannot be read or holds no text.
    """
    path = Path(folder) / doc_id
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ArticleGoneError(f"article {doc_id} vanished before it could be read; it was left out") from exc
    except OSError as exc:
        raise CorpusError(f"cannot read article {doc_id}: {exc.strerror}; check its permissions") from exc
    if not raw.strip():
        raise CorpusError(f"article {doc_id} is an empty file; write the article into it or delete it")
    text, notes = _decode(raw, doc_id)
    found = ArticleMeta()
    if path.suffix.lower() in (".html", ".htm"):
        text, found, _ = _html_to_text(text, doc_id)
    return _document(doc_id, text, found, meta, notes, markdown=path.suffix.lower() in (".md", ".markdown"))


def document_from_text(
    text: str, *, doc_id: str = "text", meta: ArticleMeta | None = None, notes: tuple[str, ...] = ()
) -> Document:
    """An article given as a string (plain text: the title line, paragraphs), cleaned as a ``.txt`` file is.

    Raises:
        CorpusError: ``text`` holds no article text once page debris is removed.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    return _document(doc_id, text, ArticleMeta(), meta, list(notes), markdown=False)


def _document(
    doc_id: str, text: str, found: ArticleMeta, meta: ArticleMeta | None, notes: list[str], *, markdown: bool
) -> Document:
    blocks, dropped = clean_blocks(text, markdown=markdown)
    if not blocks:
        raise CorpusError(f"article {doc_id} has no text once page debris is removed; check the file")
    found = _fill_from_text(found, text, blocks, dropped)
    meta = (meta or ArticleMeta()).filled_from(found)
    return Document(doc_id, text, tuple(blocks), meta, tuple(notes), tuple(dropped))


def _fill_from_text(
    found: ArticleMeta, text: str, blocks: list[Block], dropped: list[tuple[int, int, str]]
) -> ArticleMeta:
    title = found.title
    if not title and blocks[0].heading:
        title = text[blocks[0].start : blocks[0].end]
    day = found.date
    if not day:
        for start, end, reason in dropped:
            if reason in ("date line", "widget"):
                day = parse_date(text[start:end]) or ""
                if day:
                    break
    return ArticleMeta(title=title, outlet=found.outlet, date=day, url=found.url, kind=found.kind)


# --------------------------------------------------------------------------- metadata


def load_metadata(folder: Path) -> dict[str, ArticleMeta]:
    """Read ``metadata.toml`` in the corpus folder; an absent file means no metadata.

    Raises:
        MetadataError: the file is not valid TOML, or a field has a bad value.
    """
    path = Path(folder) / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{path} is not UTF-8 text; re-save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(f"{path} is not valid TOML ({exc}); fix that line") from exc
    out: dict[str, ArticleMeta] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise MetadataError(
                f'{path}: "{name}" must be a table such as ["{name}"] with title = "...", outlet = "..."'
            )
        unknown = sorted(set(entry) - set(_META_FIELDS))
        if unknown:
            raise MetadataError(
                f"{path}: entry {name!r} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(_META_FIELDS)}"
            )
        values = {}
        for key in ("title", "outlet", "date", "url", "kind"):
            value = entry.get(key, "")
            if isinstance(value, date):
                value = value.isoformat()
            if not isinstance(value, str):
                raise MetadataError(f"{path}: {name}.{key} must be a string, not {value!r}")
            values[key] = value.strip()
        if values["kind"] and values["kind"] not in KINDS:
            raise MetadataError(
                f"{path}: {name}.kind is {values['kind']!r}; use one of {', '.join(KINDS)} or leave it empty"
            )
        if values["date"] and parse_date(values["date"]) != values["date"]:
            raise MetadataError(f"{path}: {name}.date is {values['date']!r}; write it as YYYY-MM-DD or leave it empty")
        out[name] = ArticleMeta(**values)
    return out


_DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%A, %B %d, %Y", "%d.%m.%Y", "%Y/%m/%d")
_DATE_IN_LINE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,\s+)?[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4}"
    r"|\d{1,2}\s+[A-Z][a-z]+\s+\d{4}"
)


def parse_date(text: str) -> str | None:
    """The first calendar date written in ``text``, as YYYY-MM-DD, or None."""
    for match in _DATE_IN_LINE.finditer(text):
        candidate = match.group(0).strip()
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    return None


# --------------------------------------------------------------------------- cleaning

_BOILERPLATE = {
    "advertisement",
    "all rights reserved",
    "back to top",
    "comments",
    "editor's picks",
    "follow us",
    "home",
    "latest",
    "latest news",
    "leave a comment",
    "leave a reply",
    "load more",
    "log in",
    "login",
    "menu",
    "more stories",
    "most popular",
    "most read",
    "newsletter",
    "next article",
    "popular",
    "popular articles",
    "popular posts",
    "previous article",
    "print",
    "read also",
    "read more",
    "recommended",
    "related",
    "related articles",
    "related news",
    "related posts",
    "related stories",
    "search",
    "see also",
    "share",
    "share this",
    "share this article",
    "sign up",
    "skip to content",
    "sponsored",
    "subscribe",
    "tags",
    "top stories",
    "trending",
    "trending now",
    "you may also like",
    "you might also like",
}
_SHARE_WORDS = {
    "facebook",
    "twitter",
    "x",
    "telegram",
    "whatsapp",
    "linkedin",
    "email",
    "reddit",
    "pinterest",
    "copy",
    "link",
}
_TEMPLATE_TOKEN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
_BREADCRUMB = re.compile(r"^\s*(?:home|main|start)\s*[>»›/|]|(?:\s[>»›]\s.*){2,}", re.IGNORECASE)
_COUNTER = re.compile(r"^\d+\s+(?:min(?:ute)?s?\s+read|comments?|shares?|views?|likes?)$", re.IGNORECASE)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)", re.IGNORECASE)
_WORD = re.compile(r"^[^\W\d_]+(?:['’.\-][^\W\d_]+)*[.,:;!?]?$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_MD_PREFIX = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)")
_MD_JUNK = re.compile(r"^(?:!\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\([^)]*\)|[-*_]{3,}|\|.*\|)$")


def debris_reason(line: str) -> str | None:
    """Why a line of page text is debris rather than article content, or None if it is content."""
    stripped = line.strip()
    simple = re.sub(r"[^\w\s']", " ", stripped.lower()).split()
    joined = " ".join(simple)
    if not simple:
        return "symbols only"
    if joined in _BOILERPLATE:
        return "boilerplate"
    if all(_TEMPLATE_TOKEN.match(tok) for tok in simple):
        return "template placeholder"
    if set(simple) <= _SHARE_WORDS:
        return "share buttons"
    if _BREADCRUMB.search(stripped):
        return "breadcrumb"
    if _COUNTER.match(stripped) or _COPYRIGHT.match(stripped):
        return "page furniture"
    tokens = stripped.split()
    if not _SENTENCE_END.search(stripped) and len(tokens) <= 12:
        if parse_date(stripped) and _is_date_only(stripped):
            return "date line"
        words = sum(1 for tok in tokens if _WORD.match(tok))
        if words * 2 < len(tokens):
            return "widget"
    return None


def _is_date_only(line: str) -> bool:
    rest = _DATE_IN_LINE.sub(" ", line)
    rest = re.sub(r"(?i)\b(?:date|published|updated|posted|on|at|\d{1,2}:\d{2}(?:\s*[ap]m)?|gmt|utc)\b", " ", rest)
    return not re.search(r"[^\W\d_]{2,}", rest)


def _is_heading(line: str) -> bool:
    words = line.split()
    return len(words) <= 20 and not _SENTENCE_END.search(line) and not line.endswith((":", ",", ";"))


def clean_blocks(text: str, *, markdown: bool = False) -> tuple[list[Block], list[tuple[int, int, str]]]:
    """Split ``text`` into content blocks (one per non-empty line) and dropped debris lines.

    Returns:
        The content blocks, and the dropped lines as ``(start, end, reason)``; all offsets
        index into ``text``.
    """
    blocks: list[Block] = []
    dropped: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        body = line.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        body = body.strip()
        if not body:
            continue
        begin = start + lead
        if markdown:
            if _MD_JUNK.match(body):
                dropped.append((begin, begin + len(body), "markdown markup"))
                continue
            prefix = _MD_PREFIX.match(body)
            if prefix:
                begin += prefix.end()
                body = body[prefix.end() :]
                if not body:
                    continue
        end = begin + len(body)
        reason = debris_reason(body)
        key = body.lower()
        if reason is None and key in seen:
            reason = "repeated line"
        if reason is not None:
            dropped.append((begin, end, reason))
            continue
        seen.add(key)
        blocks.append(Block(begin, end, _is_heading(body)))
    return blocks, dropped
