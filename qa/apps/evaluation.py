"""Batch evaluation: question sets in, IR metrics (ir-measures) and a per-question report out.

Inputs: JSONL (``id``, ``question``, ``history``, ``evidence``, ``doc``, ``type``), the same
columns as CSV (lists separated by ``|``), or a BEIR folder. For evidence sets a passage
is relevant when it contains an evidence string once whitespace, case, curly quotes and
dashes are normalised; a question with no evidence is unanswerable.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import QuestionFileError
from ..text import normalize
from .questions import EvalQuestion, load_questions

__all__ = [
    "EvalQuestion",
    "EvalReport",
    "compare_runs",
    "evaluate",
    "evaluate_beir",
    "evaluate_beir_set",
    "load_questions",
    "metrics_table",
    "write_report",
]

HIT_KS = (1, 3, 5, 10)
_MISSING = "\u2205no-passage-holds-the-evidence"


@dataclass
class EvalReport:
    """Aggregate metrics, a per-type breakdown and per-question rows."""

    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    rows: list[dict]
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Metrics, breakdown and run information (rows excluded)."""
        return {"metrics": self.metrics, "by_type": self.by_type, "info": self.info}


# --------------------------------------------------------------------------- running


def _measures(k: int):
    import ir_measures
    from ir_measures import RR, R, Success, nDCG

    names = {f"hit@{n}": Success @ n for n in HIT_KS if n <= k}
    names.update({"mrr@10": RR @ 10, "ndcg@10": nDCG @ 10, f"recall@{k}": R @ k})
    return ir_measures, names


def _ir_metrics(qrels: dict[str, dict[str, int]], run: dict[str, list[str]], k: int):
    """Aggregate and per-query metrics; the run's order is kept (scores are k - rank)."""
    ir_measures, names = _measures(k)
    qrel_list = [ir_measures.Qrel(q, d, r) for q, docs in qrels.items() for d, r in docs.items()]
    run_list = [
        ir_measures.ScoredDoc(q, d, float(len(docs) - i)) for q, docs in run.items() for i, d in enumerate(docs)
    ]
    by_measure = {m: n for n, m in names.items()}
    per_query: dict[str, dict[str, float]] = {}
    for metric in ir_measures.iter_calc(list(names.values()), qrel_list, run_list):
        per_query.setdefault(metric.query_id, {})[by_measure[metric.measure]] = float(metric.value)
    values = ir_measures.calc_aggregate(list(names.values()), qrel_list, run_list)
    aggregate = {name: float(values.get(measure, 0.0)) for name, measure in names.items()}
    return aggregate, per_query


def _key(passage) -> str:
    return f"{passage.doc_id}#{passage.char_start}-{passage.char_end}"


def _contains(text: str, evidence: Sequence[str]) -> bool:
    norm = normalize(text)
    return any(normalize(e) in norm for e in evidence)


class EvidenceFinder:
    """Which passages hold a question's evidence; each passage is normalised once, when first needed."""

    def __init__(self, passages: Sequence) -> None:
        self._passages = passages

    @cached_property
    def _texts(self) -> list[str]:
        return [normalize(p.text) for p in self._passages]

    def rows(self, evidence: Sequence[str]) -> list[int]:
        """Indices of the passages that contain any of ``evidence`` (normalised as :func:`normalize`)."""
        needles = [normalize(e) for e in evidence]
        return [i for i, text in enumerate(self._texts) if any(n in text for n in needles)] if needles else []


