"""The archive on the Milvus store (Milvus Lite, or a real server) beside the default FAISS store.

    python bench/bench_milvus.py [--index bench/out/archive-index] [--server]

With ``--server``, a real Milvus 2.3.5 server (the ``milvus`` package's binary) is started in a
loopback-only network namespace, as the tests start it (:mod:`tests.milvus_server`; root), and
the collection is written there instead of into a Milvus Lite file.

Copies the archive's index folder (the catalogue) to ``bench/out/archive-milvus-index``, writes
its passages into a Milvus Lite collection (timed), then asks the 200 archive questions of
both stores (both opened as they stand, so they share one catalogue), each as of its quiz's
day, and reports:

* how often the two give the same first passage, the same top 5 in order, and the overlap of
  their top 10;
* hit@1 / hit@5 / MRR@10 of each (a passage holding an evidence string, as ``qa eval`` scores);
* the overlap of the two BM25 candidate searches (the index's own postings against Milvus's
  BM25 function over the same terms) and of the two dense searches;
* time per question (p50, p95) and the cost of adding and removing one article.

Writes ``bench/out/milvus-bench.json`` and prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_archive import _metrics as rank_metrics  # noqa: E402

from embeddings import encode_queries  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.apps.evaluation import EvidenceFinder, load_questions  # noqa: E402
from qa.search.analysis import analyse  # noqa: E402
from qa.store.milvus import MilvusStore, MilvusTarget  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "news-archive"
OUT = ROOT / "bench" / "out"


def _top(assistant: Assistant, questions, k: int = 10) -> tuple[list[list[tuple[str, int]]], list[float]]:
    tops, seconds = [], []
    for q in questions:
        started = time.perf_counter()
        answer = assistant.ask(q.question, k=k, history=q.history, as_of=q.asked_on)
        seconds.append(time.perf_counter() - started)
        tops.append([(h.passage.doc_id, h.passage.char_start) for h in answer.hits])
    return tops, seconds


def _metrics(tops, relevant) -> dict[str, float]:
    """hit@1, hit@5, hit@10 and MRR@10 of the ranked keys ``tops`` (as :mod:`bench_archive` counts them)."""
    ranks = [next((i + 1 for i, key in enumerate(top) if key in rel), None) for top, rel in zip(tops, relevant)]
    return rank_metrics(ranks)


def _searches(faiss: Assistant, milvus: Assistant, questions, pool: int) -> dict[str, float]:
    dense, lexical = [], []
    vectors = encode_queries(faiss.encoder, [q.question for q in questions])
    with faiss.store.reading(), milvus.store.reading():
        for q, v in zip(questions, vectors):
            tokens = list(analyse(q.question).tokens)
            a = set(faiss.store.search_dense(v, pool).tolist())
            b = set(milvus.store.search_dense(v, pool).tolist())
            dense.append(len(a & b) / pool)
            a = set(faiss.store.search_lexical(tokens, pool)[0].tolist())
            b = set(milvus.store.search_lexical(tokens, pool)[0].tolist())
            lexical.append(len(a & b) / max(len(a | b), 1) if a or b else 1.0)
    return {"dense_overlap": float(np.mean(dense)), "bm25_jaccard": float(np.mean(lexical))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(OUT / "archive-index"))
    parser.add_argument("--corpus", default=str(ARCHIVE / "corpus"))
    parser.add_argument("--questions", default=str(ARCHIVE / "questions.jsonl"))
    parser.add_argument("--server", action="store_true", help="a real Milvus 2.3.5 server instead of Milvus Lite")
    args = parser.parse_args()
    if not args.server:
        run(args, "milvus-lite:" + str(OUT / "archive-milvus.db"), "Milvus Lite", OUT / "milvus-bench.json")
        return
    from tests.milvus_server import RealMilvus

    shutil.rmtree(OUT / "real-milvus", ignore_errors=True)
    with RealMilvus(OUT / "real-milvus") as server:
        run(args, f"{server.uri}/archive", "Milvus 2.3.5 server", OUT / "milvus-server-bench.json")


def run(args, store: str, name: str, out: Path) -> None:
    """Write the archive's collection to ``store``, ask both stores, and report (see the module docstring)."""

    copy = OUT / "archive-milvus-index"
    lite = OUT / "archive-milvus.db"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.rmtree(lite, ignore_errors=True)
    lite.unlink(missing_ok=True)
    shutil.copytree(args.index, copy)
    faiss = Assistant.load(corpus=args.corpus, index=args.index, progress=False, refresh=False)
    started = time.perf_counter()
    catalogue = MilvusStore.open(copy, target=MilvusTarget.parse(store))
    catalogue.recover()  # what a writer does first: the collection written from the catalogue
    catalogue.close()
    written = time.perf_counter() - started
    milvus = Assistant.load(
        corpus=args.corpus, index=copy, encoder=faiss.encoder, progress=False, refresh=False, store=store
    )
    passages = milvus.store.passage_count
    assert milvus.store.milvus.count() == passages, "the collection does not hold every passage"

    questions = load_questions(args.questions)
    _top(faiss, questions[:5])
    _top(milvus, questions[:5])  # warm both
    top_f, sec_f = _top(faiss, questions)
    top_m, sec_m = _top(milvus, questions)
    agree = {
        "same_first": float(np.mean([bool(a and b and a[0] == b[0]) for a, b in zip(top_f, top_m)])),
        "same_top5": float(np.mean([a[:5] == b[:5] for a, b in zip(top_f, top_m)])),
        "top10_overlap": float(np.mean([len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(top_f, top_m)])),
    }
    searches = _searches(faiss, milvus, questions[:50], faiss.retriever.config.candidates)
    passages_view = faiss.passages
    finder = EvidenceFinder(passages_view)
    relevant = []
    for q in questions:
        rows = finder.rows(q.evidence) if q.answerable else []
        relevant.append({(passages_view[i].doc_id, passages_view[i].char_start) for i in rows})
    metrics = {"faiss": _metrics(top_f, relevant), "milvus": _metrics(top_m, relevant)}
    timing = {
        name: {"p50_ms": 1000 * float(np.percentile(s, 50)), "p95_ms": 1000 * float(np.percentile(s, 95))}
        for name, s in (("faiss", sec_f), ("milvus", sec_m))
    }
    # one article out and back in, on the Milvus store (the writer path: catalogue + collection)
    doc_id = milvus.store.document_ids()[0]
    started = time.perf_counter()
    milvus.remove([doc_id])
    removed = time.perf_counter() - started
    assert milvus.store.milvus.count() == milvus.store.passage_count
    started = time.perf_counter()
    milvus.add([Path(args.corpus) / doc_id])  # the copy is opened as it stands: the rest is not cut again
    added = time.perf_counter() - started
    assert milvus.store.milvus.count() == passages

    result = {
        "passages": passages,
        "write_all_seconds": written,
        "write_rate": passages / written,
        "agreement": agree,
        "searches": searches,
        "metrics": metrics,
        "latency": timing,
        "remove_one_article_seconds": removed,
        "add_it_back_seconds": added,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{name}: {passages} passages written in {written:.1f} s ({passages / written:.0f} passages/s)\n")
    print(f"| | FAISS store | {name} store |\n|---|---|---|")
    for key in ("hit@1", "hit@5", "mrr@10"):
        print(f"| {key} | {metrics['faiss'][key]:.3f} | {metrics['milvus'][key]:.3f} |")
    for key in ("p50_ms", "p95_ms"):
        print(f"| ask() {key[:3]} | {timing['faiss'][key]:.1f} ms | {timing['milvus'][key]:.1f} ms |")
    print(
        f"\nsame first passage {agree['same_first']:.3f}, same top 5 {agree['same_top5']:.3f}, "
        f"top-10 overlap {agree['top10_overlap']:.3f}; dense candidates overlap {searches['dense_overlap']:.3f}, "
        f"BM25 candidates Jaccard {searches['bm25_jaccard']:.3f}"
    )
    print(f"remove one article {removed:.2f} s; add it back {added:.2f} s (encoding included)")


if __name__ == "__main__":
    main()
