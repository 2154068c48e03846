"""Search on Milvus: the index's passages, their metadata and vectors in a Milvus collection.

Selected by ``store="milvus-lite:PATH.db"`` (Milvus Lite, in-process, one file) or
``store="milvus://HOST:PORT/COLLECTION"`` (a Milvus server or cluster; ``milvus+https://``
for TLS, and the ``MILVUS_TOKEN`` environment variable for ``user:password`` or an API key).

The collection holds one row per passage::

    id       INT64, the passage's id in the index (primary key)
    doc_id   its article          outlet  the article's outlet, lower-cased
    date     the article's date (YYYY-MM-DD, "" when undated)
    terms    the passage's BM25 terms (the index's own tokens, stemmed), analysed by Milvus
    vector   the passage vector (FLAT up to embeddings.FLAT_LIMIT rows, HNSW above, inner product)
    sparse   Milvus's BM25 function of ``terms`` (k1 and b as the index's own BM25)

and a second collection, ``COLLECTION_state``, one row saying which index it mirrors (the
index's uuid), the generation it reflects, and a write in progress.

The two candidate searches run in Milvus, outlet and date filters included. The index folder
stays the catalogue: articles, passage texts, sentence facts and vectors, BM25 vocabulary
(SQLite and the vector files), read by id as before, so everything above the store is the
same code for both backends.

Writes are whole or nothing. A commit writes the collection inside the catalogue's SQLite
transaction, before it commits: if Milvus fails, the transaction rolls back and the error
says so. The state row marks the write as pending first (with the id ranges it removes), so a
process killed mid-write is mended when the index is next opened for writing: rows past the
last committed id are deleted, and removed rows the catalogue still holds are written again.
A collection that is behind the catalogue (made with the FAISS store, say) is brought up to
date from ``vector_log``, or rebuilt from the catalogue when the log no longer reaches back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings import plan
from embeddings.index import HNSW_BUILD_DEPTH, HNSW_LINKS, HNSW_SEARCH_DEPTH, suits

from ..errors import StoreMismatchError, StoreRefusedError, StoreSpecError, StoreUnavailableError, warn
from .catalogue import CATALOGUE_TRIGGERS, Catalogue, collections
from .database import Database, select_in
from .postings import K1, B
from .store import IndexStore

__all__ = ["Backend", "MilvusStore", "MilvusTarget", "Selection", "check_behind"]

_I32 = np.dtype("<i4")
#: Seconds to wait for collections just made to load.
LOAD_SECONDS = 120.0
#: Rows read from the catalogue and sent in one write call (each about 1.5 KB of vector and 1 KB
#: of terms for MiniLM).
WRITE_ROWS = 1000
#: Id ranges deleted by one call (their clauses joined by "or").
DELETE_RANGES = 200
#: Seconds to wait for a server before saying it is unreachable.
CONNECT_TIMEOUT = 10.0
#: Tries of a call, on a fresh connection each, before Milvus is said to be unreachable (gRPC
#: waits about 1.5 s before it reconnects to a server that was lost).
CONNECT_TRIES, RETRY_SECONDS = 4, 0.6
#: A connection of its own (not gRPC's shared pool, whose back-off grows with every failure) that
#: tries again within a second once a lost server is back.
_GRPC_OPTIONS = {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.min_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 1000,
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
_MAX_TERMS_BYTES = 65_535
_STATE_KEY = "state"
#: The first server versions with Milvus's BM25 function, and with INVERTED scalar indexes (2.3
#: takes only Trie on text fields).
BM25_SINCE, INVERTED_SINCE = (2, 5), (2, 4)
#: What pymilvus logs (every retry's traceback) goes here, in the index folder, not to the terminal.
LOG_FILE = "milvus.log"


@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus collection is: ``uri`` (a server address or a Milvus Lite file), collection."""

    uri: str
    collection: str
    lite: bool
    token: str = field(default="", repr=False)

    @classmethod
    def parse(cls, spec: str) -> MilvusTarget:
        """From ``milvus-lite:PATH.db[#COLLECTION]`` or ``milvus://HOST:PORT/COLLECTION``.

        Raises:
            StoreSpecError: ``spec`` is neither form.
        """
        spec = spec.strip()
        if spec.startswith("milvus-lite:"):
            path, _, collection = spec[len("milvus-lite:") :].partition("#")
            if not path.endswith(".db"):
                raise StoreSpecError(
                    f"--store {spec!r}: a Milvus Lite file must end in .db (for example milvus-lite:index/milvus.db)"
                )
            return cls._checked(str(Path(path).expanduser().resolve()), collection or "qa_passages", lite=True)
        match = re.match(r"^milvus(\+https?)?://([^/]+)/([^/?#]+)$", spec)
        if match:
            scheme = (match.group(1) or "+http")[1:]
            return cls._checked(
                f"{scheme}://{match.group(2)}", match.group(3), lite=False, token=os.environ.get("MILVUS_TOKEN", "")
            )
        raise StoreSpecError(
            f"--store {spec!r} is not a store: use faiss (the default), milvus-lite:PATH.db, "
            "or milvus://HOST:PORT/COLLECTION"
        )

    @classmethod
    def _checked(cls, uri: str, collection: str, *, lite: bool, token: str = "") -> MilvusTarget:
        if not _NAME.match(collection):
            raise StoreSpecError(
                f"Milvus collection name {collection!r}: use letters, digits and underscores, "
                "starting with a letter or underscore"
            )
        return cls(uri, collection, lite, token)

    def describe(self) -> str:
        return f"Milvus Lite {self.uri}#{self.collection}" if self.lite else f"Milvus {self.uri}/{self.collection}"

    @property
    def spec(self) -> str:
        """The ``store`` setting that names this collection (what :meth:`parse` reads)."""
        if self.lite:
            return f"milvus-lite:{self.uri}#{self.collection}"
        scheme, _, address = self.uri.partition("://")
        return f"milvus{'+https' if scheme == 'https' else ''}://{address}/{self.collection}"


