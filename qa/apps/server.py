"""``qa serve``: the web chat and the REST API in one server, with keys when it is exposed.

The chat (:mod:`qa.apps.webchat`) is mounted at ``/`` and the API (:mod:`qa.apps.api`) answers
under ``/v1``, both over the same :class:`~qa.assistant.Assistant`, run by uvicorn. When any API
key is in force (:mod:`qa.apps.keys`), both need one: the API as ``Authorization: Bearer KEY``,
the chat through a login. A server bound to anything but loopback without a key refuses to start
(``--insecure`` overrides that on a closed network, with a warning).
"""

from __future__ import annotations

import os
import threading
import time

from ..assistant import Assistant
from ..errors import QAError
from .keys import KeyRing, check_exposure

__all__ = ["Running", "build_server", "serve", "start"]

#: Seconds to wait for the server to listen before giving up.
START_SECONDS = 60.0


def build_server(
    assistant: Assistant,
    *,
    keys: KeyRing | None = None,
    title: str = "News QA",
    concurrency: int | None = None,
):
    """The ASGI app: the REST API under ``/v1`` and the chat at ``/``.

    Args:
        assistant: the loaded assistant.
        keys: the keys in force (None: none; reads are then open and writes refused).
        title: the chat's page title.
        concurrency: how many answers run at once in the chat and in the API, each (None: the
            chat's default, twice the CPU cores).
    """
    from .api import build_api
    from .webchat import DEFAULT_CONCURRENCY, build_app, mount

    keys = keys if keys is not None else KeyRing()
    limit = DEFAULT_CONCURRENCY if concurrency is None else concurrency or None
    app = build_api(assistant, keys=keys, concurrency=limit)
    demo = build_app(assistant, title=title, concurrency=limit)
    return mount(app, demo, concurrency=limit, login=keys.login if keys.required else None)


class Running:
    """A server started with ``block=False``: its ``url``, and :meth:`stop`."""

    def __init__(self, server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start(app, *, host: str = "127.0.0.1", port: int = 7860, block: bool = True, quiet: bool = False) -> Running | None:
    """Serve ``app`` on ``host:port`` (port 0: any free one) with uvicorn.

    ``block``: serve until interrupted (returns None); otherwise serve from a thread and return
    the :class:`Running` server once it listens.

    Raises:
        QAError: the server could not listen (the port is taken, say).
    """
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    if block:
        if not quiet:
            print(f"* serving on http://{_url_host(host)}:{port} (chat at /, API at /v1, Ctrl-C to stop)", flush=True)
        server.run()
        return None
    thread = threading.Thread(target=server.run, name="qa-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise QAError(f"the server could not listen on {host}:{port} (is the port taken?)")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1] if port == 0 else port
    url = f"http://{_url_host(host)}:{bound}/"
    if not quiet:
        print(f"* serving on {url} (chat at /, API at /v1)", flush=True)
    return Running(server, thread, url)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(
    *,
    corpus: str | os.PathLike = "corpus",
    index: str | os.PathLike = "index",
    model: str | os.PathLike | None = None,
    rerank: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    store: str | None = None,
    sentence_vectors: str = "pooled",
    attribution_model: str | os.PathLike | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    concurrency: int | None = None,
    keys: str | os.PathLike | None = None,
    insecure: bool = False,
    replica: bool = False,
    block: bool = True,
) -> Running | None:
    """Load (or build) the index of ``corpus`` and serve the chat and the API on ``host:port``.

    Args:
        corpus: folder of articles.
        index: index folder (built or refreshed when needed).
        model: sentence-transformers model name or path (default: the index's model, or
            all-MiniLM-L6-v2 for a new index).
        rerank: optional second stage, as in :meth:`~qa.assistant.Assistant.load`.
        weights: retrieval weights file, as in :meth:`~qa.assistant.Assistant.load`.
        store: where searches run, as in :meth:`~qa.assistant.Assistant.load`.
        sentence_vectors: how sentence vectors are made, as in :meth:`~qa.assistant.Assistant.load`.
        attribution_model: who said what, as in :meth:`~qa.assistant.Assistant.load`.
        host: address to bind; 127.0.0.1 keeps the server on this machine. Any other needs an
            API key in force, or ``insecure``.
        port: TCP port.
        concurrency: how many answers run at once (None: twice the CPU cores, at most 16; 0: no limit).
        keys: the keys file (see :func:`qa.apps.keys.keys_file`); ``QA_API_KEYS`` adds to it.
        insecure: serve on a non-loopback address without keys (a warning is printed).
        replica: answer from the Milvus server named by ``store`` alone, with no index folder and no
            corpus (see :meth:`~qa.assistant.Assistant.load`); any number of replicas can serve
            behind a load balancer.
        block: keep serving until interrupted (False: return the :class:`Running` server).

    Raises:
        ExposedError: ``host`` is not loopback, no key is in force and ``insecure`` is off.
        KeysFileError: the keys file or ``QA_API_KEYS`` is malformed.
        QAError: the corpus, index or model cannot be loaded.

    Example:
        >>> serve(corpus="corpus", index="index", port=7860)  # doctest: +SKIP
    """
    ring = KeyRing.load(keys)
    check_exposure(host, ring, insecure=insecure)  # before the model loads
    assistant = Assistant.load(
        corpus=corpus,
        index=index,
        model=model,
        rerank=rerank,
        weights=weights,
        store=store,
        sentence_vectors=sentence_vectors,
        attribution_model=attribution_model,
        progress=True,
        replica=replica,
    )
    app = build_server(assistant, keys=ring, concurrency=concurrency)
    return start(app, host=host, port=port, block=block)
