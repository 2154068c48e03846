"""Polite, safe HTTP fetching for sources: robots.txt, a delay per host, retries, a size cap.

:class:`Fetcher` fetches one URL at a time. Before each request it checks that the URL is
``http`` or ``https``, that its host does not resolve to a private, loopback, link-local or
reserved address (unless ``allow_private``; tests serving on 127.0.0.1 need it), and that the
site's robots.txt lets this project's user agent fetch it. It waits between two requests to
one host (the larger of ``delay`` and the site's ``Crawl-delay``), follows redirects itself so
that every hop is checked the same way, retries connection failures and 429/5xx answers with
exponential back-off (honouring ``Retry-After``), stops reading a body at ``max_bytes``, and
sends conditional requests (``If-None-Match``, ``If-Modified-Since``) when told what it saw
last time.

Left open: the address is checked when the name is resolved, not pinned for the connection, so
a host whose DNS answer changes between the two (DNS rebinding) is not stopped.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from ..errors import FetchError

__all__ = ["USER_AGENT", "Fetcher", "Page", "decode_page"]

#: What every request says it is; robots.txt rules for ``newsqa`` apply to it.
USER_AGENT = "newsqa/0.1 (news archive question answering; robots.txt respected)"
_ROBOTS_AGENT = "newsqa"
_RETRY_STATUS = {429, 500, 502, 503, 504}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """One fetched URL: where it ended (after redirects), its status, headers that matter, body."""

    url: str
    requested: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    fetched: str  # when, ISO 8601 UTC
    etag: str = ""
    last_modified: str = ""
    location: str = ""  # where a redirect points

    @property
    def not_modified(self) -> bool:
        """Whether the server answered 304: nothing changed since the ``etag`` / date sent."""
        return self.status == 304

    @property
    def is_html(self) -> bool:
        """Whether the body is an HTML page (by its type, or by its first bytes when untyped)."""
        kind = self.content_type
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        head = self.body[:512].lstrip().lower()
        return kind in ("", "application/octet-stream", "text/plain") and head.startswith((b"<!doctype html", b"<html"))

    def text(self) -> tuple[str, str | None]:
        """The body decoded, and a note when its encoding had to be guessed (see :func:`decode_page`)."""
        return decode_page(self.body, self.charset, name=self.url)


def decode_page(body: bytes, declared: str | None, *, name: str) -> tuple[str, str | None]:
    """Decode a page or file: the declared charset (HTTP header), else one written in the page
    (``<meta charset>``, ``<?xml encoding>``), else UTF-8, else the best guess of
    charset-normalizer; returns the text and, when it was a guess, a note naming ``name``."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace"), None
    head = body[:4096]
    written = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    for charset in (declared, written.group(1).decode("ascii", "ignore") if written else None):
        if not charset:
            continue
        try:
            return body.decode(charset), None
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is None:
        return body.decode("utf-8", errors="replace"), (
            f"{name} is in no encoding that could be recognised; it was read as UTF-8 with replacement characters"
        )
    return str(best), f"{name} declares no encoding and is not UTF-8; it was read as {best.encoding}"


