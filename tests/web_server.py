"""A small, real HTTP server for tests: a web site on 127.0.0.1 whose pages a test sets up, then fetches.

Standard library only (``http.server.ThreadingHTTPServer`` in a daemon thread), bound to a free port::

    from tests.web_server import Site, article_html, rss

    with Site() as site:
        site.put("/news/a", article_html("Summit ends", ["The summit ended on Friday."]))
        site.put("/feed.xml", rss("News", site.url("/"), [{"title": "Summit ends", "link": site.url("/news/a")}]),
                 content_type="application/rss+xml")
        site.put_sequence("/flaky", [(500, "oops", "text/plain"), (200, "fine", "text/plain")])
        site.redirect("/old", "/news/a")
        site.slow("/slow", "late", delay=5)
        site.big("/huge", 20_000_000)
        ...  # fetch site.url("/news/a") with the code under test
        assert site.hits["/news/a"] == 1

What it does:

- unknown paths answer 404 with a small HTML page; HEAD answers like GET without the body;
- routing is on the path alone (the query string is ignored, but kept in ``Site.requests``);
- with ``etags=True`` (the default) a 200 from ``put`` carries ``ETag: "<sha1 of body>"`` and a fixed
  ``Last-Modified`` (the time of the ``put``), and a request whose ``If-None-Match`` matches gets 304 without a body
  (``If-Modified-Since`` alone never gives a 304);
- HTTP/1.1 with a Content-Length on every response, so keep-alive clients work, except ``big_unannounced`` which
  sends neither Content-Length nor chunked encoding and closes the connection to end the body;
- ``hits`` counts requests per path, ``requests`` keeps ``(time.monotonic(), path with query, headers)`` of each
  request in the order they came (the headers dict's lookups ignore case);
- nothing is logged, a client that hangs up mid-body is ignored, and ``stop()`` returns at once even while a slow
  or big response is being served (it wakes the waiting handlers and closes open connections).

The module also builds content: ``article_html``, ``rss``, ``atom``, ``sitemap`` and ``sitemap_index``.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import html
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Site", "article_html", "atom", "rss", "sitemap", "sitemap_index"]

HTML = "text/html; charset=utf-8"
CHUNK = 64 * 1024


# --- routes ----------------------------------------------------------------------------------------------------------


@dataclass
class _Static:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]
    etag: str | None  # set only where 304s are given
    last_modified: str | None
    delay: float = 0.0


@dataclass
class _Sequence:
    responses: list[tuple[int, bytes, str]]
    served: int = 0


@dataclass
class _Redirect:
    to: str
    status: int


@dataclass
class _Big:
    size: int
    content_type: str
    announced: bool


_Route = _Static | _Sequence | _Redirect | _Big


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _merge(defaults: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
    """``defaults`` with ``extra`` on top; a name in both (in any case) takes ``extra``'s value and spelling."""
    merged = dict(defaults)
    for name, value in (extra or {}).items():
        for old in [key for key in merged if key.lower() == name.lower()]:
            del merged[old]
        merged[name] = value
    return merged


def _etag_matches(if_none_match: str, etag: str) -> bool:
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag.removeprefix("W/"):
            return True
    return False


# --- big pages -------------------------------------------------------------------------------------------------------

_BIG_HEAD = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>A very long page</title>\n'
    b"</head>\n<body>\n<article>\n<h1>A very long page</h1>\n"
)
_BIG_TAIL = b"</article>\n</body>\n</html>\n"


def _big_block() -> bytes:
    """CHUNK bytes of whole ``<p>`` lines, padded with spaces before the last newline."""
    lines, length, n = [], 0, 0
    while True:
        n += 1
        line = (
            f"<p>Paragraph {n}: the committee met again on Tuesday to review the figures, "
            f"and the chair said the report would be published within weeks.</p>\n"
        ).encode()
        if length + len(line) > CHUNK:
            break
        lines.append(line)
        length += len(line)
    block = b"".join(lines)
    return block[:-1] + b" " * (CHUNK - len(block)) + b"\n"


_BIG_BLOCK = _big_block()