class Selection(np.ndarray):
    """Sorted passage ids, with the Milvus filter expression (``where``) that selects them.

    Arrays derived from one (slices, sums) are plain id arrays again: their filter is dropped.
    """

    where: str | None

    def __new__(cls, ids: np.ndarray, where: str) -> Selection:
        out = np.asarray(ids, dtype=np.int64).view(cls)
        out.where = where
        return out

    def __array_finalize__(self, obj) -> None:
        self.where = None


def _literal(values: Iterable[str]) -> str:
    """A Milvus list of string literals (Milvus Lite takes no filter parameters)."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def _unavailable(target: MilvusTarget, exc: BaseException) -> StoreUnavailableError:
    where = f"the Milvus Lite file {target.uri}" if target.lite else f"the Milvus server at {target.uri}"
    hint = (
        "check that the file is not open in another process and that the disk is not full"
        if target.lite
        else "check that the server is running and reachable from here (and MILVUS_TOKEN, if it needs one)"
    )
    return StoreUnavailableError(
        f"{where} failed ({type(exc).__name__}: {str(exc).strip()[:300]}); {hint}. Nothing was half-written: "
        f"the index is as its last commit left it{_details()}"
    )


def _details() -> str:
    return f" (details in {_log[0]})" if _log else ""


def _refused(target: MilvusTarget, what: str, exc: BaseException) -> StoreRefusedError:
    where = f"the Milvus Lite file {target.uri}" if target.lite else f"the Milvus server at {target.uri}"
    return StoreRefusedError(
        f"{where} refused {what} ({str(exc).strip()[:300]}); it is reachable, so this is not retried. "
        f"Nothing was half-written: the index is as its last commit left it{_details()}"
    )


def lost_connection(exc: BaseException) -> bool:
    """Whether a Milvus call failed because the server could not be reached (worth a retry on a
    fresh connection), not because it answered with a refusal (a ``MilvusException`` or a gRPC
    status other than unavailable or a deadline)."""
    import grpc
    from pymilvus.exceptions import ConnectionConfigException, ConnectionNotExistException, MilvusException

    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        return exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    if not isinstance(exc, MilvusException) or isinstance(
        exc, (ConnectionConfigException, ConnectionNotExistException)
    ):
        return True  # no answer from the server at all (a Lite file another process holds, say)
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("fail connecting", "server unavailable", "connection refused", "unavailable", "deadline")
    )


_log: list[Path] = []  # where pymilvus's log goes now, named in error messages


def quiet_pymilvus(log: Path | None = None) -> None:
    """Send pymilvus's own log (a traceback for every failed try) to ``log`` instead of the
    terminal (nowhere without one): the error a user sees is this module's one line."""
    _log[:] = [log] if log is not None else []
    logger = logging.getLogger("pymilvus")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    if log is not None:
        with contextlib.suppress(OSError):
            handler = logging.FileHandler(log, encoding="utf-8", delay=True)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False


def _pymilvus(target: MilvusTarget):
    """The pymilvus module (and, for a Lite file, a check that milvus-lite is there too).

    Raises:
        StoreSpecError: either is not installed.
    """
    try:
        import pymilvus

        if target.lite:
            import milvus_lite  # noqa: F401
    except ImportError as exc:
        raise StoreSpecError(
            f"the Milvus store needs pymilvus{' and milvus-lite' if target.lite else ''}: pip install -e '.[milvus]'"
        ) from exc
    if not _log:  # pymilvus's console handler, until a store names its log file
        quiet_pymilvus()
    return pymilvus


