"""Ingest at archive scale: incremental add and remove equal a rebuild, resuming, bad input, kills, readers."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.errors import CorpusError, CorpusWarning, DocumentNotFoundError
from qa.indexing import open_index

from .conftest import CORPUS, ROOT, FakeEncoder

QUESTIONS = [
    "what did Lavrov say about a summit",
    "how many prisoners were to be exchanged?",
    "who led Russia's delegation in Istanbul?",
    "Trump ultimatum fifty days sanctions",
    "what did Peskov say about a breakthrough?",
]


def _paragraphs() -> list[str]:
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        out.extend(p.strip() for p in path.read_text().split("\n") if len(p.split()) >= 12)
    return out


def make_articles(folder: Path, n: int, *, seed: int = 0, start: int = 0) -> list[str]:
    """``n`` distinct articles of 3-8 paragraphs of the real corpus, each with its own headline."""
    rng = random.Random(seed)
    paragraphs = _paragraphs()
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(start, start + n):
        body = rng.sample(paragraphs, rng.randint(3, 8))
        name = f"a{i:04d}.txt"
        (folder / name).write_text(f"Dispatch number {i} from the talks\n\n" + "\n\n".join(body) + "\n")
        names.append(name)
    return names


def answers(assistant: Assistant) -> list:
    """Everything a user sees of the answers to :data:`QUESTIONS`, with scores rounded to float noise."""
    out = []
    for q in QUESTIONS:
        a = assistant.ask(q, k=5)
        out.append(
            (
                a.answerable,
                round(a.confidence, 4),
                [
                    (h.passage.doc_id, h.passage.char_start, h.passage.char_end, round(h.score, 4), h.highlight)
                    for h in a.hits
                ],
            )
        )
    return out


def statistics(store) -> dict:
    """The collection statistics BM25 and names are computed from, by term (not by id)."""
    db = store.db
    meta = store.manifest
    return {
        "counts": {k: meta[k] for k in ("passages", "sentences", "documents", "passage_tokens", "sentence_tokens")},
        "terms": sorted(db.execute("SELECT term, pdf, sdf FROM terms WHERE pdf > 0 OR sdf > 0").fetchall()),
        "names": sorted(db.execute("SELECT word, capital, lower FROM names").fetchall()),
        "speakers": sorted(db.execute("SELECT word, count FROM speaker_words").fetchall()),
    }


def _load(corpus, index, **kw) -> Assistant:
    return Assistant.load(corpus=corpus, index=index, encoder=FakeEncoder(), progress=False, **kw)


def test_any_sequence_of_adds_and_removes_equals_a_rebuild(tmp_path, monkeypatch):
    """Articles added by refresh, by add(), changed, removed and re-added in batches, against a clean build."""
    import qa.indexing.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH_PASSAGES", 6)  # many batches, many segments, merges
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    extra = tmp_path / "extra"
    make_articles(corpus, 12, seed=1)
    make_articles(extra, 6, seed=2, start=100)
    assistant = _load(corpus, tmp_path / "index")
    assistant.add([corpus / "a0003.txt", extra])  # one unchanged, six from outside the corpus
    assistant.remove(["a0001.txt", "002_99214e3abbb71cf3.txt", str((extra / "a0102.txt").resolve())])
    (corpus / "a0004.txt").write_text((corpus / "a0004.txt").read_text() + "\nLavrov said the summit was off.\n")
    (corpus / "a0005.txt").unlink()
    make_articles(corpus, 3, seed=3, start=50)
    assistant = _load(corpus, tmp_path / "index")  # refresh: changed, gone and new articles
    assistant.add([corpus / "002_99214e3abbb71cf3.txt"])  # removed earlier, back again
    incremental = answers(assistant)
    segments = assistant.store.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]

    clean = tmp_path / "clean"
    shutil.copytree(corpus, clean)
    (clean / "a0001.txt").unlink()  # removed with qa remove, still in the corpus folder
    for name in sorted(os.listdir(extra)):
        if name != "a0102.txt":
            shutil.copy(extra / name, clean / f"x-{name}")
    rebuilt = _load(clean, tmp_path / "index-clean")
    assert statistics(assistant.store) == statistics(rebuilt.store)
    expected = answers(rebuilt)
    rename = {f"x-{n}": str((extra / n).resolve()) for n in os.listdir(extra)}
    expected = [(ok, conf, [(rename.get(d, d), *rest) for d, *rest in hits]) for ok, conf, hits in expected]
    assert incremental == expected
    assert segments < 10  # merged as they accumulated


def test_add_and_remove_cost_only_their_articles(corpus_copy, tmp_path):
    assistant = _load(corpus_copy, tmp_path / "index")
    enc = assistant.encoder
    before = enc.encoded
    outside = tmp_path / "outside"
    make_articles(outside, 2, seed=5)
    report = assistant.add([outside])
    new = [p for p in assistant.passages if p.doc_id.startswith(str(outside.resolve()))]
    assert len(report.added) == 2 and enc.encoded - before == len(new) + sum(len(p.sentences) for p in new)
    before = enc.encoded
    assert assistant.add([outside]).added == []  # unchanged: nothing to do
    assert enc.encoded == before
    hit = assistant.ask("Dispatch number 1 from the talks", k=10).hits
    assert any(h.passage.doc_id == str((outside / "a0001.txt").resolve()) for h in hit)
    article = assistant.article(str((outside / "a0001.txt").resolve()))
    assert article.text.startswith("Dispatch number 1")
    assistant.remove([str((outside / "a0001.txt").resolve())])
    assert (outside / "a0001.txt").exists()  # the file is never touched
    assert assistant.store.document(str((outside / "a0001.txt").resolve())) is None


def test_removing_an_unknown_id_is_a_clear_error_and_removes_nothing(fake_assistant):
    count = fake_assistant.store.document_count
    with pytest.raises(
        DocumentNotFoundError, match=r"'004_934a92fb383001da.tx'.*did you mean '004_934a92fb383001da.txt'"
    ):
        fake_assistant.remove(["000_3ddd93d71f997d71.txt", "004_934a92fb383001da.tx"])
    assert fake_assistant.store.document_count == count


def test_a_removed_corpus_article_stays_out_until_added_again(corpus_copy, tmp_path):
    assistant = _load(corpus_copy, tmp_path / "index")
    assistant.remove(["001_cc5f1bbda9c16bd9.txt"])
    with pytest.warns(CorpusWarning, match="001_cc5f1bbda9c16bd9.txt was left out.*qa remove"):
        again = _load(corpus_copy, tmp_path / "index")
    assert again.store.document("001_cc5f1bbda9c16bd9.txt") is None
    again.add([corpus_copy / "001_cc5f1bbda9c16bd9.txt"])
    assert again.store.document("001_cc5f1bbda9c16bd9.txt").meta.outlet == "The Moscow Times"  # corpus metadata


def test_adding_a_path_that_is_not_there_or_not_an_article(fake_assistant, tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        fake_assistant.add([tmp_path / "nope.txt"])
    (tmp_path / "notes.docx").write_bytes(b"x")
    with pytest.raises(CorpusError, match="not an article file"):
        fake_assistant.add([tmp_path / "notes.docx"])


def test_a_running_assistant_sees_a_change_on_its_next_question(corpus_copy, tmp_path):
    """One process serves questions while another adds an article: no restart needed."""
    serving = _load(corpus_copy, tmp_path / "index")
    question = "what did the Zorblatt envoy say about the dam?"
    assert not any("Zorblatt" in h.passage.text for h in serving.ask(question).hits)
    outside = tmp_path / "late.txt"
    outside.write_text("Late news\n\nThe Zorblatt envoy said the dam talks would resume in Geneva next week.\n")
    writer = _load(corpus_copy, tmp_path / "index")  # another Assistant, as another process would have
    writer.add([outside])
    assert "Zorblatt" in serving.ask(question).hits[0].passage.text
    writer.remove([str(outside.resolve())])
    assert not any("Zorblatt" in h.passage.text for h in serving.ask(question).hits)


def test_bad_input_is_named_and_the_rest_goes_in(corpus_copy, tmp_path, monkeypatch):
    import qa.indexing.ingest as ingest

    (corpus_copy / "empty.txt").write_text("")
    (corpus_copy / "blank.md").write_text("\n   \n")
    (corpus_copy / "binary.txt").write_bytes(b"%PDF-1.7\x00\x01\x02" + bytes(range(256)) * 8)
    (corpus_copy / "copy-of-001.txt").write_bytes((corpus_copy / "001_cc5f1bbda9c16bd9.txt").read_bytes() + b"\n\n")
    with open(corpus_copy / "huge.txt", "w") as fh:  # 50 MB
        line = "The delegations met again in Istanbul on Monday and agreed to keep talking. " * 10 + "\n"
        while fh.tell() < 50_000_000:
            fh.write(line)
    (corpus_copy / "vanishing.txt").write_text("Gone soon\n\nThis article disappears while the index is made.\n")
    make_articles(corpus_copy, 3, seed=9)
    real_loader = ingest._loader

    def vanish(source, doc_id):
        load = real_loader(source, doc_id)
        if doc_id != "vanishing.txt":
            return load

        def gone():
            (corpus_copy / "vanishing.txt").unlink()
            return load()

        return gone

    monkeypatch.setattr(ingest, "_loader", vanish)
    with pytest.warns(CorpusWarning) as caught:
        assistant = _load(corpus_copy, tmp_path / "index")
    said = "\n".join(str(w.message) for w in caught)
    assert "empty.txt" in said and "empty file" in said
    assert "blank.md" in said
    assert "binary.txt" in said and "binary file" in said
    assert "huge.txt" in said and "50 MB" in said
    assert "vanishing.txt" in said and "vanished" in said
    assert "copy-of-001.txt" in said and "same text as 001_cc5f1bbda9c16bd9.txt" in said
    ids = set(assistant.store.document_ids())
    assert {"a0000.txt", "a0001.txt", "a0002.txt", "001_cc5f1bbda9c16bd9.txt"} <= ids
    assert not ids & {"empty.txt", "blank.md", "binary.txt", "huge.txt", "vanishing.txt", "copy-of-001.txt"}
    monkeypatch.undo()
    enc = FakeEncoder()
    with pytest.warns(CorpusWarning, match="copy-of-001.txt"):  # named again at each refresh, nothing redone
        open_index(corpus_copy, tmp_path / "index", enc, progress=False)
    assert enc.encoded == 0
    # once the kept copy goes, the duplicate takes its place
    (corpus_copy / "001_cc5f1bbda9c16bd9.txt").unlink()
    store = open_index(corpus_copy, tmp_path / "index", FakeEncoder(), progress=False)
    assert store.document("copy-of-001.txt") is not None


class Boom(RuntimeError):
    pass


def test_an_interrupted_ingest_keeps_its_committed_batches_and_resumes(tmp_path, monkeypatch):
    import qa.indexing.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH_PASSAGES", 10)
    corpus = tmp_path / "corpus"
    make_articles(corpus, 20, seed=4)

    class Dying(FakeEncoder):
        def encode(self, texts, **kw):
            if self.calls >= 6:
                raise Boom("killed")
            return super().encode(texts, **kw)

    with pytest.raises(Boom):
        open_index(corpus, tmp_path / "index", Dying(), progress=False)
    store = open_index(corpus, tmp_path / "index", FakeEncoder(), progress=False, refresh=False)
    kept = store.document_count
    assert 0 < kept < 20  # whole batches are in
    enc = FakeEncoder()
    store = open_index(corpus, tmp_path / "index", enc, progress=False)
    assert store.document_count == 20
    done = sum(1 for p in store.passages if store.document(p.doc_id))
    assert enc.encoded < 2 * done  # only what was missing was encoded


def test_a_reader_sees_only_committed_states_while_articles_go_in(tmp_path, monkeypatch):
    import qa.indexing.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH_PASSAGES", 8)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    reader = _load(corpus, tmp_path / "index")
    outside = tmp_path / "outside"
    make_articles(outside, 30, seed=6)
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            with reader.store.reading():
                docs = reader.store.document_count
                passages = reader.store.passage_count
                live = len(reader.store.live_ids())
                per_doc = reader.store.db.execute("SELECT COALESCE(SUM(passages), 0) FROM documents").fetchone()[0]
            if not passages == live == per_doc or docs < 5:
                problems.append(f"{docs} documents, {passages} / {live} / {per_doc} passages")
            answer = reader.ask("Dispatch number 7 from the talks")
            if not all(h.passage.text for h in answer.hits):
                problems.append("a hit without text")

    thread = threading.Thread(target=read)
    thread.start()
    try:
        writer = _load(corpus, tmp_path / "index")
        writer.add([outside])
    finally:
        done.set()
        thread.join()
    assert not problems
    assert reader.store.document_count == 35


KILLED_INGEST = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    import qa.indexing.ingest as ingest
    ingest.BATCH_PASSAGES = 5
    import time
    from conftest import FakeEncoder
    from qa.indexing import open_index

    class Slow(FakeEncoder):  # about as slow per passage as a real model on 2 cores, in proportion
        def encode(self, texts, **kw):
            time.sleep(0.004 * len(texts))
            return super().encode(texts, **kw)

    print("started", flush=True)
    open_index({corpus!r}, {index!r}, Slow(), progress=False)
    print("done", flush=True)
    """
)