def _big_chunks(size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes of HTML, in pieces of at most CHUNK bytes."""
    middle = size - len(_BIG_HEAD) - len(_BIG_TAIL)
    if middle < 0:
        yield (_BIG_HEAD + _BIG_TAIL)[:size]
        return
    yield _BIG_HEAD
    full, rest = divmod(middle, CHUNK)
    for _ in range(full):
        yield _BIG_BLOCK
    if rest:
        cut = _BIG_BLOCK.rfind(b"\n", 0, rest) + 1
        yield _BIG_BLOCK[:cut] + b" " * (rest - cut)
    yield _BIG_TAIL


# --- the server ------------------------------------------------------------------------------------------------------


class _Headers(dict):
    """A request's headers as the client spelled them; lookups ignore case."""

    def _find(self, key: object) -> object:
        if dict.__contains__(self, key) or not isinstance(key, str):
            return key
        lower = key.lower()
        return next((name for name in self if name.lower() == lower), key)

    def __getitem__(self, key: object) -> str:
        return super().__getitem__(self._find(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._find(key))

    def get(self, key: object, default: object = None) -> object:
        return super().get(self._find(key), default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, site: Site) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (socket.getfqdn), which can stall without DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        # a client gone mid-request (or a connection cut by stop()) is normal in tests; anything else is a bug here
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes; no 40 ms stalls on keep-alive
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.site._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.site._closed(self.connection)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    # -- answering --

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        path = target.split("#", 1)[0].split("?", 1)[0]
        route = site._arrived(path, target, _Headers(self.headers.items()))
        try:
            self._answer(route, head=head)
        except OSError:  # the client hung up (BrokenPipe, ConnectionReset) or stop() cut the connection
            self.close_connection = True

    def _answer(self, route: _Route | tuple[int, bytes, str] | None, *, head: bool) -> None:
        stopping = self.server.site._stopping
        if route is None:
            body = (
                b"<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Not found</h1></body></html>\n"
            )
            self._send(404, body, {"Content-Type": HTML}, head=head)
        elif isinstance(route, _Static):
            if route.delay and stopping.wait(route.delay):
                self.close_connection = True  # stopped while waiting: hang up without an answer
                return
            headers = _merge(
                {"Content-Type": route.content_type}
                | ({"ETag": route.etag} if route.etag else {})
                | ({"Last-Modified": route.last_modified} if route.last_modified else {}),
                route.headers,
            )
            etag = next((value for name, value in headers.items() if name.lower() == "etag"), None)
            if_none_match = self.headers.get("If-None-Match")
            if route.etag and etag and if_none_match and _etag_matches(if_none_match, etag):
                kept = {name: value for name, value in headers.items() if name.lower() != "content-type"}
                self._send(304, None, kept, head=head)
            else:
                self._send(route.status, route.body, headers, head=head)
        elif isinstance(route, tuple):  # one step of a sequence
            status, body, content_type = route
            self._send(status, body, {"Content-Type": content_type}, head=head)
        elif isinstance(route, _Redirect):
            link = html.escape(route.to)
            body = f'<!DOCTYPE html>\n<html><body><p>Moved to <a href="{link}">{link}</a>.</p></body></html>\n'
            self._send(route.status, body.encode(), {"Location": route.to, "Content-Type": HTML}, head=head)
        elif isinstance(route, _Big):
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            if route.announced:
                self.send_header("Content-Length", str(route.size))
            else:
                self.send_header("Connection", "close")  # the end of the body is the end of the connection
            self.end_headers()
            if head:
                return
            for chunk in _big_chunks(route.size):
                if stopping.is_set():
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

    def _send(self, status: int, body: bytes | None, headers: dict[str, str], *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None and not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)


class Site:
    """A web site served on 127.0.0.1 for tests."""

    def __init__(self, *, etags: bool = True) -> None:
        self.etags = etags
        self.hits: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[float, str, dict]] = []
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- where --

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._server is None:
            raise RuntimeError("the Site is not started: call start() or use it in a with block")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    # -- what it serves --

    def put(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = HTML,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve body at path (str bodies encoded UTF-8). Replaces what was there."""
        self._set(path, self._static(body, content_type, status, headers))

    def put_sequence(self, path: str, responses: list[tuple[int, bytes | str, str]]) -> None:
        """Serve these (status, body, content_type) one after the other on successive requests; the last one repeats
        (used for 'a 500 then a 200')."""
        if not responses:
            raise ValueError("put_sequence needs at least one response")
        steps = [(status, _bytes(body), content_type) for status, body, content_type in responses]
        self._set(path, _Sequence(steps))

    def redirect(self, path: str, to: str, *, status: int = 301) -> None:
        """Answer with ``status`` and ``Location: to`` (sent as given, relative or absolute)."""
        self._set(path, _Redirect(to, status))

    def slow(self, path: str, body: bytes | str, *, delay: float, content_type: str = HTML) -> None:
        """Wait `delay` seconds before answering (headers included)."""
        route = self._static(body, content_type, 200, None)
        route.delay = delay
        self._set(path, route)

    def big(self, path: str, size: int, *, content_type: str = HTML) -> None:
        """Serve `size` bytes of valid-looking HTML (streamed in 64 KB chunks, with a Content-Length header), without
        holding it all in memory."""
        self._set(path, _Big(size, content_type, announced=True))

    def big_unannounced(self, path: str, size: int) -> None:
        """Same, but with no Content-Length (the connection closes after the body), so a client must count bytes
        itself."""
        self._set(path, _Big(size, HTML, announced=False))

    def remove(self, path: str) -> None:
        """Forget path: it answers 404 from now on."""
        with self._lock:
            self._routes.pop(path, None)

    # -- running --

    def start(self) -> Site:
        if self._server is not None:
            raise RuntimeError("the Site is already started (a Site starts once)")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-web-site", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and join its thread; slow or big answers in progress are cut off."""
        server, thread = self._server, self._thread
        if server is None or thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        server.shutdown()  # returns once serve_forever has stopped accepting
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wake handlers blocked reading a keep-alive connection or writing a body
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        thread.join(timeout=5)

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inside --

    def _static(self, body: bytes | str, content_type: str, status: int, headers: dict[str, str] | None) -> _Static:
        data = _bytes(body)
        tagged = self.etags and status == 200
        return _Static(
            status=status,
            body=data,
            content_type=content_type,
            headers=dict(headers or {}),
            etag=f'"{hashlib.sha1(data).hexdigest()}"' if tagged else None,
            last_modified=formatdate(time.time(), usegmt=True) if tagged else None,
        )

    def _set(self, path: str, route: _Route) -> None:
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"a path starts with / and has no query or fragment (routing ignores them): {path!r}")
        with self._lock:
            self._routes[path] = route

    def _arrived(self, path: str, target: str, headers: dict) -> _Route | tuple[int, bytes, str] | None:
        """Record a request; what answers it (a sequence gives its next step)."""
        with self._lock:
            self.hits[path] += 1
            self.requests.append((time.monotonic(), target, headers))
            route = self._routes.get(path)
            if isinstance(route, _Sequence):
                step = route.responses[min(route.served, len(route.responses) - 1)]
                route.served += 1
                return step
            return route

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


# --- content ---------------------------------------------------------------------------------------------------------

_RELATED = [
    ("/world/markets-rally-after-rate-decision", "Markets rally after rate decision"),
    ("/politics/council-approves-new-budget", "Council approves new budget"),
    ("/sport/late-goal-settles-derby", "Late goal settles derby"),
]


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    site_name: str = "Example News",
    date: str = "2024-03-05",
    canonical: str | None = None,
    boilerplate: bool = True,
    charset: str = "utf-8",
) -> str:
    """A realistic news article page: <html><head> with <meta charset>, <title>, og:site_name, og:title,
    article:published_time, optional <link rel=canonical>; a body with a nav menu, the headline in <h1>, the
    paragraphs in <article><p>, and (with boilerplate) a 'Related stories' list, share buttons, a newsletter sign-up
    box and a footer with a copyright line.

    The headline and date sit in a <header> just above the <article>, so trafilatura (``favor_precision=True``, as
    ``qa.ingest.documents`` calls it) extracts exactly ``"\\n".join(paragraphs)``, takes no byline for an author,
    and finds the title, date, site name and canonical URL in the metadata. That holds for paragraphs of a sentence
    or more; with only a few words of text trafilatura falls back and may add the headline (or boilerplate).
    The result is a str; encode it with ``charset`` (what the page declares) before serving it."""
    e = html.escape
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        f'<meta charset="{e(charset)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f'<meta property="og:site_name" content="{e(site_name)}">',
        f'<meta property="og:title" content="{e(title)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="article:published_time" content="{e(date)}">',
    ]
    if canonical is not None:
        head.append(f'<link rel="canonical" href="{e(canonical)}">')
    head.append("</head>")
    body = [
        "<body>",
        '<header class="site-header">',
        f'<a class="logo" href="/">{e(site_name)}</a>',
        '<nav class="main-menu"><ul>',
        '<li><a href="/">Home</a></li>',
        '<li><a href="/world/">World</a></li>',
        '<li><a href="/politics/">Politics</a></li>',
        '<li><a href="/business/">Business</a></li>',
        '<li><a href="/sport/">Sport</a></li>',
        "</ul></nav>",
        "</header>",
        "<main>",
        '<header class="article-header">',
        f"<h1>{e(title)}</h1>",
        f'<div class="dateline"><time datetime="{e(date)}">{e(date)}</time></div>',
        "</header>",
        "<article>",
        *(f"<p>{e(paragraph)}</p>" for paragraph in paragraphs),
        "</article>",
    ]
    if boilerplate:
        body += [
            '<div class="share-buttons">',
            '<a href="https://www.facebook.com/sharer/sharer.php">Share on Facebook</a>',
            '<a href="https://twitter.com/intent/tweet">Share on X</a>',
            '<a href="mailto:?subject=Read%20this">Share by email</a>',
            "</div>",
            '<aside class="related">',
            "<h2>Related stories</h2>",
            "<ul>",
            *(f'<li><a href="{href}">{e(text)}</a></li>' for href, text in _RELATED),
            "</ul>",
            "</aside>",
            '<div class="newsletter">',
            "<h3>Sign up for our newsletter</h3>",
            "<p>Get the day's top stories in your inbox every morning.</p>",
            '<form action="/subscribe" method="post">',
            '<input type="email" name="email" placeholder="Your email address">',
            '<button type="submit">Subscribe</button>',
            "</form>",
            "</div>",
        ]
    body.append("</main>")
    if boilerplate:
        body += [
            '<footer class="site-footer">',
            '<p><a href="/about">About us</a> | <a href="/contact">Contact</a> | <a href="/privacy">Privacy</a></p>',
            f"<p>&copy; {e(date[:4])} {e(site_name)}. All rights reserved.</p>",
            "</footer>",
        ]
    body += ["</body>", "</html>", ""]
    return "\n".join(head + body)