def evaluate(
    assistant, questions: Sequence[EvalQuestion], *, k: int = 10, progress: bool = True, batch: int = 16
) -> EvalReport:
    """Ask every question and score the answers.

    Args:
        assistant: a loaded :class:`~qa.assistant.Assistant`.
        questions: the questions (see :func:`load_questions`).
        k: passages retrieved per question.
        progress: show a progress bar.
        batch: questions encoded together.
    """
    from tqdm import tqdm

    passages = assistant.passages
    finder = EvidenceFinder(passages)
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        if q.answerable:
            qrels[q.id] = {_key(passages[i]): 1 for i in finder.rows(q.evidence)} or {_MISSING: 1}
    started = time.perf_counter()
    answers = []
    with tqdm(total=len(questions), desc="questions", unit="q", disable=not progress) as bar:
        for at in range(0, len(questions), batch):
            chunk = questions[at : at + batch]
            answers.extend(
                assistant.ask_batch(
                    [q.question for q in chunk],
                    k=k,
                    histories=[q.history for q in chunk],
                    as_of=[q.asked_on for q in chunk],
                )
            )
            bar.update(len(chunk))
    elapsed = time.perf_counter() - started
    run = {q.id: [_key(h.passage) for h in a.hits] for q, a in zip(questions, answers)}
    aggregate, per_query = _ir_metrics(qrels, run, k)
    rows = []
    for q, a in zip(questions, answers):
        top = a.hits[0] if a.hits else None
        ranks = [h.rank for h in a.hits if _key(h.passage) in qrels.get(q.id, {})]
        rows.append(
            {
                "id": q.id,
                "question": q.question,
                "history": list(q.history),
                "type": q.type,
                "evidence": list(q.evidence),
                "doc": q.doc,
                "query": a.query,
                "answerable": q.answerable,
                "predicted_answerable": a.answerable,
                "confidence": round(a.confidence, 4),
                "first_relevant_rank": ranks[0] if ranks else None,
                "relevant_ranks": ranks,
                "evidence_found": q.answerable and _MISSING not in qrels[q.id],
                "sentence_correct": bool(top and q.answerable and _contains(top.highlight_text, q.evidence)),
                "metrics": per_query.get(q.id, {}),
                "top": [
                    {
                        "rank": h.rank,
                        "score": round(h.score, 4),
                        "citation": h.citation,
                        "doc_id": h.passage.doc_id,
                        "char_start": h.passage.char_start,
                        "char_end": h.passage.char_end,
                        "relevant": _key(h.passage) in qrels.get(q.id, {}),
                        "highlight": h.highlight_text,
                    }
                    for h in a.hits[:3]
                ],
            }
        )
    metrics = _summary(rows, aggregate)
    metrics["mean_passage_words"] = sum(p.words for p in passages) / len(passages)
    info = {
        "questions": len(questions),
        "k": k,
        "model": assistant.store.manifest.get("model"),
        "rerank": getattr(getattr(assistant, "reranker", None), "name", None),
        "passages": len(passages),
        "seconds": round(elapsed, 2),
        "ms_per_question": round(1000 * elapsed / max(1, len(questions)), 2),
    }
    return EvalReport(metrics, _by_type(rows), rows, info)


def _summary(rows: list[dict], aggregate: dict[str, float]) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    metrics = dict(aggregate)
    metrics["answerable_questions"] = len(answerable)
    metrics["unanswerable_questions"] = len(unanswerable)
    if answerable:
        metrics["answer_sentence"] = sum(r["sentence_correct"] for r in answerable) / len(answerable)
        metrics["false_abstention_rate"] = sum(not r["predicted_answerable"] for r in answerable) / len(answerable)
    flagged = [r for r in rows if not r["predicted_answerable"]]
    if unanswerable:
        metrics["abstention_recall"] = sum(not r["predicted_answerable"] for r in unanswerable) / len(unanswerable)
    if flagged:
        metrics["abstention_precision"] = sum(not r["answerable"] for r in flagged) / len(flagged)
    elif unanswerable:
        metrics["abstention_precision"] = 0.0
    return metrics


def _by_type(rows: list[dict]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["type"] or "(none)", []).append(r)
    out = {}
    for name, group in sorted(groups.items()):
        stats: dict[str, float] = {"n": len(group)}
        answerable = [r for r in group if r["answerable"]]
        if answerable:
            for m in ("hit@1", "hit@5", "mrr@10"):
                stats[m] = sum(r["metrics"].get(m, 0.0) for r in answerable) / len(answerable)
            stats["answer_sentence"] = sum(r["sentence_correct"] for r in answerable) / len(answerable)
            stats["flagged_unanswerable"] = sum(not r["predicted_answerable"] for r in answerable) / len(answerable)
        else:
            stats["flagged_unanswerable"] = sum(not r["predicted_answerable"] for r in group) / len(group)
        out[name] = stats
    return out


