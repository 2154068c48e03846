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
from dataclasses import replace
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
from qa.abstain import FEATURES, AbstentionModel  # noqa: E402
from qa.evaluation import load_questions  # noqa: E402
from qa.retrieval import PLAIN_HYBRID, RetrievalConfig  # noqa: E402

ZERO = replace(PLAIN_HYBRID, dense=0.0, sentence=0.0, bm25=0.0, sentence_coverage=0.0, sentence_intro=0.0)
FINAL = RetrievalConfig()
VARIANTS = {
    "BM25 alone (passage)": replace(ZERO, bm25=1.0),
    "dense alone (passage)": replace(ZERO, dense=1.0),
    "sentence max-sim alone": replace(ZERO, sentence=1.0),
    "RRF hybrid (BM25 + dense, k=60)": "rrf",
    "convex hybrid (0.5 BM25 + 0.5 dense)": replace(ZERO, dense=0.5, bm25=0.5),
    "+ sentence evidence, untuned (0.35 dense, 0.35 best sentence, 0.2 BM25, 0.1 sentence BM25)": replace(
        ZERO, dense=0.35, sentence=0.35, bm25=0.2, sentence_bm25=0.29
    ),
    "+ sentence evidence, first fit (dense, best sentence, BM25, sentence terms)": PLAIN_HYBRID,
    "+ names, answer type, speaker, lead-ins (final weights, passage BM25 off)": FINAL,
    "final without the speaker signals": replace(FINAL, speaker=0.0, sentence_speaker=0.0),
    "final without answer-type signals": replace(FINAL, sentence_type=0.0),
    "final without names": replace(FINAL, names=0.0),
    "final without the follow-up signals (earlier answer's sentence down, the next one up)": replace(
        FINAL, sentence_seen=0.0, sentence_next=0.0
    ),
    "final without the hedge (all five first places by the full score)": replace(FINAL, hedge=0),
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
    X, y = rows["tuning"]
    scores = np.sort(X[y == 1, FEATURES.index("score")])
    cut = float(scores[int(np.floor(0.05 * len(scores)))]) - 1e-6
    threshold_only = AbstentionModel(weights={"score": 1.0}, bias=-cut, threshold=0.5)
    for label, model in (("top-score threshold", threshold_only), ("fitted model (final)", assistant.abstention)):
        results["abstention"][label] = {s: abstention_metrics(model, *rows[s]) for s in sets}
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
        + " | ".join(f"{s} {m}" for s in sets for m in ("recall", "precision", "false flags"))
        + " |"
    )
    print("|---" * (1 + 3 * len(sets)) + "|")
    for label, by_set in results["abstention"].items():
        cells = []
        for s in sets:
            m = by_set[s]
            cells += [
                f"{m['abstention_recall']:.3f}",
                f"{m['abstention_precision']:.3f}",
                f"{m['false_abstention_rate']:.3f}",
            ]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