def _element(name: str, text: str | None) -> str:
    return f"<{name}>{escape(text)}</{name}>" if text is not None else ""


def rss(title: str, link: str, items: list[dict], *, self_link: str | None = None) -> str:
    """RSS 2.0 XML; each item dict may have title, link, guid, pubDate (RFC 822 string), description, author."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        _element("title", title),
        _element("link", link),
        _element("description", title),
    ]
    if self_link is not None:
        out.append(f'<atom:link href={quoteattr(self_link)} rel="self" type="application/rss+xml"/>')
    for item in items:
        parts = [_element(name, item.get(name)) for name in ("title", "link")]
        guid = item.get("guid")
        if guid is not None:
            permalink = "" if guid.startswith(("http://", "https://")) else ' isPermaLink="false"'
            parts.append(f"<guid{permalink}>{escape(guid)}</guid>")
        parts += [_element(name, item.get(name)) for name in ("pubDate", "description", "author")]
        out.append("<item>" + "".join(parts) + "</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def atom(title: str, link: str, entries: list[dict]) -> str:
    """Atom 1.0 XML; entries have title, link, id, updated (ISO 8601), summary, author."""
    updated = max((entry["updated"] for entry in entries if entry.get("updated")), default="2024-01-01T00:00:00Z")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        _element("title", title),
        f'<link href={quoteattr(link)} rel="alternate"/>',
        _element("id", link),
        _element("updated", updated),
    ]
    for entry in entries:
        parts = [_element("title", entry.get("title"))]
        if entry.get("link") is not None:
            parts.append(f'<link href={quoteattr(entry["link"])} rel="alternate"/>')
        parts += [_element(name, entry.get(name)) for name in ("id", "updated", "summary")]
        if entry.get("author") is not None:
            parts.append(f"<author>{_element('name', entry['author'])}</author>")
        out.append("<entry>" + "".join(parts) + "</entry>")
    out += ["</feed>", ""]
    return "\n".join(out)


def _title_from(loc: str) -> str:
    slug = urlsplit(loc).path.rstrip("/").rsplit("/", 1)[-1]
    slug = slug.rsplit(".", 1)[0] if "." in slug else slug
    return slug.replace("-", " ").replace("_", " ").strip().capitalize() or "Home"


def sitemap(urls: list[tuple[str, str | None]], *, news: bool = False, publication: str = "Example News") -> str:
    """A sitemap urlset of (loc, lastmod) pairs; with news=True, the Google News sitemap namespace with
    <news:news><news:publication><news:name>..</news:name><news:language>en</news:language></news:publication>
    <news:publication_date>lastmod</news:publication_date><news:title>..</news:title></news:news> per url.

    The news:name is ``publication``; the news:title is made from the last part of the URL's path ("summit-ends" gives
    "Summit ends"); a url without lastmod has no publication_date."""
    namespaces = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    if news:
        namespaces += ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f"<urlset {namespaces}>"]
    for loc, lastmod in urls:
        parts = [_element("loc", loc), _element("lastmod", lastmod)]
        if news:
            parts.append(
                "<news:news><news:publication>"
                + _element("news:name", publication)
                + "<news:language>en</news:language></news:publication>"
                + _element("news:publication_date", lastmod)
                + _element("news:title", _title_from(loc))
                + "</news:news>"
            )
        out.append("<url>" + "".join(parts) + "</url>")
    out += ["</urlset>", ""]
    return "\n".join(out)


def sitemap_index(sitemaps: list[str]) -> str:
    """A sitemapindex listing these sitemap URLs."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    out += [f"<sitemap>{_element('loc', loc)}</sitemap>" for loc in sitemaps]
    out += ["</sitemapindex>", ""]
    return "\n".join(out)
