"""Each retrieval piece's gain: every arm alone, the fusions, and the final scorer, on the same code.

    python bench/ablation.py [--scifact ../shared/beir/scifact --scifact-index DIR]

For the news sets (``tests/data/tuning.jsonl``, ``../shared/questions/dev.jsonl`` and the
never-fitted ``tests/data/heldout.jsonl``) it
reports Hit@1/5, MRR@10 and answer-sentence accuracy; for SciFact nDCG@10 and Recall@100.
Every variant ranks the same precomputed candidate features (one encode per question), so
the rows differ only in how the signals are combined. Abstention rows compare a threshold
on the top score (set so at most 5% of answerable tuning questions fall under it) with the
fitted model. Prints Markdown and writes ``bench/out/ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tune import (  # noqa: E402
    abstention_metrics,
    abstention_rows,
    beir_metrics,
    build_beir_cases,
    build_cases,
    ranking_metrics,
)

from qa import Assistant  # noqa: E402
from qa.answers.abstain import FEATURES, AbstentionModel  # noqa: E402
from qa.apps.evaluation import load_questions  # noqa: E402
from qa.search.retrieval import RetrievalConfig  # noqa: E402

FINAL = RetrievalConfig()
ZERO = RetrievalConfig(
    **{f.name: 0.0 for f in fields(RetrievalConfig) if f.name not in ("candidates", "collapse_copies")},
    collapse_copies=0,
)
#: The first fit for news (dense, best sentence, passage BM25, sentence terms), before answer types and dates.
FIRST_FIT = replace(ZERO, dense=1.0, sentence=1.5, bm25=0.3, sentence_coverage=0.2)
VARIANTS = {
    "BM25 alone (passage)": replace(ZERO, bm25=1.0),
    "dense alone (passage)": replace(ZERO, dense=1.0),
    "sentence max-sim alone": replace(ZERO, sentence=1.0),
    "RRF hybrid (BM25 + dense, k=60)": "rrf",
    "convex hybrid (0.5 BM25 + 0.5 dense)": replace(ZERO, dense=0.5, bm25=0.5),
    "first fit (dense, best sentence, BM25, sentence terms)": FIRST_FIT,
    "final (first fit + answer type + dates + copies)": FINAL,
    "final without the answer-type bonus": replace(FINAL, sentence_type=0.0),
    "final without the dates (time words and recency)": replace(FINAL, when=0.0, recency=0.0),
    "final without recency (time words kept)": replace(FINAL, recency=0.0),
    "final without collapsing copies": replace(FINAL, collapse_copies=0),
    "final without passage BM25": replace(FINAL, bm25=0.0),
    "final without sentence terms": replace(FINAL, sentence_coverage=0.0),
    "final without passage dense": replace(FINAL, dense=0.0),
}


def rank_rrf(retriever, f, k: int = 10):
    """Reciprocal-rank fusion of passage BM25 and passage dense, through the live ranking for highlights."""
    scored = retriever.rank(f, k=len(f.rows), config=replace(ZERO, dense=1.0))
    dense_rank = {s.row: i for i, s in enumerate(scored)}
    bm25_rank = {int(f.rows[i]): r for r, i in enumerate(np.lexsort((f.rows, -f.bm25)))}
    fused = sorted(scored, key=lambda s: (-(1 / (60 + dense_rank[s.row]) + 1 / (60 + bm25_rank[s.row])), s.row))
    return [replace(s, score=1 / (60 + dense_rank[s.row]) + 1 / (60 + bm25_rank[s.row])) for s in fused[:k]]


class _RRF:
    """Wraps a retriever so ``rank(..., config="rrf")`` fuses by reciprocal rank."""

    def __init__(self, retriever) -> None:
        self.r = retriever
        self.store = retriever.store

    def rank(self, f, *, k, config=None):
        return rank_rrf(self.r, f, k) if config == "rrf" else self.r.rank(f, k=k, config=config)


def scifact(folder: Path, index: str | None, encoder, variants: dict) -> dict[str, dict[str, float]]:
    """nDCG@10 and Recall@100 of each variant on BEIR SciFact (the index is built if missing)."""
    cases = build_beir_cases(folder, index, encoder=encoder)
    ranker = _RRF(cases.assistant.retriever)
    out = {}
    for name, cfg in variants.items():
        aggregate = beir_metrics(cases, list(cases.features), cfg, k=100, ranker=ranker)
        out[name] = {"ndcg@10": aggregate["ndcg@10"], "recall@100": aggregate["recall@100"]}
        print(f"  SciFact {name}: nDCG@10 {out[name]['ndcg@10']:.3f}  Recall@100 {out[name]['recall@100']:.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", default=str(ROOT / "tests" / "data" / "tuning.jsonl"))
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "questions" / "dev.jsonl"))
    parser.add_argument("--heldout", default=str(ROOT / "tests" / "data" / "heldout.jsonl"))
    parser.add_argument("--scifact", default=None, help="a BEIR SciFact folder, to add its column")
    parser.add_argument("--scifact-index", default=None, help="its index (default: index.beir-NAME, as qa eval uses)")
    parser.add_argument(
        "--archive", default=None, help="the shared news archive folder, to add its 150 looked-at questions"
    )
    parser.add_argument("--archive-index", default=str(ROOT / "bench" / "out" / "archive-index"))
    args = parser.parse_args()

    assistant = Assistant.load(progress=False)
    ranker = _RRF(assistant.retriever)
    sets = {
        "tuning": build_cases(assistant, load_questions(args.tuning)),
        "dev": build_cases(assistant, load_questions(args.dev)),
        "heldout": build_cases(assistant, load_questions(args.heldout)),
    }
    results: dict = {"news": {}, "abstention": {}}
    for name, cfg in VARIANTS.items():
        results["news"][name] = {s: ranking_metrics(cases, ranker, cfg) for s, cases in sets.items()}
    # abstention: top-score threshold vs the fitted model, both on the final ranking
    rows = {s: abstention_rows(cases, assistant.retriever, FINAL) for s, cases in sets.items()}
    if args.archive:  # after the abstention rows: every archive question is answerable
        from bench_archive import split

        folder = Path(args.archive)
        archive = Assistant.load(corpus=folder / "corpus", index=args.archive_index, progress=False, refresh=False)
        looked, _ = split(load_questions(folder / "questions.jsonl"))
        archive_cases = build_cases(archive, looked)
        archive_ranker = _RRF(archive.retriever)
        for name, cfg in VARIANTS.items():
            results["news"][name]["archive (150)"] = ranking_metrics(archive_cases, archive_ranker, cfg)
        sets["archive (150)"] = archive_cases
    X, y = rows["tuning"]
    scores = np.sort(X[y == 1, FEATURES.index("score")])
    cut = float(scores[int(np.floor(0.05 * len(scores)))]) - 1e-6
    threshold_only = AbstentionModel(weights={"score": 1.0}, bias=-cut, threshold=0.5)
    for label, model in (("top-score threshold", threshold_only), ("fitted model (final)", assistant.abstention)):
        results["abstention"][label] = {s: abstention_metrics(model, *rows[s]) for s in rows}
    if args.scifact:
        results["scifact"] = scifact(Path(args.scifact), args.scifact_index, assistant.encoder, VARIANTS)

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.json").write_text(json.dumps(results, indent=2) + "\n")
    cols = ("hit@1", "hit@5", "mrr@10", "answer_sentence")
    head = "| variant | " + " | ".join(f"{s} {c}" for s in sets for c in cols)
    if args.scifact:
        head += " | SciFact nDCG@10 | SciFact R@100"
    print("\n" + head + " |\n|---" + "|---" * (len(cols) * len(sets) + (2 if args.scifact else 0)) + "|")
    for name in VARIANTS:
        row = [f"{results['news'][name][s][c]:.3f}" for s in sets for c in cols]
        if args.scifact:
            row += [f"{results['scifact'][name]['ndcg@10']:.3f}", f"{results['scifact'][name]['recall@100']:.3f}"]
        print(f"| {name} | " + " | ".join(row) + " |")
    print(
        "\n| abstention | "
        + " | ".join(f"{s} {m}" for s in rows for m in ("recall", "precision", "false flags"))
        + " |"
    )
    print("|---" * (1 + 3 * len(rows)) + "|")
    for label, by_set in results["abstention"].items():
        cells = []
        for s in rows:
            m = by_set[s]
            cells += [
                f"{m['abstention_recall']:.3f}",
                f"{m['abstention_precision']:.3f}",
                f"{m['false_abstention_rate']:.3f}",
            ]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