def evaluate_beir(
    folder: str | os.PathLike,
    *,
    index: str | os.PathLike,
    encoder=None,
    model: str | os.PathLike | None = None,
    k: int = 100,
    split: str = "test",
    progress: bool = True,
    rerank=None,
    weights=None,
    sentence_vectors: str = "pooled",
    store: str | None = None,
    attribution_model: str | os.PathLike | None = None,
) -> EvalReport:
    """Index a BEIR corpus (one passage per document) into ``index`` and evaluate its ``split`` queries.

    ``encoder`` (a loaded encoder) or ``model`` (a name or path) choose the model, ``rerank``
    an optional second stage, ``weights`` the retrieval weights, ``sentence_vectors`` how
    sentence vectors are made, ``store`` where searches run and ``attribution_model`` who said
    what, all as in :meth:`~qa.assistant.Assistant.load`.
    """
    from .beir import open_beir

    folder = Path(folder)
    started = time.perf_counter()
    load = {
        "encoder": encoder,
        "model": model,
        "progress": progress,
        "rerank": rerank,
        "weights": weights,
        "sentence_vectors": sentence_vectors,
        "store": store,
        "attribution_model": attribution_model,
    }
    beir = open_beir(folder, index=index, split=split, **load)
    return evaluate_beir_set(beir, k=k, progress=progress, name=folder.name, indexed=time.perf_counter() - started)


def evaluate_beir_set(beir, *, k: int = 100, progress: bool = True, name: str = "", indexed: float = 0.0) -> EvalReport:
    """Evaluate an opened BEIR dataset (:func:`qa.apps.beir.open_beir`, or a :class:`~qa.apps.beir.BeirSet`
    over any assistant) at depth ``k``; ``name`` and ``indexed`` (seconds) go to the report's info."""
    assistant, qrels, queries, ids = beir.assistant, beir.qrels, beir.queries, beir.ids
    from tqdm import tqdm

    run: dict[str, list[str]] = {}
    started = time.perf_counter()
    for at in tqdm(range(0, len(ids), 32), desc="queries", unit="batch", disable=not progress):
        chunk = ids[at : at + 32]
        for qid, answer in zip(chunk, assistant.ask_batch([queries[q] for q in chunk], k=k)):
            run[qid] = list(dict.fromkeys(h.passage.doc_id for h in answer.hits))
    searched = time.perf_counter() - started
    aggregate, per_query = _ir_metrics(qrels, run, k)
    rows = [
        {
            "id": q,
            "question": queries[q],
            "relevant": sorted(qrels[q]),
            "top": run[q][:10],
            "metrics": per_query.get(q, {}),
        }
        for q in ids
    ]
    aggregate["mean_passage_words"] = sum(p.words for p in assistant.passages) / len(assistant.passages)
    info = {
        "dataset": name,
        "queries": len(ids),
        "documents": len(assistant.passages),
        "k": k,
        "model": assistant.store.manifest.get("model"),
        "rerank": assistant.reranker.name if assistant.reranker else None,
        "index_seconds": round(indexed, 1),
        "search_seconds": round(searched, 1),
        "ms_per_query": round(1000 * searched / max(1, len(ids)), 2),
    }
    return EvalReport(aggregate, {}, rows, info)


