"""Ingest on Ray: articles are read, cut and encoded by Ray Data workers; commits stay here.

    work (each article's reader, serialised) -> map_batches(encoder actors: read, cut, encode)
        -> rows, in order

Each actor loads the encoder once (by name for this package's encoders, so every machine of
the cluster loads its own copy; any other encoder object is shipped as it is), then for each
batch of articles reads the files, cuts them into passages with their sentence facts and
tokens (as :func:`qa.indexing.reading.prepare` does), and encodes their passages and sentences.
Rows come back in the order of the work (Ray Data keeps it), so passage ids are given out as a
plain ingest gives them. Duplicates are found, batches formed and commits made in this
process, through the store's normal atomic path (:func:`qa.indexing.ingest.ingest`): a batch
is in the index whole, or not at all.

An actor that dies is started again and its articles are tried again, up to
:data:`MAX_RESTARTS` times; past that the job fails with a :class:`~qa.errors.RayError`, and
the batches committed before it stay (running ``qa index`` again resumes from there).

Workers must see the corpus at the same path as this process (a shared file system, or one
machine): they read the files themselves.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import re
import socket
from collections.abc import Iterator, Sequence

from embeddings import Encoder, encode_passages

from ..errors import RayError
from ..ingest.passages import Chunking
from .reading import Outcome, read_one, relative_spans

__all__ = ["ARTICLES_PER_BATCH", "MAX_RESTARTS", "read_and_encode"]

#: Articles an actor reads and encodes per call (about 60 passages of news).
ARTICLES_PER_BATCH = 8
#: Times a dead encoder actor is started again (and its batch retried) before the job fails.
MAX_RESTARTS = 2


def _ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayError("ingest on Ray needs Ray Data: pip install -e '.[ray]'") from exc
    return ray


@contextlib.contextmanager
def connected(address: str) -> Iterator[object]:
    """Ray, connected to ``address`` (``"local"``: a cluster of this machine, shut down after the
    block; an already initialised Ray is used as it is).

    Raises:
        RayError: Ray is not installed or the cluster cannot be reached.
    """
    ray = _ray()
    started = False
    if not ray.is_initialized():
        _check_reachable(address)  # ray.init waits for an unreachable head for ever
        try:
            ray.init(
                address=None if address in ("", "local") else address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError: Ray raises many
            raise _unreachable(address, f"{type(exc).__name__}: {exc}") from exc
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast when ``address`` names a host and port that accept no connection."""
    match = re.match(r"^(?:ray://)?\[?([^\]/]+?)\]?:(\d+)$", address.strip())
    if not match:
        return  # "local", "auto": Ray finds (or starts) the cluster itself
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout).close()
    except OSError as exc:
        raise _unreachable(address, str(exc)) from exc


def _unreachable(address: str, why: str) -> RayError:
    return RayError(
        f"cannot reach the Ray cluster at {address!r} ({why}); pass --ray with the head's address "
        "(ray://HOST:10001 or HOST:6379), or --ray alone for a cluster of this machine"
    )


def _encoder_spec(encoder: Encoder) -> tuple[str, object]:
    from embeddings.encoder import E5Encoder, SentenceTransformerEncoder

    if isinstance(encoder, (SentenceTransformerEncoder, E5Encoder)):
        return ("name", encoder.name)
    return ("object", encoder)


class _ReadAndEncode:
    """A Ray Data actor: reads, cuts and encodes batches of articles (see the module docstring)."""

    def __init__(self, encoder_spec, chunking: Chunking, max_bytes: int, pooled: bool) -> None:
        from embeddings import load_encoder

        kind, value = encoder_spec
        self.encoder = load_encoder(value) if kind == "name" else value
        self.chunking, self.max_bytes, self.pooled = chunking, max_bytes, pooled

    def __call__(self, batch: dict) -> dict:
        import numpy as np
        from ray import cloudpickle

        rows = [int(i) for i in batch["at"]]
        outcomes = [read_one(cloudpickle.loads(w), self.chunking, self.max_bytes) for w in batch["work"]]
        texts, spans, owners = [], [], []
        for at, outcome in enumerate(outcomes):
            if outcome.prepared is not None:
                for p in outcome.prepared.passages:
                    texts.append(p.text)
                    spans.append(relative_spans(p))
                    owners.append(at)
        vectors: list[tuple[list, list] | None] = [([], []) if o.prepared is not None else None for o in outcomes]
        if texts:
            passages, sentences = encode_passages(self.encoder, texts, spans, pooled=self.pooled)
            for owner, pv, sv in zip(owners, passages, sentences):
                vectors[owner][0].append(np.asarray(pv, np.float32))
                vectors[owner][1].append(np.asarray(sv, np.float32))
        payload = [  # the article itself (with its reader) stays with the driver
            pickle.dumps((o.prepared, o.skip, o.reason, v), protocol=pickle.HIGHEST_PROTOCOL)
            for o, v in zip(outcomes, vectors)
        ]
        return {"at": np.array(rows, dtype=np.int64), "payload": np.array(payload, dtype=object)}


def read_and_encode(
    work: Sequence,
    encoder: Encoder,
    *,
    chunking: Chunking,
    max_bytes: int,
    pooled: bool,
    address: str = "local",
    actors: int | None = None,
) -> Iterator[tuple[object, tuple | None]]:
    """(outcome, vectors) of every article of ``work``, in its order, read and encoded on Ray.

    ``outcome`` is what :func:`qa.indexing.reading.read_one` made of the article; ``vectors`` is
    (passage vectors, sentence vectors per passage) when it was prepared, else None.
    ``actors``: encoder actors (default: one per CPU of the cluster).

    Raises:
        RayError: Ray is missing or unreachable, or the job failed after its retries.
    """
    with connected(address) as ray:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        count = actors or max(1, int(ray.cluster_resources().get("CPU", os.cpu_count() or 1)))
        blocks = max(1, min(math.ceil(len(work) / ARTICLES_PER_BATCH), 1000))
        from ray import cloudpickle  # an article's reader is a closure over its source

        items = [{"at": i, "work": cloudpickle.dumps(item)} for i, item in enumerate(work)]
        dataset = ray.data.from_items(items, override_num_blocks=blocks)
        dataset = dataset.map_batches(
            _ReadAndEncode,
            fn_constructor_kwargs={
                "encoder_spec": _encoder_spec(encoder),
                "chunking": chunking,
                "max_bytes": max_bytes,
                "pooled": pooled,
            },
            batch_size=ARTICLES_PER_BATCH,
            compute=ray.data.ActorPoolStrategy(size=count),
            num_cpus=1,
            max_restarts=MAX_RESTARTS,
            max_task_retries=MAX_RESTARTS,
        )
        done = 0
        try:
            for row in dataset.iter_rows():
                prepared, skip, reason, vectors = pickle.loads(row["payload"])
                done += 1
                yield Outcome(work[int(row["at"])], prepared, skip, reason), vectors
        except Exception as exc:
            raise RayError(
                f"the Ray ingest job failed after {done} of {len(work)} articles came back "
                f"({type(exc).__name__}: {str(exc).strip()[:300]}); the index holds the batches committed "
                "before, each whole: run qa index again to resume"
            ) from exc
