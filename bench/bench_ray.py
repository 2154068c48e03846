"""Ingest on Ray Data beside the plain path, on this machine, with the real model.

    python bench/bench_ray.py [--articles 120] [--actors 2]

Takes the first ``--articles`` articles of the shared archive (copied to a scratch corpus
under ``bench/out``, never into the repository), and indexes them from scratch twice with
all-MiniLM-L6-v2: the plain path (one process, torch on every core), then ``ray="local"``
(a local Ray cluster of this machine's CPUs, ``--actors`` encoder actors of one CPU each).
It reports both rates, checks that the two indexes hold the same rows and vectors, times
the driver's commits (the one serial part of a Ray ingest), and projects the rate on N
machines from those. Writes ``bench/out/ray-bench.json`` and prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings import load_encoder  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.store import writer as writer_module  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "news-archive"
OUT = ROOT / "bench" / "out"
TABLES = (
    "SELECT doc_id, first_passage, passages, content FROM documents ORDER BY doc_id",
    "SELECT id, doc_id, char_start, char_end, text FROM passages ORDER BY id",
    "SELECT * FROM passage_data ORDER BY id",
    "SELECT * FROM terms ORDER BY id",
)


class _CommitClock:
    """Seconds spent in StoreWriter.commit and write_vectors (the driver's serial work)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._commit, self._vectors = writer_module.StoreWriter.commit, writer_module.StoreWriter.write_vectors

    def __enter__(self):
        clock = self

        def commit(writer, **kw):
            started = time.perf_counter()
            try:
                return clock._commit(writer, **kw)
            finally:
                clock.seconds += time.perf_counter() - started

        def vectors(writer, *args):
            started = time.perf_counter()
            try:
                return clock._vectors(writer, *args)
            finally:
                clock.seconds += time.perf_counter() - started

        writer_module.StoreWriter.commit, writer_module.StoreWriter.write_vectors = commit, vectors
        return self

    def __exit__(self, *exc) -> None:
        writer_module.StoreWriter.commit, writer_module.StoreWriter.write_vectors = self._commit, self._vectors


def _index(corpus: Path, index: Path, encoder, **kw) -> tuple[Assistant, float, float]:
    if index.exists():
        shutil.rmtree(index)
    with _CommitClock() as clock:
        started = time.perf_counter()
        assistant = Assistant.load(corpus=corpus, index=index, encoder=encoder, progress=False, **kw)
        seconds = time.perf_counter() - started
    return assistant, seconds, clock.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--actors", type=int, default=None, help="encoder actors (default: one per CPU)")
    args = parser.parse_args()

    corpus = OUT / "ray-bench-corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    for path in sorted((ARCHIVE / "corpus").glob("*.txt"))[: args.articles]:
        shutil.copy(path, corpus / path.name)
    encoder = load_encoder()

    plain, plain_s, plain_commit = _index(corpus, OUT / "ray-bench-plain", encoder)
    passages = plain.store.passage_count

    import ray

    from qa.indexing import on_ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_init = time.perf_counter() - started
    if args.actors:
        real = on_ray.read_and_encode

        def fixed(*a, **kw):
            return real(*a, **{**kw, "actors": args.actors})

        on_ray.read_and_encode = fixed
    on, ray_s, ray_commit = _index(corpus, OUT / "ray-bench-ray", encoder, ray="local")
    actors = args.actors or int(ray.cluster_resources().get("CPU", 1))
    ray.shutdown()

    a, b = (sqlite3.connect(x.store.folder / "index.sqlite") for x in (plain, on))
    same_rows = all(a.execute(q).fetchall() == b.execute(q).fetchall() for q in TABLES)
    ids = plain.store.live_ids()
    vector_gap = float(np.abs(plain.store.passage_file.read(ids) - on.store.passage_file.read(ids)).max())

    per_actor = passages / ray_s / actors  # passages/s one actor reads and encodes (start-up included)
    commit_rate = passages / max(ray_commit, 1e-9)  # passages/s the driver commits
    projection = {}
    for machines in (1, 4, 16, 64):
        cores = machines * 16
        projection[machines] = min(cores * per_actor, commit_rate)
    result = {
        "articles": args.articles,
        "passages": passages,
        "plain_seconds": plain_s,
        "plain_rate": passages / plain_s,
        "ray_seconds": ray_s,
        "ray_rate": passages / ray_s,
        "ray_init_seconds": ray_init,
        "actors": actors,
        "driver_commit_seconds": ray_commit,
        "plain_commit_seconds": plain_commit,
        "per_actor_rate": per_actor,
        "commit_rate": commit_rate,
        "same_rows": same_rows,
        "max_vector_difference": vector_gap,
        "projection_16_core_machines": projection,
    }
    (OUT / "ray-bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.articles} archive articles, {passages} passages, all-MiniLM-L6-v2, {os.cpu_count()} CPUs\n")
    print("| path | seconds | passages/s |\n|---|---|---|")
    print(f"| plain (one process) | {plain_s:.1f} | {passages / plain_s:.1f} |")
    print(f"| Ray Data, {actors} actors (local cluster) | {ray_s:.1f} | {passages / ray_s:.1f} |")
    print(
        f"\nRay start {ray_init:.1f} s (not in the Ray time); driver commits {ray_commit:.1f} s "
        f"({commit_rate:.0f} passages/s); one actor {per_actor:.1f} passages/s; same rows {same_rows}, "
        f"largest vector difference {vector_gap:.2g}"
    )
    print("\n| 16-core machines | projected passages/s | bound by |\n|---|---|---|")
    for machines, rate in projection.items():
        bound = "driver commits" if rate >= commit_rate else "encoding"
        print(f"| {machines} | {rate:.0f} | {bound} |")


if __name__ == "__main__":
    main()
