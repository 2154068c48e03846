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
from qa.apps.evaluation import EvalQuestion, EvidenceFinder, load_questions  # noqa: E402
from qa.search.rerank import load_reranker  # noqa: E402

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


def latency(assistant: Assistant, questions: list[EvalQuestion], *, repeat: int = 3) -> dict[str, float]:
    """``ask()`` (k = 5, as of each quiz day) against a bare encode of the same question, in ms."""
    for q in questions[:5]:  # warm-up
        assistant.ask(q.question, as_of=q.asked_on)
        assistant.encoder.encode([q.question])
    ask_ms, enc_ms = [], []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            assistant.ask(q.question, k=5, as_of=q.asked_on)
            ask_ms.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            assistant.encoder.encode([q.question])
            enc_ms.append(1000 * (time.perf_counter() - started))
    a50, a95 = np.percentile(ask_ms, [50, 95])
    e50, e95 = np.percentile(enc_ms, [50, 95])
    return {
        "ask_p50": float(a50),
        "ask_p95": float(a95),
        "encode_p50": float(e50),
        "encode_p95": float(e95),
        "ratio_p50": float(a50 / e50),
        "ratio_p95": float(a95 / e95),
        "ask_minus_encode_p50": float(a50 - e50),
    }


def copies_changed(cases, retriever, cfg) -> dict[str, int]:
    """How many top-5 lists collapsing copies changes, and how many copies the top 5s then list."""
    changed = listed = 0
    for c in cases:
        before = [s.row for s in retriever.rank(c.features, k=5, config=replace(cfg, collapse_copies=0))]
        after = retriever.rank(c.features, k=5, config=replace(cfg, collapse_copies=1))
        changed += [s.row for s in after] != before
        listed += sum(len(s.copies) for s in after)
    return {"questions": len(cases), "top5_changed": changed, "copies_listed": listed}


def minhash_against_exact(cases, retriever, cfg, *, depth: int = 20, num_perm: int = 128) -> dict[str, float]:
    """Copy decisions of datasketch MinHash (``num_perm`` permutations) against exact shingle sets, on
    every pair among each question's ``depth`` best candidates, and the time each takes per question."""
    from datasketch import MinHash

    from qa.search.copies import COPY_JACCARD, jaccard

    agree = pairs = exact_copies = minhash_copies = 0
    exact_s = minhash_s = 0.0
    for c in cases:
        f = c.features
        order = [int(np.flatnonzero(f.rows == s.row)[0]) for s in retriever.rank(f, k=depth, config=cfg)]
        started = time.perf_counter()
        sets = [f.shingles_of(i) for i in order]
        exact = [[jaccard(a, b) >= COPY_JACCARD for b in sets[:x]] for x, a in enumerate(sets)]
        exact_s += time.perf_counter() - started
        started = time.perf_counter()
        sketches = []
        for shingle_set in sets:
            m = MinHash(num_perm=num_perm, seed=1)
            m.update_batch([repr(s).encode() for s in shingle_set])
            sketches.append(m)
        approx = [[a.jaccard(b) >= COPY_JACCARD for b in sketches[:x]] for x, a in enumerate(sketches)]
        minhash_s += time.perf_counter() - started
        for e_row, m_row in zip(exact, approx):
            for e, m in zip(e_row, m_row):
                pairs += 1
                agree += e == m
                exact_copies += e
                minhash_copies += m
    n = max(1, len(cases))
    return {
        "pairs": pairs,
        "agreement": agree / max(1, pairs),
        "copy_pairs_exact": exact_copies,
        "copy_pairs_minhash": minhash_copies,
        "exact_ms_per_question": 1000 * exact_s / n,
        "minhash_ms_per_question": 1000 * minhash_s / n,
    }


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
    for base, ranks in baselines(assistant, looked + aside).items():  # one index for both sets
        results["baselines"][base] = {
            "looked at (150)": _metrics(ranks[: len(looked)]),
            "aside (50)": _metrics(ranks[len(looked) :]),
        }
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
    every = cases["looked at (150)"] + cases["aside (50)"]
    results["copies"] = copies_changed(every, assistant.retriever, final)
    results["copies_minhash"] = minhash_against_exact(every, assistant.retriever, replace(final, collapse_copies=0))
    results["latency"] = latency(assistant, questions)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    cols = ("hit@1", "hit@5", "hit@10", "mrr@10")
    print("\n| ranking | " + " | ".join(f"{s} {c}" for s in cases for c in cols) + " |")
    print("|---" * (1 + len(cols) * len(cases)) + "|")
    for group in ("baselines", "assistant"):
        for label, by_set in results[group].items():
            print(f"| {label} | " + " | ".join(f"{by_set[s][c]:.3f}" for s in cases for c in cols) + " |")
    print(f"\ncopies: {results['copies']}\nMinHash: {results['copies_minhash']}\nlatency: {results['latency']}")


def second_stage(args) -> None:
    """Quality and cost of a second stage that rescores the 20 best, against the first stage alone."""
    from qa.apps.evaluation import evaluate

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
    main()
