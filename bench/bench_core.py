"""Core speed: index build vs bare ``model.encode``, and ``ask()`` latency vs a bare query encode.

    python bench/bench_core.py [--rerank all-mpnet-base-v2] [--repeat 5]

Prints a Markdown table and writes ``bench/out/core.json``. Run it on a quiet machine:
the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings import load_encoder  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.apps.evaluation import load_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--questions", default=str(ROOT.parent / "shared" / "questions" / "dev.jsonl"))
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per question / build")
    parser.add_argument("--rerank", default=None, help="also time ask() with this second stage")
    args = parser.parse_args()

    import torch

    encoder = load_encoder()
    threads = torch.get_num_threads()
    questions = load_questions(args.questions)
    results: dict = {"machine": {"cpus": os.cpu_count(), "torch_threads": threads}, "model": encoder.name}

    # ---- index build vs bare encode of the same passages
    builds, n_passages, n_sentences, texts = [], 0, 0, []
    for _ in range(max(1, args.repeat // 2)):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            assistant = Assistant.load(corpus=args.corpus, index=Path(tmp) / "index", encoder=encoder, progress=False)
            builds.append(time.perf_counter() - started)
            texts = [p.text for p in assistant.passages]
            n_passages, n_sentences = len(texts), int(assistant.store.manifest["sentences"])
    bare = []
    for _ in range(max(1, args.repeat // 2)):
        started = time.perf_counter()
        encoder.encode(texts)
        bare.append(time.perf_counter() - started)
    build_rate, bare_rate = n_passages / statistics.median(builds), n_passages / statistics.median(bare)
    results["index"] = {
        "passages": n_passages,
        "sentences": n_sentences,
        "build_seconds": statistics.median(builds),
        "build_passages_per_s": build_rate,
        "bare_encode_passages_per_s": bare_rate,
        "ratio": build_rate / bare_rate,
    }

    # ---- ask() vs bare query encode
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant.load(corpus=args.corpus, index=Path(tmp) / "index", encoder=encoder, progress=False)
        for q in questions[:3]:  # warm-up
            assistant.ask(q.question, history=list(q.history))
            encoder.encode([q.question])
        ask_ms, enc_ms = [], []
        for _ in range(args.repeat):
            for q in questions:
                assistant._turns.clear()  # follow-ups pay for their earlier turn, as on a first visit
                started = time.perf_counter()
                assistant.ask(q.question, k=5, history=list(q.history))
                ask_ms.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                encoder.encode([q.question])
                enc_ms.append(1000 * (time.perf_counter() - started))
        results["ask"] = _latency(ask_ms, enc_ms)
        independent = [q for q in questions if not q.history]
        ask_ind, enc_ind = [], []
        for _ in range(args.repeat):
            for q in independent:
                started = time.perf_counter()
                assistant.ask(q.question, k=5)
                ask_ind.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                encoder.encode([q.question])
                enc_ind.append(1000 * (time.perf_counter() - started))
        results["ask_without_followups"] = _latency(ask_ind, enc_ind)
        if args.rerank:
            ranked = Assistant.load(
                corpus=args.corpus, index=Path(tmp) / "index", encoder=encoder, progress=False, rerank=args.rerank
            )
            for q in independent:  # warm the reranker's passage cache, as a running service has it
                ranked.ask(q.question)
            rr_ms = []
            for _ in range(args.repeat):
                for q in independent:
                    started = time.perf_counter()
                    ranked.ask(q.question, k=5)
                    rr_ms.append(1000 * (time.perf_counter() - started))
            results["ask_with_rerank"] = {"rerank": args.rerank, **_latency(rr_ms, enc_ind)}

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "core.json").write_text(json.dumps(results, indent=2) + "\n")
    ix = results["index"]
    print(f"model {encoder.name}; {os.cpu_count()} CPUs, torch threads {threads}\n")
    print("| index build | value |\n|---|---|")
    print(f"| passages / sentences | {ix['passages']} / {ix['sentences']} |")
    print(f"| build (clean, scan + cut + encode passages and sentences + BM25 + write) | {ix['build_seconds']:.2f} s |")
    print(f"| build rate | {ix['build_passages_per_s']:.1f} passages/s |")
    print(f"| bare model.encode of the same passages | {ix['bare_encode_passages_per_s']:.1f} passages/s |")
    print(f"| ratio build / bare | {ix['ratio']:.2f} |\n")
    print(
        "| ask() latency | p50 ms | p95 ms | bare query encode p50 / p95 ms | ratio p50 / p95 |\n|---|---|---|---|---|"
    )
    for key, label in (("ask", "dev set, follow-ups included"), ("ask_without_followups", "independent questions")):
        r = results[key]
        print(
            f"| {label} | {r['p50']:.1f} | {r['p95']:.1f} | {r['encode_p50']:.1f} / {r['encode_p95']:.1f} | "
            f"{r['ratio_p50']:.2f} / {r['ratio_p95']:.2f} |"
        )
    if "ask_with_rerank" in results:
        r = results["ask_with_rerank"]
        print(
            f"| with second stage {r['rerank']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['encode_p50']:.1f} / "
            f"{r['encode_p95']:.1f} | {r['ratio_p50']:.2f} / {r['ratio_p95']:.2f} |"
        )


def _latency(ask_ms: list[float], enc_ms: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(ask_ms, [50, 95])
    e50, e95 = np.percentile(enc_ms, [50, 95])
    return {
        "n": len(ask_ms),
        "p50": p50,
        "p95": p95,
        "encode_p50": e50,
        "encode_p95": e95,
        "ratio_p50": p50 / e50,
        "ratio_p95": p95 / e95,
    }


if __name__ == "__main__":
    main()