# --------------------------------------------------------------------------- reports


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_table(report: EvalReport) -> str:
    """The aggregate metrics and the per-type breakdown as Markdown tables."""
    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_fmt(value)} |" for name, value in report.metrics.items()]
    if report.by_type:
        cols = ["n", "hit@1", "hit@5", "mrr@10", "answer_sentence", "flagged_unanswerable"]
        lines += ["", "| type | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for name, stats in report.by_type.items():
            lines.append(f"| {name} | " + " | ".join(_fmt(stats[c]) if c in stats else "" for c in cols) + " |")
    return "\n".join(lines)


def _markdown(report: EvalReport) -> str:
    def failed(r: dict) -> bool:
        if not r.get("answerable", True):
            return r["predicted_answerable"]
        return r.get("first_relevant_rank") != 1 or not r.get("sentence_correct", True) or not r["predicted_answerable"]

    rows = sorted(report.rows, key=lambda r: (not failed(r), r["id"]))
    out = [
        "# Evaluation report",
        "",
        "Run: " + ", ".join(f"{k} {v}" for k, v in report.info.items()),
        "",
        metrics_table(report),
        "",
        f"## Questions ({sum(map(failed, rows))} failures first)",
    ]
    for r in rows:
        status = "FAIL" if failed(r) else "ok"
        out += ["", f"### {status} · {r['id']} · {r.get('type', '')}", "", f"**Question:** {r['question']}"]
        if r.get("history"):
            out.append(f"**History:** {' / '.join(r['history'])}")
        if r.get("query") and r["query"] != r["question"]:
            out.append(f"**Searched as:** {r['query']}")
        if "evidence" in r:
            expected = "; ".join(f"“{e}”" for e in r["evidence"]) or "(unanswerable)"
            out.append(f"**Expected:** {expected}")
            out.append(
                f"**Got:** answerable={r['predicted_answerable']} (confidence {r['confidence']}), "
                f"first relevant rank {r['first_relevant_rank']}, sentence correct {r['sentence_correct']}"
            )
        else:
            out.append(f"**Relevant:** {', '.join(r['relevant'])} · **top:** {', '.join(r['top'][:5])}")
        top = r.get("top") or []
        if top and isinstance(top[0], dict):
            out.append(f"**Rank 1:** {top[0]['citation']} — relevant: {top[0]['relevant']}")
            out.append(f"> {top[0]['highlight']}")
    return "\n".join(out) + "\n"


def _plot(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    answerable = [r for r in report.rows if r.get("answerable", True)]
    ks = list(range(1, 11))
    values = []
    for k in ks:
        hits = 0
        for r in answerable:
            ranks = r.get("relevant_ranks")
            if ranks is None:
                top = r.get("top", [])
                hits += any(d in r["relevant"] for d in top[:k])
            else:
                hits += any(rank <= k for rank in ranks)
        values.append(hits / len(answerable) if answerable else 0.0)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(ks, values, marker="o")
    ax.set_xlabel("k")
    ax.set_ylabel("Hit@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.set_title(f"Hit@k over {len(answerable)} answerable questions")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(report: EvalReport, out: str | os.PathLike) -> list[Path]:
    """Write ``questions.jsonl``, ``metrics.json``, ``report.md`` and ``hit_at_k.png`` into ``out``.

    The files are written to a temporary folder first and moved in at the end, so an
    interrupted run leaves no half-written report. Other files in ``out`` are left alone.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise QuestionFileError(f"--out {out} is a file; pass a folder")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".eval-", dir=out))
    try:
        with open(tmp / "questions.jsonl", "w", encoding="utf-8") as fh:
            for row in report.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        (tmp / "report.md").write_text(_markdown(report), encoding="utf-8")
        _plot(report, tmp / "hit_at_k.png")
        written = []
        for path in sorted(tmp.iterdir()):
            os.replace(path, out / path.name)
            written.append(out / path.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike) -> str:
    """Questions that got better or worse from run A to run B, and metric deltas, as Markdown."""

    def load(run: Path) -> tuple[dict, dict[str, dict]]:
        metrics, rows = run / "metrics.json", run / "questions.jsonl"
        if not metrics.is_file() or not rows.is_file():
            raise QuestionFileError(f"{run} is not an evaluation run folder (made by qa eval --out)")
        data = json.loads(metrics.read_text())
        return data, {r["id"]: r for r in map(json.loads, rows.read_text(encoding="utf-8").splitlines())}

    (ma, ra), (mb, rb) = load(Path(run_a)), load(Path(run_b))

    def rank(r: dict) -> float:
        if "first_relevant_rank" in r:
            return r["first_relevant_rank"] or 1e9
        return 1e9 if r["metrics"].get("mrr@10", 0) == 0 else 1 / r["metrics"]["mrr@10"]

    def correct_abstention(r: dict) -> bool | None:
        return None if "answerable" not in r else r["answerable"] == r["predicted_answerable"]

    better, worse = [], []
    for qid in sorted(set(ra) & set(rb)):
        a, b = ra[qid], rb[qid]
        if rank(b) < rank(a) or (correct_abstention(b) and correct_abstention(a) is False):
            better.append((qid, a, b))
        elif rank(b) > rank(a) or (correct_abstention(a) and correct_abstention(b) is False):
            worse.append((qid, a, b))

    def show(r: dict) -> str:
        first = r.get("first_relevant_rank", "?")
        flag = f", answerable={r['predicted_answerable']}" if "predicted_answerable" in r else ""
        return f"rank {first}{flag}"

    lines = [f"# {run_a} → {run_b}", "", "| metric | A | B | Δ |", "|---|---|---|---|"]
    for name in ma["metrics"]:
        if name in mb["metrics"]:
            va, vb = ma["metrics"][name], mb["metrics"][name]
            lines.append(f"| {name} | {_fmt(va)} | {_fmt(vb)} | {vb - va:+.3f} |")
    for title, items in (("Better", better), ("Worse", worse)):
        lines += ["", f"## {title} ({len(items)})"]
        lines += [f"- {qid}: {a['question']} — {show(a)} → {show(b)}" for qid, a, b in items]
    return "\n".join(lines) + "\n"