def _consistent(index: Path) -> int:
    """Check an index as a reader finds it; returns its number of articles."""
    with sqlite3.connect(index / "index.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = open_index(CORPUS, index, FakeEncoder(), progress=False, refresh=False)
    try:
        meta = store.manifest
        ids = store.live_ids()
        assert len(ids) == meta["passages"]
        docs = store.documents
        assert sum(d.count for d in docs.values()) == len(ids) and len(docs) == meta["documents"]
        assert store.passage_file.rows >= meta["next_passage"] and store.sentence_file.rows >= meta["next_sentence"]
        assert np.array_equal(store.vector_index.ids(), ids)
        for d in docs.values():  # every committed article is whole
            passages = [p for p in store.passages_by_id(range(d.first, d.first + d.count))]
            assert len(passages) == d.count and all(p.doc_id == d.doc_id for p in passages)
        return len(docs)
    finally:
        store.close()


def test_killed_at_random_points_the_index_stays_whole_and_resumes(tmp_path):
    corpus = tmp_path / "corpus"
    make_articles(corpus, 40, seed=7)
    index = tmp_path / "index"
    script = tmp_path / "ingest.py"
    script.write_text(
        KILLED_INGEST.format(root=str(ROOT), tests=str(ROOT / "tests"), corpus=str(corpus), index=str(index))
    )
    rng = random.Random(11)
    counts = []
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "started"
        time.sleep(rng.uniform(0.2, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (index / "index.sqlite").exists():
            counts.append(_consistent(index))
    assert counts == sorted(counts)  # nothing committed is ever lost
    assert len({c for c in counts if 0 < c < 40}) >= 2  # the kills did land in the middle of ingests
    final = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert final.returncode == 0 and "done" in final.stdout, final.stderr
    assert _consistent(index) == 40
    clean = open_index(corpus, tmp_path / "clean", FakeEncoder(), progress=False)
    again = open_index(corpus, index, FakeEncoder(), progress=False)
    assert statistics(again) == statistics(clean)


def test_a_file_that_vanishes_during_the_scan_is_named_and_the_rest_goes_in(corpus_copy, tmp_path, monkeypatch):
    import qa.ingest.documents as documents

    real = documents.file_state

    def vanishing(path, previous=None):
        if path.name == "003_e354e611adafdd87.txt":
            raise FileNotFoundError(path)
        return real(path, previous)

    monkeypatch.setattr(documents, "file_state", vanishing)
    with pytest.warns(CorpusWarning, match="003_e354e611adafdd87.txt vanished while the corpus was scanned"):
        assistant = _load(corpus_copy, tmp_path / "index")
    assert set(assistant.store.document_ids()) == {
        "000_3ddd93d71f997d71.txt",
        "001_cc5f1bbda9c16bd9.txt",
        "002_99214e3abbb71cf3.txt",
        "004_934a92fb383001da.txt",
    }


def test_an_index_with_every_article_removed_still_answers_that_nothing_is_there(fake_assistant):
    fake_assistant.remove(fake_assistant.store.document_ids())
    answer = fake_assistant.ask("what did Lavrov say about a summit")
    assert answer.hits == () and not answer.answerable
    assert fake_assistant.store.manifest["passages"] == 0 and len(fake_assistant.store.vector_index) == 0
