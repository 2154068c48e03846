"""Exceptions raised by the package.

Every message says what went wrong and what to do about it. Only the edges
(the CLI and ``ui.py``) turn them into user-facing text.
"""

from __future__ import annotations

import warnings


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class EmptyQuestionError(QAError, ValueError):
    """The question is empty or only whitespace."""


class CorpusError(QAError):
    """The corpus folder is missing, unreadable, or holds no readable article."""


class ArticleGoneError(CorpusError):
    """An article file vanished between the corpus scan and its reading."""


class DocumentNotFoundError(QAError, KeyError):
    """An article id names no indexed article."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MetadataError(QAError):
    """The corpus metadata file is malformed."""


class ModelError(QAError):
    """The sentence-transformers model could not be loaded."""


class IndexLocationError(QAError):
    """The index folder exists but is not an index made by this package."""


class IndexCorruptError(QAError):
    """An index file is missing, truncated or inconsistent (the index is rebuilt)."""


class StoreSpecError(QAError, ValueError):
    """A ``store`` setting (``--store``) is malformed, or its backend is not installed."""


class StoreUnavailableError(QAError):
    """The search backend (a Milvus server or Milvus Lite) cannot be reached or refused a call;
    nothing was half-written."""


class StoreRefusedError(StoreUnavailableError):
    """The Milvus server is reachable but refused a request (an unsupported schema or index, a
    limit); it is never retried as if the connection were lost."""


class StoreMismatchError(QAError):
    """A Milvus collection mirrors another index than the one opened."""


class ReplicaError(QAError):
    """A replica (an assistant reading everything from a server) was asked to change the index."""


class RayError(QAError):
    """Ingest on Ray could not start (Ray missing or unreachable) or its job failed; the index
    holds the batches committed before, each whole."""


class FilterError(QAError, ValueError):
    """A retrieval filter (outlet, date range) is malformed."""


class WeightsError(QAError, ValueError):
    """A retrieval weights file is missing or malformed; the message names the file and the key."""


class QuestionFileError(QAError):
    """A question file for evaluation is malformed; the message names file and line."""


class KeysFileError(QAError):
    """The API keys file or ``QA_API_KEYS`` is malformed, or a key cannot be made or revoked as asked."""


class AuthenticationError(QAError):
    """A request to a served chat or API carries no key, a wrong key or a revoked one."""


class PermissionDeniedError(QAError):
    """A request's key may not do what it asks (a read key adding or removing articles)."""


class ExposedError(QAError):
    """Serving on an address other machines can reach, without any API key to require."""


class SourceError(QAError):
    """A source (a feed, a sitemap, a URL list, a WARC or an export file) cannot be read or used at
    all: a missing file, an unknown kind, a CSV with no ``text`` column, a name already taken."""


class FetchError(SourceError):
    """A page could not be fetched: refused by robots.txt, a private address, a non-HTTP scheme,
    over the size cap, an HTTP error, or a network failure after the retries."""


class SourceNotFoundError(SourceError, KeyError):
    """A source name names no recorded source."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CorpusWarning(UserWarning):
    """Something in the corpus was read but needs the user's attention."""


def warn(message: str) -> None:
    """Emit a :class:`CorpusWarning` attributed to the caller of the package."""
    warnings.warn(message, CorpusWarning, stacklevel=3)
