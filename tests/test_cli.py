"""The qa command: JSON output carries the API's fields; errors are one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qa.apps.cli import main

from .conftest import ROOT


def _qa(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "qa.apps.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_empty_question_is_a_clean_error():
    result = _qa("ask", "   ")
    assert result.returncode == 2
    assert result.stderr.startswith("error: the question is empty")
    assert "Traceback" not in result.stderr


def test_missing_corpus_is_a_clean_error(tmp_path):
    result = _qa("index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "index"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_foreign_index_folder_is_refused(tmp_path, corpus_copy):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    code = main(["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "notes")])
    assert code == 2
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


@pytest.mark.model
def test_malformed_weights_file_is_a_clean_error(tmp_path, corpus_copy, capsys):
    weights = tmp_path / "weights.json"
    weights.write_text('{"dense": 1.0, "bm52": 0.3}')
    code = main(
        ["ask", "summit", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index"), "--weights", str(weights)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown weight 'bm52'" in err and "known weights: dense" in err
    assert not (tmp_path / "index").exists()  # refused before anything was built


def test_ask_json_carries_the_api_fields(tmp_path):
    result = _qa("ask", "what did Lavrov say about a summit", "--k", "3", "--json", "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "what did Lavrov say about a summit"
    assert isinstance(data["answerable"], bool)
    assert len(data["hits"]) == 3
    hit = data["hits"][0]
    assert hit["rank"] == 1
    for field in ("text", "doc_id", "title", "outlet", "date", "char_start", "char_end"):
        assert field in hit["passage"]
    assert hit["passage"]["doc_id"] == "004_934a92fb383001da.txt"
    assert len(hit["highlight"]) == 2
    text = (ROOT / "corpus" / hit["passage"]["doc_id"]).read_text(encoding="utf-8")
    assert text[hit["passage"]["char_start"] : hit["passage"]["char_end"]] == hit["passage"]["text"]
    plain = _qa("ask", "what did Lavrov say about a summit", "--k", "1", "--index", str(tmp_path / "index"))
    assert "[1]" in plain.stdout and ">>>" in plain.stdout
    week = [
        "ask",
        "what was agreed at the peace talks this week?",
        "--k",
        "1",
        "--json",
        "--index",
        str(tmp_path / "index"),
    ]
    may = json.loads(_qa(*week, "--as-of", "2025-05-21").stdout)
    assert may["hits"][0]["passage"]["date"] == "2025-05-20" and may["hits"][0]["signals"]["when"] == 1.0
    bad = _qa(*week, "--as-of", "21/05/2025")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.model
def test_add_and_remove_from_the_command_line(tmp_path, corpus_copy):
    index = ["--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    made = _qa("index", *index)
    assert made.returncode == 0 and "5 articles" in made.stdout, made.stderr
    new = tmp_path / "elsewhere" / "truce.txt"
    new.parent.mkdir()
    new.write_text("Truce holds\n\nThe Zorblatt envoy said the Black Sea truce held for a third week.\n")
    added = _qa("add", str(new), *index)
    assert added.returncode == 0 and "1 added" in added.stdout and "6 articles" in added.stdout, added.stderr
    asked = _qa("ask", "what did the Zorblatt envoy say?", "--json", *index)
    assert json.loads(asked.stdout)["hits"][0]["passage"]["doc_id"] == str(new.resolve())
    gone = _qa("remove", "nope.txt", *index)
    assert gone.returncode == 2 and gone.stderr.startswith("error: no indexed article has the id 'nope.txt'")
    removed = _qa("remove", str(new.resolve()), *index)
    assert removed.returncode == 0 and "5 articles" in removed.stdout, removed.stderr
    assert new.exists()
    missing = _qa("add", str(tmp_path / "absent.txt"), *index)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
