"""The REST API: versioned JSON endpoints over :class:`~qa.assistant.Assistant`, served beside the chat.

=======  ==============================  =================================================
POST     ``/v1/ask``                     an answer (:meth:`Answer.to_dict`): question, history, k,
                                         outlets, date_from, date_to, as_of
GET      ``/v1/quotes``                  a speaker's quotes (``speaker``, ``about``, filters,
                                         ``kinds``, ``min_confidence``, ``limit``)
GET      ``/v1/speakers``                who is quoted, most quoted first
GET      ``/v1/articles``                the indexed articles: ids, count, dates
GET      ``/v1/articles/{doc_id}``       one article: metadata, text and its blocks
POST     ``/v1/articles``                add articles: ``{"paths": [...]}``, inside the corpus folder (write key)
DELETE   ``/v1/articles/{doc_id}``       remove one article (write key)
GET      ``/v1/health``                  ``{"status": "ok"}`` (no key needed)
=======  ==============================  =================================================

The OpenAPI document is ``/v1/openapi.json``. Keys (:mod:`qa.apps.keys`) come as
``Authorization: Bearer KEY``. Every error is JSON, ``{"error": {"status", "type", "message"}}``,
with the library's own message: 400 for bad input, 401 for a missing, wrong or revoked key, 403
for a key without the rights, 404 for an unknown article, 409 for a change asked of a replica,
422 for a body of the wrong shape, 503 when the store cannot be reached, 500 otherwise (logged,
never a traceback).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from ..assistant import Assistant
from ..errors import (
    AuthenticationError,
    CorpusError,
    DocumentNotFoundError,
    PermissionDeniedError,
    QAError,
    ReplicaError,
    StoreUnavailableError,
)
from .keys import KeyRing

__all__ = ["API_VERSION", "build_api"]

API_VERSION = "v1"
#: The most passages one answer may ask for.
MOST_K = 100
log = logging.getLogger(__name__)
#: Declares the key in the OpenAPI document; the key itself is checked by the middleware, before the body is read.
_BEARER = HTTPBearer(auto_error=False, description="an API key made by qa keys add")


class AskBody(BaseModel):
    """What ``POST /v1/ask`` takes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="the question")
    history: list[str | dict[str, Any] | list[str | None]] = Field(
        default_factory=list,
        description="earlier turns: strings, role/content objects, or [user, assistant] pairs",
    )
    k: int = Field(5, ge=1, le=MOST_K, description="how many passages")
    outlets: list[str] | None = Field(None, description="only these outlets")
    date_from: str | None = Field(None, description="only articles dated on or after (YYYY-MM-DD)")
    date_to: str | None = Field(None, description="only articles dated on or before (YYYY-MM-DD)")
    as_of: str | None = Field(None, description="the day the question is asked (YYYY-MM-DD; today by default)")


