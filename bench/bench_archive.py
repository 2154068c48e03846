"""Quality on the shared news archive: the assistant beside bm25s, dense and RRF on the same passages.

    python bench/bench_archive.py [--index bench/out/archive-index] [--rerank all-mpnet-base-v2]

The 200 news-quiz questions of ``../shared/news-archive/`` are split once, by a hash of their
ids: 50 are kept aside (nothing is chosen by them; they are reported apart) and 150 are the
ones the ranking may be looked at on. Every question is asked as of its quiz's day
(``asked_on``), as ``qa eval`` does. Baselines rank the index's own passages:

* bm25s (English stemmer and stopwords), as the archive's README measured it;
* dense: exact inner product over every passage vector (all-MiniLM-L6-v2);
* RRF (k = 60) of those two.

Variants of the assistant rank the same precomputed candidate features. Writes
``bench/out/archive-bench.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tune import build_cases, ranking_metrics  # noqa: E402

from embeddings import encode_queries  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.evaluation import EvalQuestion, EvidenceFinder, load_questions  # noqa: E402
from qa.rerank import load_reranker  # noqa: E402
from qa.retrieval import RetrievalConfig  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "news-archive"
ASIDE = 50


def split(questions: list[EvalQuestion], aside: int = ASIDE) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """(looked at, kept aside): the ``aside`` questions whose id hashes lowest are kept aside."""
    order = sorted(questions, key=lambda q: hashlib.sha1(q.id.encode()).hexdigest())
    kept = {q.id for q in order[:aside]}
    return [q for q in questions if q.id not in kept], [q for q in questions if q.id in kept]


def _metrics(first: list[int | None]) -> dict[str, float]:
    ranks = np.array([r or 0 for r in first])
    found = ranks > 0
    return {
        "hit@1": float(np.mean(found & (ranks == 1))),
        "hit@5": float(np.mean(found & (ranks <= 5))),
        "hit@10": float(np.mean(found & (ranks <= 10))),
        "mrr@10": float(np.mean(np.where(found & (ranks <= 10), 1.0 / np.maximum(ranks, 1), 0.0))),
    }


def baselines(assistant: Assistant, questions: list[EvalQuestion]) -> dict[str, dict[str, list[int | None]]]:
    """Per baseline, each question's first relevant rank (None past 10), over the index's passages."""
    import bm25s
    import Stemmer

    view = assistant.store.passages
    texts = [p.text for p in view]
    finder = EvidenceFinder(view)
    relevant = [set(finder.rows(q.evidence)) for q in questions]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    bm25_docs, _ = retriever.retrieve(
        bm25s.tokenize([q.question for q in questions], stopwords="en", stemmer=stemmer, show_progress=False),
        k=100,
        show_progress=False,
    )
    vectors = assistant.store.passage_file.read(np.asarray(view.ids, dtype=np.int64))
    queries = encode_queries(assistant.encoder, [q.question for q in questions])
    dense_docs = np.argsort(-(queries @ vectors.T), axis=1)[:, :100]
    runs: dict[str, list[list[int]]] = {"bm25s": [list(map(int, r)) for r in bm25_docs], "dense": []}
    runs["dense"] = [list(map(int, r)) for r in dense_docs]
    runs["RRF (k = 60)"] = []
    for b, d in zip(runs["bm25s"], runs["dense"]):
        fused: dict[int, float] = {}
        for ranking in (b, d):
            for r, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + 1 / (60 + r + 1)
        runs["RRF (k = 60)"].append(sorted(fused, key=lambda i: (-fused[i], i))[:100])
    out = {}
    for name, ranking in runs.items():
        out[name] = [
            next((r + 1 for r, i in enumerate(docs[:10]) if i in rel), None) for docs, rel in zip(ranking, relevant)
        ]
    return out


def first_ranks(cases, retriever, cfg) -> list[int | None]:
    """Each case's first relevant rank in the top 10 of ``cfg`` (None when none is)."""
    out = []
    for c in cases:
        scored = retriever.rank(c.features, k=10, config=cfg)
        out.append(next((r for r, s in enumerate(scored, 1) if c.relevant[s.row]), None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ARCHIVE / "corpus"))
    parser.add_argument("--questions", default=str(ARCHIVE / "questions.jsonl"))
    parser.add_argument("--index", default=str(ROOT / "bench" / "out" / "archive-index"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "archive-bench.json"))
    parser.add_argument(
        "--rerank", default=None, help="also measure this second stage (e.g. all-mpnet-base-v2) on the 20 best"
    )
    args = parser.parse_args()
    if args.rerank:
        second_stage(args)
        return

    assistant = Assistant.load(corpus=args.corpus, index=args.index, progress=True, refresh=False)
    questions = load_questions(args.questions)
    looked, aside = split(questions)
    started = time.perf_counter()
    cases = {"looked at (150)": build_cases(assistant, looked), "aside (50)": build_cases(assistant, aside)}
    print(f"features of {len(questions)} questions in {time.perf_counter() - started:.1f} s")
    undated = {
        name: build_cases(assistant, [replace(q, asked_on=None) for q in qs])
        for name, qs in (("looked at (150)", looked), ("aside (50)", aside))
    }
    final = assistant.retriever.config
    results: dict = {"baselines": {}, "assistant": {}}
    for name, qs in (("looked at (150)", looked), ("aside (50)", aside)):
        for base, ranks in baselines(assistant, qs).items():
            results["baselines"].setdefault(base, {})[name] = _metrics(ranks)
    variants = {
        "assistant, as of today (no quiz day)": ("undated", final),
        "assistant, as of the quiz day": ("dated", final),
        "as of the quiz day, without the date signal": ("dated", replace(final, when=0.0)),
    }
    for label, (which, cfg) in variants.items():
        for name in cases:
            chosen = (undated if which == "undated" else cases)[name]
            m = _metrics(first_ranks(chosen, assistant.retriever, cfg))
            m["answer_sentence"] = ranking_metrics(chosen, assistant.retriever, cfg)["answer_sentence"]
            results["assistant"].setdefault(label, {})[name] = m
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    cols = ("hit@1", "hit@5", "hit@10", "mrr@10")
    print("\n| ranking | " + " | ".join(f"{s} {c}" for s in cases for c in cols) + " |")
    print("|---" * (1 + len(cols) * len(cases)) + "|")
    for group in ("baselines", "assistant"):
        for label, by_set in results[group].items():
            print(f"| {label} | " + " | ".join(f"{by_set[s][c]:.3f}" for s in cases for c in cols) + " |")


def second_stage(args) -> None:
    """Quality and cost of a second stage that rescores the 20 best, against the first stage alone."""
    from qa.evaluation import evaluate

    questions = load_questions(args.questions)
    looked, aside = split(questions)
    first = Assistant.load(corpus=args.corpus, index=args.index, progress=False, refresh=False)
    second = Assistant(
        first.store,
        first.encoder,
        corpus=first.source,
        config=first.retriever.config,
        reranker=load_reranker(args.rerank),
    )
    results: dict = {}
    for label, assistant in (("first stage", first), (f"+ {args.rerank} on the 20 best", second)):
        for name, qs in (("looked at (150)", looked), ("aside (50)", aside)):
            report = evaluate(assistant, qs, progress=False, batch=1)
            m = report.metrics
            results.setdefault(label, {})[name] = {
                "hit@1": m["hit@1"],
                "hit@5": m["hit@5"],
                "mrr@10": m["mrr@10"],
                "ms_per_question": report.info["ms_per_question"],
            }
            print(label, name, results[label][name], flush=True)
    out = Path(args.out).with_name("archive-rerank.json")
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    RetrievalConfig()  # the defaults in the code are the ones measured
    main()
