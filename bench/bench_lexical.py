"""Lexical search three ways, on the shared archive: SQLite FTS5, bm25s, and the index's own postings.

    python bench/bench_lexical.py [--copies 10]

All three index the same BM25 tokens (the project's tokenizer: folded, stopwords out, stemmed)
of every passage of ``bench/out/archive-index`` (made by ``bench_scale.py --archive``), repeated
``--copies`` times under new ids for a larger collection. Reported for each: building it, adding
10 articles' passages to it, the top-100 search per archive question (p50/p95), and, on the
single copy, BM25 alone as a retriever of the archive questions' answers (hit@1/5/10 against
the evidence) and agreement of its top 100 with Lucene BM25 (bm25s). Prints Markdown and
writes ``bench/out/lexical.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.apps.evaluation import EvidenceFinder, load_questions  # noqa: E402
from qa.lexical import tokenize  # noqa: E402
from qa.store import IndexStore  # noqa: E402
from qa.store.writer import StoreWriter  # noqa: E402

SHARED = ROOT.parent / "shared" / "news-archive"
OUT = ROOT / "bench" / "out"


def _pct(values, q):
    return round(float(np.percentile(values, q)), 2)


def _figures(build: float, add_s: float, times: list[float]) -> dict:
    """A run's build and add times (s) and its query latency percentiles (ms)."""
    return {
        "build_s": round(build, 2),
        "add_10_s": round(add_s, 3),
        "p50_ms": _pct(times, 50),
        "p95_ms": _pct(times, 95),
    }


def fts5(tokens: list[list[str]], queries: list[list[str]], add: list[list[str]]) -> tuple[dict, list]:
    """FTS5 over the space-joined tokens (unicode61 splits on spaces only here), ranked by its bm25()."""
    folder = Path(tempfile.mkdtemp())
    conn = sqlite3.connect(folder / "fts.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = \"unicode61 tokenchars '%$€£'\", detail=column)")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", ((i, " ".join(t)) for i, t in enumerate(tokens)))
    conn.execute("COMMIT")
    conn.execute("INSERT INTO t(t) VALUES ('optimize')")
    build = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO t(rowid, body) VALUES (?, ?)", ((len(tokens) + i, " ".join(t)) for i, t in enumerate(add))
    )
    conn.execute("COMMIT")
    add_s = time.perf_counter() - started
    times, runs = [], []
    for q in queries:
        terms = sorted(set(q))
        if not terms:
            runs.append([])
            continue
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        started = time.perf_counter()
        rows = conn.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 100", (match,)).fetchall()
        times.append(1000 * (time.perf_counter() - started))
        runs.append([r[0] for r in rows])
    return _figures(build, add_s, times), runs


def bm25s_run(tokens: list[list[str]], queries: list[list[str]], add: list[list[str]]) -> tuple[dict, list]:
    """bm25s over the same tokens; adding means indexing everything again (its matrix holds IDF)."""
    import bm25s

    started = time.perf_counter()
    index = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    index.index(tokens, show_progress=False)
    build = time.perf_counter() - started
    started = time.perf_counter()
    bm25s.BM25(k1=1.2, b=0.75, method="lucene").index(tokens + add, show_progress=False)
    add_s = time.perf_counter() - started
    times, runs = [], []
    for q in queries:
        known = [t for t in q if t in index.vocab_dict]
        started = time.perf_counter()
        scores = index.get_scores(known) if known else np.zeros(len(tokens))
        top = np.argpartition(-scores, 100)[:100]
        top = top[np.argsort(-scores[top])]
        times.append(1000 * (time.perf_counter() - started))
        runs.append([int(i) for i in top if scores[i] > 0])
    return _figures(build, add_s, times), runs