class AddBody(BaseModel):
    """What ``POST /v1/articles`` takes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    paths: list[str] = Field(
        min_length=1, description="article files or folders, relative to the corpus folder (or inside it)"
    )


def _status(exc: BaseException) -> int:
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, DocumentNotFoundError):
        return 404
    if isinstance(exc, ReplicaError):
        return 409
    if isinstance(exc, StoreUnavailableError):
        return 503
    if isinstance(exc, (ValueError, CorpusError)):
        return 400
    return 500


def _error(status: int, kind: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"status": status, "type": kind, "message": message}}, status, headers=headers)


def build_api(assistant: Assistant, *, keys: KeyRing, concurrency: int | None = None) -> FastAPI:
    """The REST API over ``assistant`` (see the module docstring).

    Args:
        assistant: the loaded assistant.
        keys: the keys it accepts (every request needs one when any is in force; add and remove
            always need one with write rights).
        concurrency: how many requests are answered at once (None: no limit); more wait their turn.
    """
    app = FastAPI(
        title="News QA",
        version=API_VERSION,
        description="Verbatim, cited passages from a news archive; who said what, and where outlets differ.",
        openapi_url=f"/{API_VERSION}/openapi.json",
        docs_url=f"/{API_VERSION}/docs",
        redoc_url=None,
    )
    turns = threading.BoundedSemaphore(concurrency) if concurrency else None
    writing = threading.Lock()  # one change to the index at a time from this process

    open_paths = {f"/{API_VERSION}/health", app.openapi_url, app.docs_url}

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        """Every /v1 request but the open ones needs a key in force (when any is); a change to the
        index needs one with write rights. Checked before the body is read."""
        path = request.url.path
        if path.startswith(f"/{API_VERSION}/") and path not in open_paths:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme and scheme.lower() != "bearer":
                return _error(401, "AuthenticationError", "send the API key as Authorization: Bearer KEY")
            writes = request.method in ("POST", "DELETE") and path.startswith(f"/{API_VERSION}/articles")
            try:
                keys.check(key.strip() or None, write=writes)
            except (AuthenticationError, PermissionDeniedError) as exc:
                return _error(_status(exc), type(exc).__name__, str(exc))
        return await call_next(request)

    def run(call):
        if turns is None:
            return call()
        with turns:
            return call()

    @app.exception_handler(QAError)
    async def library_error(request: Request, exc: QAError) -> JSONResponse:
        status = _status(exc)
        if status == 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return _error(status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "RequestValidationError", "; ".join(problems) + " (see /v1/openapi.json)")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, "InternalError", f"the request failed ({type(exc).__name__}); see the server log")

    router = APIRouter(prefix=f"/{API_VERSION}", dependencies=[Depends(_BEARER)])

    @app.get(f"/{API_VERSION}/health", tags=["service"])
    def health() -> dict:
        """Whether the server is up (no key needed)."""
        return {"status": "ok"}

    @router.post("/ask", tags=["answers"])
    def ask(body: AskBody) -> dict:
        """Answer a question with cited, verbatim passages (``Answer.to_dict()``)."""
        answer = run(
            lambda: assistant.ask(
                body.question,
                k=body.k,
                history=body.history,
                outlets=body.outlets,
                date_from=body.date_from,
                date_to=body.date_to,
                as_of=body.as_of,
            )
        )
        return answer.to_dict()

    @router.get("/quotes", tags=["who said what"])
    def quotes(
        speaker: Annotated[str, Query(description="a name, surname or alias")],
        about: Annotated[str | None, Query(description="rank the quotes by closeness to this")] = None,
        outlets: Annotated[list[str] | None, Query(description="only these outlets")] = None,
        date_from: str | None = None,
        date_to: str | None = None,
        kinds: Annotated[list[str] | None, Query(description="direct, reported, carried, belief, document")] = None,
        min_confidence: Annotated[float | None, Query(ge=0.0, le=1.0, description="0 for doubtful too")] = None,
        limit: Annotated[int | None, Query(ge=1, le=1000)] = 50,
    ) -> list[dict]:
        """A speaker's quotes, each cited: best first for ``about``, newest first without."""
        found = run(
            lambda: assistant.quotes(
                speaker,
                about,
                outlets=outlets,
                date_from=date_from,
                date_to=date_to,
                kinds=kinds,
                min_confidence=min_confidence,
                limit=limit,
            )
        )
        return [q.to_dict() for q in found]

    @router.get("/speakers", tags=["who said what"])
    def speakers(
        outlets: Annotated[list[str] | None, Query()] = None,
        date_from: str | None = None,
        date_to: str | None = None,
        unnamed: bool = False,
        kinds: Annotated[list[str] | None, Query()] = None,
        min_confidence: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    ) -> list[dict]:
        """Everyone quoted by name, most quoted first, with the outlets that quote them."""
        found = run(
            lambda: assistant.speakers(
                outlets=outlets,
                date_from=date_from,
                date_to=date_to,
                unnamed=unnamed,
                kinds=kinds,
                min_confidence=min_confidence,
            )
        )
        return [asdict(s) for s in found]

    @router.get("/articles", tags=["articles"])
    def articles() -> dict:
        """The indexed articles' ids, their count and dates."""
        store = assistant.store
        return {**store.summary(), "ids": store.document_ids(), "outlets": assistant.outlets}

    @router.get("/articles/{doc_id:path}", tags=["articles"])
    def article(doc_id: str) -> dict:
        """One indexed article: its metadata, its text and its blocks (paragraphs and headings)."""
        if assistant.store.document(doc_id) is None:
            raise DocumentNotFoundError(f"no article {doc_id!r} in the index; GET /v1/articles lists them")
        found = run(lambda: assistant.article(doc_id))
        origin = {} if found.origin is None else {k: v for k, v in asdict(found.origin).items() if k != "text"}
        return {
            "doc_id": found.doc_id,
            **asdict(found.meta),
            "text": found.text,
            "blocks": list(found.blocks),
            "origin": origin or None,
        }

    @router.post("/articles", tags=["articles"], status_code=200)
    def add(body: AddBody) -> dict:
        """Index the article files at ``paths`` (inside the corpus folder); the next question sees them."""
        if assistant.corpus is None:  # a replica: refused with its reason
            return asdict(assistant.add(body.paths))
        corpus = Path(assistant.corpus).resolve()
        paths = []
        for raw in body.paths:
            path = (corpus / raw).resolve()
            if not path.is_relative_to(corpus):
                raise CorpusError(f"{raw!r} is outside the corpus folder; the API adds files inside it only")
            paths.append(path)
        with writing:
            report = assistant.add(paths)
        return asdict(report)

    @router.delete("/articles/{doc_id:path}", tags=["articles"])
    def remove(doc_id: str) -> dict:
        """Take one article out of the index (its file is left alone)."""
        with writing:
            report = assistant.remove([doc_id])
        return asdict(report)

    app.include_router(router)
    return app
