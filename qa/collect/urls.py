"""Article URLs: the one canonical form that decides whether two links are the same article.

Two links name one article when they differ only by tracking parameters (courlan's strict
normalisation drops ``utm_*``, ``fbclid`` and the like), a fragment, ``www.``, a trailing
slash, or the AMP variant of the page (``/amp/`` in the path, ``/amp`` at its end,
``?amp``, ``outputType=amp``). The canonical form is the article's id in the index.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url", "clean_url", "host_of", "is_url"]

_AMP_QUERY = {("amp", ""), ("amp", "1"), ("amp", "true"), ("outputtype", "amp"), ("output", "amp")}
_AMP_PATH = re.compile(r"(?:^|/)amp(?:/|$)|\.amp(?:\.html?)?$", re.IGNORECASE)


def is_url(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) URL."""
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def host_of(url: str) -> str:
    """The host of ``url``, lower case, without ``www.`` and port."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def clean_url(url: str) -> str:
    """``url`` without its tracking parameters and fragment (what a citation shows); ``url`` itself
    when it is not an http(s) URL."""
    from courlan import normalize_url

    if not is_url(url):
        return url
    try:
        return normalize_url(url.strip(), strict=True)
    except (ValueError, TypeError):
        return url.strip()


def canonical_url(url: str) -> str:
    """The canonical form of an article URL (see the module docstring); ``url`` itself when it is
    not an http(s) URL."""
    if not is_url(url):
        return url
    normal = clean_url(url)
    parts = urlsplit(normal)
    host = host_of(normal)
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path
    if _AMP_PATH.search(path):
        path = re.sub(r"\.amp(?=(?:\.html?)?$)", "", path, flags=re.IGNORECASE)
        path = re.sub(r"(?:^|/)amp(?=/|$)", "", path, flags=re.IGNORECASE)
    path = re.sub(r"/{2,}", "/", path).rstrip("/") or "/"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if (k.lower(), v.lower()) not in _AMP_QUERY
    ]
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(sorted(query)), ""))