def postings_run(source: IndexStore, copies: int, queries: list[list[str]]) -> tuple[dict, list]:
    """The index's own segmented postings: timed on a copy of the archive index's text side."""
    from dataclasses import replace

    from qa.indexing.ingest import _create
    from qa.ingest.passages import Chunking

    class Spec:
        name, dimension = source.model, source.dimension

    folder = Path(tempfile.mkdtemp()) / "index"
    store = _create(folder, Spec, Chunking())
    writer = StoreWriter(store)
    articles = _articles(source)
    started = time.perf_counter()
    for copy in range(copies):
        batch, count = [], 0
        for a in articles:
            batch.append(a if copy == 0 else replace(a, doc_id=f"copy{copy}/{a.doc_id}"))
            count += len(a.passages)
            if count >= 4096:
                _commit_text(writer, batch)
                batch, count = [], 0
        _commit_text(writer, batch)
    writer.merge()
    build = time.perf_counter() - started
    started = time.perf_counter()
    _commit_text(writer, [replace(a, doc_id=f"added/{a.doc_id}") for a in articles[:10]])
    writer.merge()
    add_s = time.perf_counter() - started
    times, runs = [], []
    for q in queries:
        started = time.perf_counter()
        ids, _ = store.search_lexical(q, 100)
        times.append(1000 * (time.perf_counter() - started))
        runs.append(ids.tolist())
    return _figures(build, add_s, times), runs


def _commit_text(writer: StoreWriter, batch) -> None:
    """Commit articles with zero vectors (only the text side is timed here)."""
    if not batch:
        return
    dim = writer.store.dimension
    n = sum(len(a.passages) for a in batch)
    s = sum(a.sentence_count for a in batch)
    first_p, first_s = writer.next_ids()
    writer.write_vectors(first_p, np.zeros((n, dim)), first_s, np.zeros((s, dim)))
    writer.commit(add=batch, first_passage=first_p, first_sentence=first_s)


_CACHE: list = []


def _articles(source: IndexStore):
    """The archive's articles through the text side again (as Prepared records)."""
    if _CACHE:
        return _CACHE
    from qa.indexing.ingest import _loader
    from qa.indexing.reading import Work, prepare
    from qa.ingest.documents import ArticleMeta, CorpusFolder
    from qa.ingest.passages import Chunking

    corpus = CorpusFolder(SHARED / "corpus")
    states = corpus.scan({})
    for name in sorted(states):
        if source.document(name) is None:
            continue
        work = Work(name, "corpus", states[name], ArticleMeta(), _loader(corpus, name), False)
        _CACHE.append(prepare(work.load(), work, Chunking()))
    return _CACHE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="also measure on this many copies of the archive")
    args = parser.parse_args()
    source = IndexStore.open(OUT / "archive-index")
    articles = _articles(source)
    passages = [p for a in articles for p in a.passages]
    tokens = [[t for s in a_tokens for t in s] for a in articles for a_tokens in a.tokens]
    questions = load_questions(SHARED / "questions.jsonl")
    queries = [tokenize(q.question) for q in questions]
    add = tokens[:150]
    finder = EvidenceFinder(passages)
    relevant = [set(finder.rows(q.evidence)) for q in questions]
    results: dict = {}
    for copies in (1, args.copies):
        many = tokens * copies
        rows = {}
        for name, run in (("fts5", fts5), ("bm25s", bm25s_run)):
            figures, runs = run(many, queries, add)
            rows[name] = (figures, runs)
        figures, runs = postings_run(source, copies, queries)
        rows["postings"] = (figures, runs)
        reference = rows["bm25s"][1]
        for figures, runs in rows.values():
            figures["passages"] = len(many)
            figures["top100_agreement_with_bm25s"] = round(
                float(np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(runs, reference) if b])), 4
            )
            if copies == 1:  # every id, in all three, is the passage's position (the postings allocate in order)
                ranks = []
                for run, rel in zip(runs, relevant):
                    first = next((r + 1 for r, i in enumerate(run) if int(i) % len(passages) in rel), None)
                    ranks.append(first)
                for k in (1, 5, 10):
                    figures[f"hit@{k}"] = round(float(np.mean([bool(r and r <= k) for r in ranks])), 3)
        results[f"x{copies}"] = {name: figures for name, (figures, _) in rows.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lexical.json").write_text(json.dumps(results, indent=2) + "\n")
    for size, rows in results.items():
        print(f"\n{size}:")
        keys = list(next(iter(rows.values())))
        print("| | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for name, figures in rows.items():
            print(f"| {name} | " + " | ".join(str(figures.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
