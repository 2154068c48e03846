"""Evaluation: metric code on hand-computed cases, input formats and their errors, reports, compare, CI run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qa.answers.answer import Answer, Hit
from qa.apps.beir import beir_index, open_beir
from qa.apps.evaluation import EvalQuestion, compare_runs, evaluate, evaluate_beir, load_questions, write_report
from qa.errors import QuestionFileError
from qa.ingest.passages import Passage

from .conftest import DATA, ROOT, FakeEncoder


def _passage(i: int, text: str) -> Passage:
    return Passage(
        "doc.txt", "", "", "", text, i * 100, i * 100 + len(text), sentences=((i * 100, i * 100 + len(text)),)
    )


class _Store:
    def __init__(self) -> None:
        self.manifest = {"model": "scripted"}


class ScriptedAssistant:
    """Returns fixed rankings, so every metric can be computed by hand."""

    def __init__(self, passages, rankings, answerable):
        self.passages, self.rankings, self.answerable, self.store = passages, rankings, answerable, _Store()

    def ask_batch(self, questions, *, k, histories=None, as_of=None):
        out = []
        for q in questions:
            hits = tuple(
                Hit(r + 1, 1.0 - r / 10, self.passages[i], self.passages[i].sentences[0])
                for r, i in enumerate(self.rankings[q][:k])
            )
            out.append(Answer(q, q, hits, self.answerable[q]))
        return out


@pytest.fixture
def scripted():
    passages = [
        _passage(i, t)
        for i, t in enumerate(["alpha one two", "beta three four", "gamma five six", "delta seven eight"])
    ]
    rankings = {"qa": [0, 1, 2, 3], "qb": [1, 3, 0, 2], "qc": [3, 2, 1, 0], "qd": [0, 1, 2, 3], "qe": [2, 0, 1, 3]}
    answerable = {"qa": True, "qb": True, "qc": True, "qd": False, "qe": True}
    questions = [
        EvalQuestion("1", "qa", evidence=("Alpha One",), type="x"),  # relevant at rank 1
        EvalQuestion("2", "qb", evidence=("gamma five",), type="x"),  # relevant at rank 4
        EvalQuestion("3", "qc", evidence=("three  four", "seven"), type="y"),  # relevant at ranks 1 and 3
        EvalQuestion("4", "qd", type="unanswerable"),  # unanswerable, correctly flagged
        EvalQuestion("5", "qe", type="unanswerable"),  # unanswerable, wrongly answered
    ]
    return ScriptedAssistant(passages, rankings, answerable), questions


def test_metrics_by_hand(scripted):
    assistant, questions = scripted
    report = evaluate(assistant, questions, k=10, progress=False)
    m = report.metrics
    assert m["answerable_questions"] == 3 and m["unanswerable_questions"] == 2
    assert m["hit@1"] == pytest.approx(2 / 3)
    assert m["hit@3"] == pytest.approx(2 / 3)
    assert m["hit@5"] == pytest.approx(1.0)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 4 + 1) / 3)
    assert m["recall@10"] == pytest.approx(1.0)
    # nDCG@10 with binary gains: q1 = 1; q2 = (1/log2 5) / 1; q3 = (1 + 1/log2 4) / (1 + 1/log2 3)
    import math

    q2 = 1 / math.log2(5)
    q3 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx((1 + q2 + q3) / 3, abs=1e-4)
    # highlights are whole passages here: q1 and q3 top sentences hold their evidence, q2's does not
    assert m["answer_sentence"] == pytest.approx(2 / 3)
    # one of two unanswerable flagged; the one flag is right; no answerable question flagged
    assert m["abstention_recall"] == pytest.approx(0.5)
    assert m["abstention_precision"] == pytest.approx(1.0)
    assert m["false_abstention_rate"] == 0.0
    assert report.by_type["x"]["n"] == 2 and report.by_type["x"]["hit@1"] == pytest.approx(0.5)
    assert report.by_type["unanswerable"]["flagged_unanswerable"] == pytest.approx(0.5)
    assert m["mean_passage_words"] == pytest.approx(3.0)
    rows = {r["id"]: r for r in report.rows}
    assert rows["2"]["first_relevant_rank"] == 4 and rows["3"]["relevant_ranks"] == [1, 3]


def test_same_inputs_same_numbers(scripted):
    assistant, questions = scripted
    assert (
        evaluate(assistant, questions, progress=False).metrics == evaluate(assistant, questions, progress=False).metrics
    )


def test_evidence_found_nowhere_counts_as_a_miss(scripted):
    assistant, _ = scripted
    report = evaluate(assistant, [EvalQuestion("1", "qa", evidence=("not in any passage",))], progress=False)
    assert report.metrics["hit@10"] == 0.0 and not report.rows[0]["evidence_found"]


def test_jsonl_and_csv_formats(tmp_path):
    (tmp_path / "q.csv").write_text(
        "id,question,evidence,doc,type,history\n1,who led it?,Medinsky led|led by Medinsky,001.txt,factoid,\n"
        "2,what did he say?,,,,who led it?|and then?\n"
    )
    csv_q = load_questions(tmp_path / "q.csv")
    assert csv_q[0].evidence == ("Medinsky led", "led by Medinsky") and csv_q[0].answerable
    assert csv_q[1].history == ("who led it?", "and then?") and not csv_q[1].answerable
    dev = load_questions(DATA / "dev.jsonl")
    assert len(dev) == 25 and dev[17].history == ("who was russia's chief negotiator in may?",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "ok?"}\n{"id": "b", "question": \n', r"q\.jsonl:2: not valid JSON"),
        ('{"id": "a"}\n', r"q\.jsonl:1: 'question' is missing"),
        ('{"id": "a", "question": "x", "evidence": "not a list"}\n', r"q\.jsonl:1: 'evidence' must be a list"),
        ('{"id": "a", "question": "x"}\n{"id": "a", "question": "y"}\n', r"q\.jsonl:2: id 'a' is used twice"),
        ("[1, 2]\n", r"q\.jsonl:1: expected a JSON object, one per line"),
    ],
)
def test_malformed_lines_name_file_line_and_problem(tmp_path, content, message):
    (tmp_path / "q.jsonl").write_text(content)
    with pytest.raises(QuestionFileError, match=message):
        load_questions(tmp_path / "q.jsonl")


def test_bad_csv_and_unknown_format(tmp_path):
    (tmp_path / "q.csv").write_text("id,query\n1,x\n")
    with pytest.raises(QuestionFileError, match="needs a 'question' column"):
        load_questions(tmp_path / "q.csv")
    (tmp_path / "q.txt").write_text("x")
    with pytest.raises(QuestionFileError, match="unknown format"):
        load_questions(tmp_path / "q.txt")


def test_report_files_and_compare(scripted, tmp_path):
    assistant, questions = scripted
    before = evaluate(assistant, questions, progress=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "mine.txt").write_text("keep")
    written = write_report(before, tmp_path / "a")
    assert sorted(p.name for p in written) == ["hit_at_k.png", "metrics.json", "questions.jsonl", "report.md"]
    assert (tmp_path / "a" / "mine.txt").read_text() == "keep"
    report_md = (tmp_path / "a" / "report.md").read_text()
    assert report_md.index("FAIL · 2") < report_md.index("ok · 1")  # failures first
    assert (tmp_path / "a" / "hit_at_k.png").read_bytes()[:4] == b"\x89PNG"
    assistant.rankings["qb"] = [2, 1, 0, 3]  # q2 now right at rank 1
    assistant.answerable["qe"] = False  # and q5 now correctly flagged
    write_report(evaluate(assistant, questions, progress=False), tmp_path / "b")
    text = compare_runs(tmp_path / "a", tmp_path / "b")
    assert "## Better (2)" in text and "## Worse (0)" in text
    assert "| hit@1 | 0.667 | 1.000 | +0.333 |" in text


def test_interrupted_report_writes_nothing(scripted, tmp_path, monkeypatch):
    import qa.apps.evaluation as ev

    assistant, questions = scripted
    report = evaluate(assistant, questions, progress=False)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ev, "_plot", boom)
    with pytest.raises(RuntimeError):
        write_report(report, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_beir_folder_is_indexed_one_passage_per_document(tmp_path):
    beir = tmp_path / "tiny"
    (beir / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Prisoner exchange", "Russia and Ukraine agreed to exchange one thousand prisoners of war in Istanbul."),
        ("d2", "Summit", "Lavrov said a summit between the leaders needs thorough preparation first."),
        ("d3", "Weather", "Rain is expected across the region on Thursday with strong winds in the afternoon."),
    ]
    (beir / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    )
    queries = [("q1", "how many prisoners were exchanged"), ("q2", "what did lavrov say about a summit")]
    (beir / "queries.jsonl").write_text("".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries))
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    report = evaluate_beir(beir, index=tmp_path / "index", encoder=FakeEncoder(), k=3, progress=False)
    assert report.info["documents"] == 3 and report.info["queries"] == 2
    assert beir_index(tmp_path / "index", beir) == tmp_path / "index.beir-tiny"  # where qa eval keeps it
    assert report.metrics["ndcg@10"] == pytest.approx(1.0)
    assert report.metrics["recall@3"] == pytest.approx(1.0)
    article = open_beir(beir, index=tmp_path / "index", encoder=FakeEncoder(), progress=False).assistant.article("d2")
    assert article.text == "Summit\n\n" + docs[1][2] and article.blocks == ((0, 6), (8, len(article.text)))
    (beir / "qrels" / "test.tsv").write_text("q1\td1\n")
    with pytest.raises(QuestionFileError, match=r"test\.tsv:1: expected query-id, corpus-id and score"):
        evaluate_beir(beir, index=tmp_path / "index", encoder=FakeEncoder(), progress=False)
    (beir / "qrels" / "test.tsv").write_text("q1\td1\t1\nq9\td2\t1\n")
    with pytest.raises(QuestionFileError, match=r"names queries missing from queries\.jsonl: \['q9'\]"):
        evaluate_beir(beir, index=tmp_path / "index", encoder=FakeEncoder(), progress=False)


@pytest.mark.model
def test_ci_evaluates_the_dev_set(tmp_path):
    """``qa eval`` on the dev set, as CI runs it: metrics printed, report written (no quality threshold)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.apps.cli",
            "eval",
            str(DATA / "dev.jsonl"),
            "--out",
            str(tmp_path / "run"),
            "--index",
            str(tmp_path / "index"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    for name in (
        "hit@1",
        "hit@3",
        "hit@5",
        "hit@10",
        "mrr@10",
        "ndcg@10",
        "recall@10",
        "answer_sentence",
        "abstention_recall",
        "abstention_precision",
        "mean_passage_words",
    ):
        assert 0.0 <= metrics[name] <= 1.0 or name == "mean_passage_words"
    print("\ndev set:", ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    assert (tmp_path / "run" / "questions.jsonl").read_text().count("\n") == 25


@pytest.mark.parametrize("name", ["tuning.jsonl", "heldout.jsonl"])
def test_question_sets_point_at_real_passages(fake_assistant, name):
    """Every answerable question's evidence lies inside one passage of its own article (as `qa eval`
    judges it), unanswerable ones name no article, and no evidence string is blank."""
    from qa.text import normalize

    questions = load_questions(DATA / name)
    by_doc: dict[str, list[str]] = {}
    for p in fake_assistant.store.passages:
        by_doc.setdefault(p.doc_id, []).append(normalize(p.text))
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        if not q.answerable:
            assert q.doc is None, q.id
            continue
        assert q.doc == "*" or q.doc in by_doc, f"{q.id}: no article {q.doc}"
        texts = [t for d, ts in by_doc.items() if q.doc in ("*", d) for t in ts]
        for evidence in q.evidence:
            needle = normalize(evidence)
            assert len(needle.split()) >= 3, q.id
            assert any(needle in text for text in texts), f"{q.id}: {evidence!r} is in no passage of {q.doc}"