class Fetcher:
    """Fetches URLs politely and safely (see the module docstring).

    Args:
        user_agent: the User-Agent header.
        delay: seconds between two requests to one host (a site's ``Crawl-delay`` can raise it).
        timeout: seconds to connect, and between two reads of a body; a whole body must come
            within four times this.
        retries: further tries after a connection failure, a timeout, or a 429/5xx answer.
        backoff: seconds before the first retry; doubled at each.
        max_bytes: the largest body read; a larger page is refused.
        allow_private: fetch hosts on private, loopback or link-local addresses too.
        max_redirects: redirects followed for one URL.
    """

    def __init__(
        self,
        *,
        user_agent: str = USER_AGENT,
        delay: float = 1.0,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_bytes: int = 10_000_000,
        allow_private: bool = False,
        max_redirects: int = 5,
    ) -> None:
        import requests

        self.user_agent = user_agent
        self.delay = delay
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.requests = 0  # made, retries and robots.txt included
        self.seconds = 0.0  # spent fetching, the polite waits included
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self._last: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._checked: dict[str, str | None] = {}  # host -> why it is refused, or None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ checks

    def check(self, url: str) -> None:
        """Raise :class:`FetchError` when ``url`` may not be fetched (scheme, address, robots.txt)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url}: only http and https URLs are fetched")
        self._check_host(url, parts.hostname)
        if not self.allowed(url):
            raise FetchError(
                f"{url}: the site's robots.txt does not allow {_ROBOTS_AGENT} to fetch it; it was left out"
            )

    def _check_host(self, url: str, host: str) -> None:
        if host not in self._checked:
            self._checked[host] = None if self.allow_private else _private_reason(host)
        why = self._checked[host]
        if why:
            raise FetchError(f"{url}: {why}; pass --allow-private (allow_private=True) to fetch it anyway")

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets this user agent fetch ``url`` (fetched once per site)."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self._robots:
            self._robots[site] = self._read_robots(site)
        robots = self._robots[site]
        return True if robots is None else robots.can_fetch(_ROBOTS_AGENT, url)

    def _read_robots(self, site: str) -> RobotFileParser | None:
        parser = RobotFileParser()
        try:
            page = self._request(f"{site}/robots.txt", {})
        except FetchError:
            parser.disallow_all = True  # unreachable robots.txt: assume nothing may be fetched now
            return parser
        if page.status in (401, 403):
            parser.disallow_all = True
            return parser
        if page.status >= 400:
            return None  # no robots.txt: everything may be fetched
        parser.parse(page.body.decode("utf-8", errors="replace").splitlines())
        return parser

    # ------------------------------------------------------------------ fetching

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> Page:
        """Fetch ``url``, following redirects; a 304 comes back as a page with ``not_modified``.

        Raises:
            FetchError: the URL may not be fetched, an answer is 4xx/5xx (after the retries for
                429/5xx), the body is over ``max_bytes``, or the network failed after the retries.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(self.max_redirects + 1):
            self.check(current)
            page = self._request(current, headers)
            if page.status in (301, 302, 303, 307, 308):
                target = page.location
                if not target:
                    raise FetchError(f"{current}: a redirect ({page.status}) with no Location")
                current = urljoin(current, target)
                continue
            if page.status >= 400:
                raise FetchError(f"{current}: the server answered {page.status}")
            return Page(
                url=current,
                requested=url,
                status=page.status,
                content_type=page.content_type,
                charset=page.charset,
                body=page.body,
                fetched=page.fetched,
                etag=page.etag,
                last_modified=page.last_modified,
            )
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")

    def _wait(self, host: str) -> None:
        robots = self._robots.get(f"https://{host}") or self._robots.get(f"http://{host}")
        pause = self.delay
        if robots is not None:
            pause = max(pause, float(robots.crawl_delay(_ROBOTS_AGENT) or 0))
        last = self._last.get(host)
        if last is not None:
            left = last + pause - time.monotonic()
            if left > 0:
                time.sleep(left)

    def _request(self, url: str, headers: dict) -> Page:
        host = urlsplit(url).netloc.lower()
        started = time.perf_counter()
        try:
            return self._tries(url, headers, host)
        finally:
            self.seconds += time.perf_counter() - started

    def _tries(self, url: str, headers: dict, host: str) -> Page:
        import requests

        attempt = 0
        while True:
            with self._lock:
                self._wait(host)
                try:
                    return self._once(url, headers)
                except _Retry as exc:
                    why, wait = exc.args
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                    why, wait = _network_reason(exc), None  # a body cut off mid-way is tried again too
                except requests.RequestException as exc:  # a malformed URL or answer: trying again cannot help
                    raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
                finally:
                    self._last[host] = time.monotonic()
                    self.requests += 1
            if attempt >= self.retries:
                raise FetchError(f"{url}: {why} (tried {attempt + 1} times)")
            time.sleep(min(60.0, wait if wait is not None else self.backoff * 2**attempt))
            attempt += 1

    def _once(self, url: str, headers: dict) -> Page:
        started = time.monotonic()
        with self._session.get(
            url, headers=headers, timeout=(self.timeout, self.timeout), stream=True, allow_redirects=False
        ) as response:
            status = response.status_code
            if status in _RETRY_STATUS:
                raise _Retry(f"the server answered {status}", _retry_after(response.headers.get("Retry-After")))
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                raise FetchError(f"{url}: the page is {int(length) / 1e6:.1f} MB, over the {self._cap} cap")
            chunks, size = [], 0
            if status not in (204, 304) and 200 <= status < 300:
                for chunk in response.iter_content(65536):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: the page is over the {self._cap} cap; it was not read further")
                    if time.monotonic() - started > 4 * self.timeout:
                        raise FetchError(f"{url}: the page took over {4 * self.timeout:.0f} s to come; it was left out")
                    chunks.append(chunk)
            kind = response.headers.get("Content-Type", "")
            media, _, params = kind.partition(";")
            charset = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.IGNORECASE)
            return Page(
                url=url,
                requested=url,
                status=status,
                content_type=media.strip().lower(),
                charset=charset.group(1) if charset else None,
                body=b"".join(chunks),
                fetched=datetime.now(UTC).isoformat(timespec="seconds"),
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
                location=response.headers.get("Location", ""),
            )

    @property
    def _cap(self) -> str:
        return f"{self.max_bytes / 1e6:g} MB"


class _Retry(Exception):
    """An answer worth trying again: (why, seconds the server asked to wait or None)."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _network_reason(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off"
    return "the connection failed"


def _private_reason(host: str) -> str | None:
    """Why ``host`` may not be fetched by default (a private, loopback, link-local or reserved
    address), or None."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None  # not resolvable: the request itself fails with a clear reason
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return f"{host} is on a private or local address ({address})"
    return None