class _Collection:
    """The passages collection and its state row, on one Milvus client."""

    def __init__(self, target: MilvusTarget, dimension: int) -> None:
        self.target, self.dimension, self.m = target, dimension, _pymilvus(target)
        self.name, self.state_name = target.collection, f"{target.collection}_state"
        self._client = None
        self._version: tuple[int, int] | None = None
        self._kind: str | None = None  # the vector index's kind, once known
        self.written: dict | None = None  # the state row this process last wrote
        #: Whether BM25 runs in Milvus (False: the server has no BM25 function, and the index's own
        #: postings answer the BM25 search).
        self.bm25 = True
        with self.calls():
            self.client  # noqa: B018 -- connect now: an unreachable server fails here

    @property
    def client(self):
        """The Milvus client, connected again after a failure (pymilvus gives up on a lost server)."""
        if self._client is None:
            if self.target.lite:
                Path(self.target.uri).parent.mkdir(parents=True, exist_ok=True)
                self._client = self.m.MilvusClient(self.target.uri)
            else:
                self._client = self.m.MilvusClient(
                    uri=self.target.uri, token=self.target.token, timeout=CONNECT_TIMEOUT, grpc_options=_GRPC_OPTIONS
                )
            for name in (self.name, self.state_name, *collections(self.name)):
                if self._client.has_collection(name):  # a restarted server may hold them released
                    self._client.load_collection(name)
        return self._client

    @contextlib.contextmanager
    def calls(self) -> Iterator[None]:
        """Milvus calls in the block: a lost connection becomes a :class:`StoreUnavailableError` (and
        the next call connects afresh), a refusal a :class:`StoreRefusedError`."""
        try:
            yield
        except (StoreUnavailableError, StoreSpecError, StoreMismatchError):
            raise
        except Exception as exc:
            if not lost_connection(exc):
                raise _refused(self.target, "a request", exc) from exc
            self.close()
            raise _unavailable(self.target, exc) from exc

    def call(self, method: str, *args, **kwargs):
        """``client.method(*args, **kwargs)``, tried up to :data:`CONNECT_TRIES` times on a fresh
        connection each when the connection is lost (every call here is safe to repeat: upserts and
        deletes by id). A refusal is raised at once: trying it again would be refused again, or
        worse (a 2.3 server aborts loading a collection whose indexes it refused)."""
        for attempt in range(CONNECT_TRIES):
            try:
                return getattr(self.client, method)(*args, **kwargs)
            except Exception as exc:
                if not lost_connection(exc):
                    raise _refused(self.target, f"{method}", exc) from exc
                self.close()
                if attempt == CONNECT_TRIES - 1:
                    raise
                time.sleep(RETRY_SECONDS)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    # ------------------------------------------------------------------ collections

    def exists(self) -> bool:
        with self.calls():
            return self.call("has_collection", self.name) and self.call("has_collection", self.state_name)

    def version(self) -> tuple[int, int]:
        """The server's (major, minor) version, asked once ((9, 9) when it does not say: a new one)."""
        if self._version is None:
            with self.calls():
                text = str(self.call("get_server_version"))
            found = re.search(r"(\d+)\.(\d+)", text)
            self._version = (int(found.group(1)), int(found.group(2))) if found else (9, 9)
        return self._version

    def describe(self) -> tuple[int | None, bool]:
        """The collection's vector dimension and whether it has Milvus's BM25 function (one call)."""
        with self.calls():
            info = self.call("describe_collection", self.name)
        dims = [int(f.get("params", {}).get("dim", 0)) for f in info.get("fields", []) if f.get("name") == "vector"]
        return (dims[0] if dims else None), bool(info.get("functions"))

    def create(self, kind: str) -> None:
        """Make both collections afresh (dropping what was there), with what the server supports:
        Milvus's BM25 function from 2.5 (read from its version, then checked in the collection it
        made: a 2.3 server accepts the function in a schema and silently drops it; one that refuses
        it gets a collection without it), INVERTED scalar indexes from 2.4 and Trie before. Where
        the server has no BM25, :attr:`bm25` is False and the index's own postings answer. A
        refusal leaves no half-made collection behind."""
        m = self.m
        self._kind = None
        with self.calls():
            self._drop()
            try:
                self._create_passages(kind)
                state = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
                state.add_field("key", m.DataType.VARCHAR, is_primary=True, max_length=64)
                state.add_field("value", m.DataType.VARCHAR, max_length=65_535)
                state.add_field("v", m.DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
                params = self.client.prepare_index_params()
                params.add_index("v", index_type="FLAT", metric_type="L2")
                self.call("create_collection", self.state_name, schema=state, index_params=params)
            except Exception:
                with contextlib.suppress(Exception):
                    self._drop()
                raise

    def _create_passages(self, kind: str) -> None:
        """The passages collection, with Milvus's BM25 where the server has it: tried with it from
        :data:`BM25_SINCE`, and made without it where the server refuses it or drops it."""
        for bm25 in (True, False) if self.version() >= BM25_SINCE else (False,):
            self.bm25 = bm25
            try:
                self.call(
                    "create_collection",
                    self.name,
                    schema=self._schema(self.bm25),
                    index_params=self._params(kind, self.bm25),
                )
            except StoreRefusedError:
                if not self.bm25:
                    raise
                self._drop()  # refused: a server without BM25
                continue
            if not self.bm25 or self.describe()[1]:
                return
            self.call("drop_collection", self.name)  # accepted, then the function dropped

    def make_loaded(self, made: list[tuple[str, object, object]]) -> None:
        """Create collections (name, schema, index parameters) and load them side by side: made one
        after another, each took about 3.5 s to load on a 2.3 server.

        Raises:
            StoreUnavailableError: they are not loaded within :data:`LOAD_SECONDS`.
        """
        for name, schema, params in made:
            self.call("create_collection", name, schema=schema)
            self.call("create_index", name, params)
            self.call("load_collection", name, _async=True)
        deadline = time.monotonic() + LOAD_SECONDS
        waiting = [name for name, _, _ in made]
        while True:
            waiting = [n for n in waiting if str(self.call("get_load_state", n).get("state")).lower() != "loaded"]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise _unavailable(self.target, TimeoutError(f"{', '.join(waiting)} not loaded in {LOAD_SECONDS} s"))
            time.sleep(0.1)

    def _drop(self) -> None:
        for name in (self.name, self.state_name):
            if self.call("has_collection", name):
                self.call("drop_collection", name)

    def _schema(self, bm25: bool):
        m = self.m
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", m.DataType.INT64, is_primary=True)
        schema.add_field("doc_id", m.DataType.VARCHAR, max_length=4096)
        schema.add_field("outlet", m.DataType.VARCHAR, max_length=1024)
        schema.add_field("date", m.DataType.VARCHAR, max_length=32)
        analysed = {"enable_analyzer": True, "analyzer_params": {"tokenizer": "standard"}} if bm25 else {}
        schema.add_field("terms", m.DataType.VARCHAR, max_length=_MAX_TERMS_BYTES, **analysed)
        schema.add_field("vector", m.DataType.FLOAT_VECTOR, dim=self.dimension)
        if bm25:
            schema.add_field("sparse", m.DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                m.Function(
                    name="bm25",
                    function_type=m.FunctionType.BM25,
                    input_field_names=["terms"],
                    output_field_names=["sparse"],
                )
            )
        return schema

    def _params(self, kind: str, bm25: bool):
        params = self.client.prepare_index_params()
        self._vector_index(params, kind)
        scalar = "INVERTED" if self.version() >= INVERTED_SINCE else "Trie"
        for name in ("doc_id", "outlet", "date"):
            params.add_index(name, index_type=scalar)
        if bm25:
            params.add_index(
                "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B}
            )
        return params

    @staticmethod
    def _vector_index(params, kind: str) -> None:
        if kind == "hnsw":
            params.add_index(
                "vector",
                index_type="HNSW",
                metric_type="IP",
                params={"M": HNSW_LINKS, "efConstruction": HNSW_BUILD_DEPTH},
            )
        else:
            params.add_index("vector", index_type="FLAT", metric_type="IP")

    def kind(self) -> str:
        """The vector index's kind, flat or hnsw (asked of the server once, then remembered)."""
        if self._kind is None:
            with self.calls():
                info = self.call("describe_index", self.name, "vector")
            self._kind = "hnsw" if str(info.get("index_type", "")).upper() == "HNSW" else "flat"
        return self._kind

    def reindex(self, kind: str) -> None:
        """Build the vector index again as ``kind`` (flat or hnsw)."""
        with self.calls():
            self.call("release_collection", self.name)
            self.call("drop_index", self.name, "vector")
            params = self.client.prepare_index_params()
            self._vector_index(params, kind)
            self._kind = None
            self.call("create_index", self.name, params)
            self.call("load_collection", self.name)

    # ------------------------------------------------------------------ state

    def state(self) -> dict | None:
        with self.calls():
            rows = self.call(
                "query", self.state_name, ids=[_STATE_KEY], output_fields=["value"], consistency_level="Strong"
            )
        return json.loads(rows[0]["value"]) if rows else None

    def set_state(self, **values) -> None:
        """Write the state row, with the time of this client's last write to the index's collections
        (``ts``: a replica reads what the state describes as of that time, :meth:`state_at`)."""
        values = {**values, "ts": self.write_ts()}
        with self.calls():
            self.call("upsert", self.state_name, [{"key": _STATE_KEY, "value": json.dumps(values), "v": [0.0, 0.0]}])
        self.written = values

    def write_ts(self) -> int:
        """The Milvus (hybrid) timestamp of this client's last write to the passages collection or the
        catalogue (pymilvus keeps it per collection); 0 when unknown."""
        try:
            from pymilvus.client import ts_utils

            endpoint = self.client._get_connection().server_address
            names = (self.name, *collections(self.name))
            return max(int(ts_utils.get_collection_ts(n, endpoint, db) or 0) for n in names for db in ("", "default"))
        except Exception:  # another pymilvus: the replica falls back to Strong reads
            return 0

    def state_fresh(self) -> dict | None:
        """The state row as the server has it now, read without waiting for the server's clock (a
        replica's per-question read: the writer waits until its state is visible before it returns)."""
        with self.calls():
            rows = self.call(
                "query", self.state_name, ids=[_STATE_KEY], output_fields=["value"], consistency_level="Eventually"
            )
        return json.loads(rows[0]["value"]) if rows else None

    def settle(self) -> None:
        """Wait until this client's writes are visible to every reader (one Strong read)."""
        self.state()

    # ------------------------------------------------------------------ rows

    def upsert(self, rows: list[dict]) -> None:
        self.upsert_into(self.name, rows)

    def upsert_into(self, collection: str, rows: list[dict]) -> None:
        if rows:
            with self.calls():
                self.call("upsert", collection, rows)

    def delete_ranges(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Delete the rows of the id ranges (first, count)."""
        clauses = [f"(id >= {int(first)} and id < {int(first) + int(count)})" for first, count in ranges]
        with self.calls():
            for at in range(0, len(clauses), DELETE_RANGES):
                self.call("delete", self.name, filter=" or ".join(clauses[at : at + DELETE_RANGES]))

    def delete_from(self, first: int) -> None:
        """Delete every row with an id of ``first`` or more (rows no commit made)."""
        with self.calls():
            self.call("delete", self.name, filter=f"id >= {int(first)}")

    def count(self) -> int:
        with self.calls():
            rows = self.call("query", self.name, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def ids(self, upto: int) -> np.ndarray:
        """Every row's id below ``upto``, sorted (for checks: reads them all, 10,000 ids a call)."""
        out: list[int] = []
        with self.calls():
            for first in range(0, max(int(upto), 0), 10_000):
                rows = self.call(
                    "query",
                    self.name,
                    filter=f"id >= {first} and id < {first + 10_000}",
                    output_fields=["id"],
                    limit=10_000,
                    consistency_level="Strong",
                )
                out.extend(int(r["id"]) for r in rows)
        return np.array(sorted(out), dtype=np.int64)

    # ------------------------------------------------------------------ search

    def search(
        self, data, field_name: str, k: int, metric: str, selection: np.ndarray | None, *, ts: int = 0
    ) -> tuple[list, list]:
        """Ids and distances of the ``k`` best rows for ``data`` in ``field_name``, among ``selection``;
        as of Milvus time ``ts`` (0: Strong, now)."""
        where = _filter(selection)
        search_params: dict = {"metric_type": metric}
        if field_name == "vector":
            search_params["params"] = {"ef": max(HNSW_SEARCH_DEPTH, k)}
        with self.calls():
            found = self.call(
                "search",
                self.name,
                data=[data],
                anns_field=field_name,
                limit=min(k, 16_384),
                filter=where,
                output_fields=[],
                search_params=search_params,
                **consistency(ts),
            )
        hits = found[0] if found else []
        return [int(h["id"]) for h in hits], [float(h["distance"]) for h in hits]

    def dense(self, vector: np.ndarray, k: int, allowed: np.ndarray | None, *, ts: int = 0) -> np.ndarray:
        """Ids of the ``k`` passages nearest ``vector`` (by inner product), among ``allowed``."""
        if allowed is not None and not len(allowed):
            return np.zeros(0, np.int64)
        ids, _ = self.search(np.asarray(vector, np.float32).tolist(), "vector", k, "IP", allowed, ts=ts)
        return np.array(ids, dtype=np.int64)

    def bm25_search(
        self, tokens: Sequence[str], k: int, allowed: np.ndarray | None, *, ts: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and BM25 scores (Milvus's own function) of the ``k`` best passages for ``tokens``."""
        if not tokens or (allowed is not None and not len(allowed)):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        ids, scores = self.search(" ".join(tokens), "sparse", k, "BM25", allowed, ts=ts)
        return np.array(ids, dtype=np.int64), np.abs(np.array(scores, dtype=np.float32))  # Lite reports them negated


def consistency(ts: int) -> dict:
    """The read options of a read as of Milvus time ``ts`` (0: Strong, now)."""
    if ts:
        return {"consistency_level": "Customized", "guarantee_timestamp": int(ts)}
    return {"consistency_level": "Strong"}


def _filter(selection: np.ndarray | None) -> str:
    if selection is None:
        return ""
    where = getattr(selection, "where", None)
    return where if where is not None else f"id in [{', '.join(str(int(i)) for i in selection)}]"


class MilvusStore(IndexStore):
    """An index whose candidate searches run in Milvus (see the module docstring).

    Args:
        folder: the index folder (the catalogue).
        db: its database.
        target: the Milvus collection.
        made: the index was just made (or made again): the collection is written afresh.
        take_over: take the collection over even if it mirrors another index (``--rebuild``).

    Raises:
        StoreSpecError: pymilvus (or milvus-lite) is not installed.
        StoreUnavailableError: Milvus cannot be reached.
        StoreMismatchError: the collection mirrors another index.
    """

    def __init__(
        self, folder: Path, db: Database, *, target: MilvusTarget, made: bool = False, take_over: bool = False
    ) -> None:
        super().__init__(folder, db)
        self.target = target
        _pymilvus(target)
        quiet_pymilvus(Path(folder) / LOG_FILE)
        self.milvus = _Collection(target, self.dimension)
        self.catalogue = Catalogue(self.milvus, self.dimension)
        db.connection.executescript(CATALOGUE_TRIGGERS)
        self.uuid = db.get("uuid")
        if not self.uuid:
            self.uuid = uuid.uuid4().hex
            with db.transaction():
                db.set(uuid=self.uuid)
        state = self.milvus.state() if self.milvus.exists() else None
        if state is not None and state.get("catalogue") != self.uuid and not take_over:
            raise StoreMismatchError(
                f"{target.describe()} mirrors another index (made at {state.get('folder', '?')}), not {folder}; "
                "name another collection, or rebuild this index (qa index --rebuild) to take the collection over"
            )
        self._fresh = made or state is None or state.get("catalogue") != self.uuid
        if not self._fresh:
            dimension, self.milvus.bm25 = self.milvus.describe()
            self._fresh = dimension != self.dimension

    #: Searches read the collection now (Strong): this process writes it.
    read_ts = 0

    def close(self) -> None:
        """Close the database and the Milvus connection; a Milvus Lite file is let go, so that
        another process may open it."""
        self.milvus.close()
        if self.target.lite:
            with contextlib.suppress(Exception):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.target.uri)
        super().close()

    @property
    def manifest(self) -> dict:
        out = super().manifest
        out["vector_index"] = {"kind": "milvus", "store": self.target.describe()}
        return out

    # ------------------------------------------------------------------ keeping Milvus in step

    def refresh(self, generation: int | None = None) -> None:
        """Nothing to load: Milvus answers searches, and writers keep it in step (see :meth:`recover`)."""

    def behind(self) -> str | None:
        """Why the collection does not reflect the last commit, or None when it does."""
        if self._fresh:
            return "it has not been written from this index yet"
        state = self.milvus.state() or {}
        if state.get("pending"):
            return "a write to it was interrupted"
        if state.get("generation") != self.generation:
            return f"it reflects generation {state.get('generation')}, the index is at {self.generation}"
        return None

    def recover(self) -> None:
        """Bring the collection in line with the catalogue's last commit (the caller holds the
        index's writer lock): mend an interrupted write, replay ``vector_log`` since the
        generation it reflects, or write it all afresh."""
        meta = self.db.meta()
        generation, next_passage = int(meta["generation"]), int(meta["next_passage"])
        state = None if self._fresh else self.milvus.state()
        if state is not None and (
            state.get("generation", -1) > generation or state.get("generation", -1) < int(meta.get("log_from", 0))
        ):
            state = None  # ahead of the catalogue (its commit failed after the write) or past the log's reach
        if state is None:
            self._rewrite(generation)
            return
        pending = state.get("pending")
        # the catalogue is written afresh where a write was cut off (it may hold part of a commit that
        # rolled back) or none was ever written; else the records changed since it was last written
        afresh = bool(pending) or not state.get("served") or not self.catalogue.exists()
        if not afresh and state["generation"] == generation:
            if self._changed():
                self._serve(generation, afresh=False)  # merges since the last commit
            return  # in step already
        if pending:
            self.milvus.delete_from(next_passage)
            self._write(self.db.connection, self._live_in(pending.get("removed", [])))
        if state["generation"] < generation:
            rows = self.db.execute(
                "SELECT gen, op, first, count FROM vector_log WHERE gen > ? ORDER BY gen, rowid", (state["generation"],)
            ).fetchall()
            self.milvus.delete_ranges((f, c) for _, op, f, c in rows if op < 0)
            self._write(self.db.connection, self._live_in([(f, c) for _, op, f, c in rows if op >= 0]))  # op 1, 0
        self._serve(generation, afresh=afresh)  # or what commits made without Milvus (the FAISS store) changed

    def _rewrite(self, generation: int) -> None:
        ids = self.live_ids()
        self.milvus.create(plan(len(ids)))
        self._set_state(-1, pending={"removed": []})
        self._write(self.db.connection, ids)
        self._fresh = False
        self._serve(generation)

    def _serve(self, generation: int, *, afresh: bool = True) -> None:
        """Write the catalogue (afresh, or the records changed since it was last written, such as a
        merge's), marked pending until it is whole; then say ``generation`` and wait until it shows."""
        self._set_state(generation, pending={"removed": [], "catalogue": True}, served=False)
        with self.db.transaction() as conn:
            write = self.catalogue.rewrite if afresh else self.catalogue.publish
            write(conn, _meta(conn), self.sentence_file)
        self._set_state(generation)
        self.milvus.settle()

    def _changed(self) -> bool:
        return bool(self.db.execute("SELECT 1 FROM catalogue_changes LIMIT 1").fetchone())

    def _set_state(self, generation: int, pending: dict | None = None, *, served: bool = True) -> None:
        self.milvus.set_state(
            catalogue=self.uuid, generation=generation, pending=pending, folder=str(self.folder), served=served
        )

    def _live_in(self, ranges: Sequence[Sequence[int]]) -> np.ndarray:
        """The ids of ``ranges`` (first, count) that the catalogue still holds."""
        return np.intersect1d(_ids(ranges), self.live_ids()) if ranges else np.zeros(0, np.int64)

    def _write(self, conn: sqlite3.Connection, ids: np.ndarray) -> None:
        """Upsert the rows of passages ``ids``, :data:`WRITE_ROWS` read and sent at a time."""
        for at in range(0, len(ids), WRITE_ROWS):
            self.milvus.upsert(self._rows(conn, ids[at : at + WRITE_ROWS]))

    def publish(self, conn: sqlite3.Connection, generation: int) -> None:
        """Write this commit's changes to Milvus, inside the catalogue's transaction on ``conn``.

        The writer has called :meth:`recover` first, so the collection reflects the commit before.

        Raises:
            StoreUnavailableError: Milvus failed; the caller's transaction rolls back.
        """
        entries = conn.execute("SELECT op, first, count FROM vector_log WHERE gen = ?", (generation,)).fetchall()
        removed = [(f, c) for op, f, c in entries if op < 0]
        self._set_state(generation - 1, pending={"generation": generation, "removed": removed})
        if entries:
            self.milvus.delete_ranges(removed)
            self._write(conn, _ids([(f, c) for op, f, c in entries if op >= 0]))  # added, re-labelled
        self.catalogue.publish(conn, _meta(conn), self.sentence_file)
        self._set_state(generation)
        self.milvus.settle()  # replicas see this commit on their next question

    def maintain(self, *, force: bool = False, first: bool = False) -> None:
        """Suit the collection's vector index to its size; write the catalogue records a merge
        changed; drop ``vector_log`` rows the collection reflects."""
        if self._changed():
            self._serve(self.generation, afresh=False)
        count = self.passage_count
        if not suits(self.milvus.kind(), count):
            self.milvus.reindex(plan(count))
        state = self.milvus.written or self.milvus.state() or {}  # this writer's own last word, if any
        generation = self.generation
        if state.get("generation") == generation and not state.get("pending"):
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM vector_log WHERE gen <= ?", (generation,))
                conn.execute("DELETE FROM ann_dead")
                self.db.set(log_from=generation, ann_file="", ann_generation=generation)  # FAISS: rebuild if opened
            for old in self.folder.glob("ann-*.faiss"):
                old.unlink(missing_ok=True)

    def _rows(self, conn: sqlite3.Connection, ids: Sequence[int] | np.ndarray) -> list[dict]:
        """Collection rows of the passages ``ids`` (as ``conn`` sees them; ids it lacks are left out)."""
        ids = [int(i) for i in ids]
        rows = select_in(
            conn,
            "SELECT p.id, p.doc_id, doc.outlet_key, doc.date, d.terms FROM passages p "
            "JOIN passage_data d ON d.id = p.id JOIN documents doc ON doc.doc_id = p.doc_id WHERE p.id IN ({})",
            ids,
        )
        rows.sort()
        term_ids = sorted({int(t) for r in rows for t in np.frombuffer(r[4], _I32)})
        names = dict(select_in(conn, "SELECT id, term FROM terms WHERE id IN ({})", term_ids))
        vectors = self.passage_file.read(np.array([r[0] for r in rows], dtype=np.int64)).astype(np.float32)
        out = []
        for (pid, doc_id, outlet, day, terms), vector in zip(rows, vectors):
            text = " ".join(names[int(t)] for t in np.frombuffer(terms, _I32))
            if len(text.encode("utf-8")) > _MAX_TERMS_BYTES:
                text = text.encode("utf-8")[: _MAX_TERMS_BYTES - 1].decode("utf-8", "ignore").rsplit(" ", 1)[0]
            out.append(
                {"id": pid, "doc_id": doc_id, "outlet": outlet, "date": day, "terms": text, "vector": vector.tolist()}
            )
        return out

    # ------------------------------------------------------------------ search

    def allowed(self, **filters) -> Selection:
        """As :meth:`IndexStore.allowed` (same keyword filters), with the same filter as a Milvus
        expression for the searches."""
        return Selection(super().allowed(**filters), milvus_filter(**filters))

    def search_dense(self, vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the ``k`` passages nearest ``vector`` (by inner product), among ``allowed``."""
        return self.milvus.dense(vector, k, allowed, ts=self.read_ts)

    def search_lexical(
        self, tokens: Sequence[str], k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and BM25 scores (Milvus's own) of the ``k`` best passages for ``tokens``, among ``allowed``.
        Where the server has no BM25 function, the index's own postings answer, as in the FAISS store."""
        if not self.milvus.bm25:
            return super().search_lexical(tokens, k, allowed=allowed)
        return self.milvus.bm25_search(tokens, k, allowed, ts=self.read_ts)


def milvus_filter(
    *,
    outlets: frozenset[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    doc_ids: frozenset[str] | None = None,
) -> str:
    """The Milvus expression of the filters of :meth:`IndexStore.allowed` on the passages collection."""
    where = []
    if outlets is not None:
        where.append(f"outlet in {_literal(sorted(outlets))}")
    if date_from or date_to:
        where.append('date != ""')
    if date_from:
        where.append(f"date >= {json.dumps(date_from)}")
    if date_to:
        where.append(f"date <= {json.dumps(date_to)}")
    if doc_ids is not None:
        where.append(f"doc_id in {_literal(sorted(doc_ids))}")
    return " and ".join(where) or "id >= 0"


def _meta(conn: sqlite3.Connection) -> dict:
    """The index's settings and counts as ``conn`` sees them (inside its transaction)."""
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def _ids(ranges: Sequence[Sequence[int]]) -> np.ndarray:
    """The ids of id ranges (first, count)."""
    return np.concatenate([np.arange(f, f + c, dtype=np.int64) for f, c in ranges] or [np.zeros(0, np.int64)])


@dataclass(frozen=True)
class Backend:
    """How to open an index folder for one ``store`` setting."""

    target: MilvusTarget | None = None

    @classmethod
    def parse(cls, spec: str | None) -> Backend:
        """From a ``store`` setting: None or ``"faiss"`` (the default), or a Milvus one (see the module docstring).

        Raises:
            StoreSpecError: ``spec`` is malformed.
        """
        if spec is None or spec.strip().lower() in ("", "faiss"):
            return cls()
        return cls(MilvusTarget.parse(spec))

    def check(self) -> None:
        """Fail now if the backend is not installed or cannot be reached.

        Raises:
            StoreSpecError: pymilvus is not installed.
            StoreUnavailableError: Milvus cannot be reached.
        """
        if self.target is not None and not self.target.lite:
            _Collection(self.target, 0).close()
        elif self.target is not None:
            _pymilvus(self.target)

    def open(self, folder: Path) -> IndexStore:
        """Open an existing index folder."""
        if self.target is None:
            return IndexStore.open(folder)
        return MilvusStore.open(folder, target=self.target)

    def wrap(self, folder: Path, db: Database, *, take_over: bool = False) -> IndexStore:
        """The store of an index just made at ``folder`` (its collection is written afresh;
        ``take_over``: even one that mirrors another index)."""
        if self.target is None:
            return IndexStore(folder, db)
        return MilvusStore(folder, db, target=self.target, made=True, take_over=take_over)


def check_behind(store: IndexStore) -> None:
    """Warn when a Milvus collection does not reflect the index's last commit (opened without writing)."""
    if isinstance(store, MilvusStore):
        why = store.behind()
        if why:
            warn(
                f"{store.target.describe()} does not reflect the index yet ({why}); "
                f"answers miss what it lacks until qa index --store {store.target.spec} brings it up to date"
            )
