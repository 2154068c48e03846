"""The Milvus store: same answers as the FAISS store, writes whole or nothing, clear failures.

Each test that a server can answer runs twice: against Milvus Lite (``milvus-lite:PATH.db``), and
against a real Milvus server (the ``milvus`` package's standalone binary, 2.3.5), started once
for the session inside a loopback-only network namespace (:mod:`tests.milvus_server`), each test
in a collection of its own. The real server is skipped, with the reason, where it cannot run
(not root, no ``ip netns``); everything is skipped where pymilvus or milvus-lite is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace

import numpy as np
import pytest

pymilvus = pytest.importorskip("pymilvus", reason="pymilvus is not installed: pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="milvus-lite is not installed: pip install -e '.[milvus]'")

from qa import Assistant  # noqa: E402
from qa.errors import StoreMismatchError, StoreRefusedError, StoreSpecError, StoreUnavailableError  # noqa: E402
from qa.search.retrieval import RetrievalConfig  # noqa: E402
from qa.store import milvus as milvus_store  # noqa: E402
from qa.store.milvus import MilvusTarget  # noqa: E402

from .conftest import CORPUS, DATA  # noqa: E402

#: Few candidates, so that the five articles' 39 passages go through both searches.
CONFIG = replace(RetrievalConfig(), candidates=8)
QUESTIONS = [json.loads(line)["question"] for line in (DATA / "dev.jsonl").read_text().splitlines() if line.strip()]


def _keys(answer) -> list[tuple[str, int]]:
    return [(h.passage.doc_id, h.passage.char_start) for h in answer.hits]


def _load(corpus, index, encoder, store=None, **kw) -> Assistant:
    return Assistant.load(
        corpus=corpus, index=index, encoder=encoder, progress=False, weights=CONFIG, store=store, **kw
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lite(tmp_path):
    return f"milvus-lite:{tmp_path / 'milvus.db'}"


@pytest.fixture(params=["lite", "server"])
def spec(request, tmp_path):
    """A store setting: Milvus Lite, or a fresh collection on the real server."""
    if request.param == "lite":
        return f"milvus-lite:{tmp_path / 'milvus.db'}"
    return f"{request.getfixturevalue('real_server').uri}/c{uuid.uuid4().hex[:12]}"


def _other(spec: str) -> str:
    """Another collection where ``spec`` is."""
    return spec.replace("milvus.db", "milvus.db#other") if spec.startswith("milvus-lite:") else f"{spec}_other"


@pytest.fixture
def server(tmp_path):
    """A Milvus Lite gRPC server on 127.0.0.1: (start, stop, port); started once here."""
    from milvus_lite.adapter.grpc.server import start_server_in_thread

    port = _free_port()
    running = {}

    def start():
        running["server"], running["db"], _ = start_server_in_thread(
            data_dir=str(tmp_path / "server-data"), host="127.0.0.1", port=port
        )

    def stop():
        running.pop("server").stop(grace=0)
        running.pop("db").close()

    start()
    yield start, stop, port
    if running:
        stop()


def _in_step(store) -> None:
    """The collection holds exactly the catalogue's passages."""
    assert np.array_equal(store.milvus.ids(store.db.get("next_passage") + 1000), store.live_ids())


# --------------------------------------------------------------------------- settings


def test_store_settings_parse_and_bad_ones_name_the_forms(tmp_path):
    lite = MilvusTarget.parse(f"milvus-lite:{tmp_path}/x.db")
    assert lite.lite and lite.uri == str(tmp_path / "x.db") and lite.collection == "qa_passages"
    server = MilvusTarget.parse("milvus://db.example:19530/news_2026")
    assert not server.lite and server.uri == "http://db.example:19530" and server.collection == "news_2026"
    assert MilvusTarget.parse("milvus+https://db.example:443/news").uri == "https://db.example:443"
    with pytest.raises(StoreSpecError, match=r"milvus-lite:PATH\.db"):
        MilvusTarget.parse("postgres://x")
    with pytest.raises(StoreSpecError, match=r"\.db"):
        MilvusTarget.parse("milvus-lite:/tmp/x.sqlite")
    with pytest.raises(StoreSpecError, match="letters, digits and underscores"):
        MilvusTarget.parse("milvus://h:1/bad-name")


# --------------------------------------------------------------------------- same answers


def test_same_top_passages_as_the_faiss_store_with_and_without_filters(tmp_path, fake_encoder, spec):
    faiss = _load(CORPUS, tmp_path / "faiss", fake_encoder)
    milvus = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=spec)
    assert milvus.store.passage_count > CONFIG.candidates  # the searches are really used
    _in_step(milvus.store)
    questions = QUESTIONS if spec.startswith("milvus-lite:") else QUESTIONS[::2]  # a real search waits for
    for q in questions:  # the server's consistent time (about 0.2 s): half the questions there
        assert _keys(milvus.ask(q, as_of="2025-06-01")) == _keys(faiss.ask(q, as_of="2025-06-01")), q
    outlet = faiss.outlets[0]
    for q in questions[:6]:
        hits = milvus.ask(q, outlets=[outlet])
        assert _keys(hits) == _keys(faiss.ask(q, outlets=[outlet]))
        assert all(h.passage.outlet == outlet for h in hits.hits)
        dated = milvus.ask(q, date_from="2025-05-20", date_to="2025-12-31")
        assert _keys(dated) == _keys(faiss.ask(q, date_from="2025-05-20", date_to="2025-12-31"))
        assert all("2025-05-20" <= h.passage.date <= "2025-12-31" for h in dated.hits)


def test_filters_run_inside_milvus(tmp_path, fake_encoder, spec):
    milvus = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=spec)
    store = milvus.store
    outlet = milvus.outlets[0].lower()
    selection = store.allowed(outlets=frozenset({outlet}))
    assert "outlet in" in selection.where
    vector = fake_encoder.encode(["prisoners exchange"])[0]
    with store.reading():
        ids = store.search_dense(vector, 50, allowed=selection)
        lexical, scores = store.search_lexical(["prison", "exchang"], 50, allowed=selection)
    assert len(ids) and set(ids.tolist()) <= set(selection.tolist())
    assert len(lexical) and set(lexical.tolist()) <= set(selection.tolist()) and (scores > 0).all()
    assert list(scores) == sorted(scores, reverse=True)


def test_a_server_without_bm25_uses_the_index_postings(tmp_path, fake_encoder, spec, monkeypatch):
    if spec.startswith("milvus-lite:"):  # Lite has BM25: make it say it is a 2.4 server
        monkeypatch.setattr(milvus_store._Collection, "version", lambda self: (2, 4))
    milvus = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=spec)  # the real server is 2.3.5
    assert not milvus.store.milvus.bm25
    faiss = _load(CORPUS, tmp_path / "faiss", fake_encoder)
    for q in QUESTIONS[:10]:
        assert _keys(milvus.ask(q)) == _keys(faiss.ask(q)), q
    milvus.store.close()
    again = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=spec)
    assert not again.store.milvus.bm25  # read back from the collection


def test_a_bm25_schema_the_server_refuses_or_drops_falls_back_to_the_postings(
    tmp_path, fake_encoder, real_server, monkeypatch
):
    # a 2.3 server refuses the sparse index that BM25 needs, or drops the function from a schema
    monkeypatch.setattr(milvus_store, "BM25_SINCE", (2, 3))  # so the function is asked for
    spec = f"{real_server.uri}/c{uuid.uuid4().hex[:12]}"
    milvus = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=spec)
    assert not milvus.store.milvus.bm25
    faiss = _load(CORPUS, tmp_path / "faiss", fake_encoder)
    assert _keys(milvus.ask(QUESTIONS[0])) == _keys(faiss.ask(QUESTIONS[0]))
    real_create = pymilvus.MilvusClient.create_collection

    def dropping(self, name, *args, schema=None, **kw):  # accepts the schema, and loses the function
        if schema is not None and schema.functions:
            schema.functions.clear()
            schema.fields[:] = [f for f in schema.fields if f.name != "sparse"]
            kw["index_params"] = None
        return real_create(self, name, *args, schema=schema, **kw)

    monkeypatch.setattr(pymilvus.MilvusClient, "create_collection", dropping)
    dropped = _load(CORPUS, tmp_path / "dropped", fake_encoder, store=f"{spec}_dropped")
    assert not dropped.store.milvus.bm25  # seen in the collection it made
    assert _keys(dropped.ask(QUESTIONS[0])) == _keys(faiss.ask(QUESTIONS[0]))


def test_a_refused_index_is_not_retried_and_leaves_no_half_made_collection(
    tmp_path, fake_encoder, real_server, monkeypatch
):
    monkeypatch.setattr(milvus_store, "INVERTED_SINCE", (2, 3))  # INVERTED scalar indexes, which 2.3 refuses
    name = f"c{uuid.uuid4().hex[:12]}"
    calls = []
    real = pymilvus.MilvusClient.create_collection

    def counted(self, *args, **kw):
        calls.append(args[0])
        return real(self, *args, **kw)

    monkeypatch.setattr(pymilvus.MilvusClient, "create_collection", counted)
    with pytest.raises(StoreRefusedError, match=r"refused .*Trie.*not retried.*details in .*milvus\.log"):
        _load(CORPUS, tmp_path / "milvus", fake_encoder, store=f"{real_server.uri}/{name}")
    assert calls == [name]  # tried once
    assert "index type not match" in (tmp_path / "milvus" / "milvus.log").read_text()  # pymilvus's detail
    client = pymilvus.MilvusClient(uri=real_server.uri.replace("milvus://", "http://"))
    assert name not in client.list_collections() and f"{name}_state" not in client.list_collections()
    monkeypatch.undo()  # and the server is still up: the same collection is made as it should be
    milvus = _load(CORPUS, tmp_path / "milvus", fake_encoder, store=f"{real_server.uri}/{name}", rebuild=True)
    _in_step(milvus.store)


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        (pymilvus.MilvusException(code=2, message="Fail connecting to server on h:1, server unavailable"), True),
        (pymilvus.MilvusException(code=1100, message="index type not match: invalid parameter[expected=Trie]"), False),
        (ConnectionError("connection reset by peer"), True),
    ],
)
def test_a_lost_connection_is_told_from_a_refusal(exc, lost):
    assert milvus_store.lost_connection(exc) is lost


def test_state_is_read_strongly_so_reopening_after_a_commit_rewrites_nothing(tmp_path, fake_encoder, spec, monkeypatch):
    index = tmp_path / "milvus"
    _load(CORPUS, index, fake_encoder, store=spec)
    made = []
    monkeypatch.setattr(milvus_store._Collection, "create", lambda self, kind: made.append(kind))
    for _ in range(3):  # opened for writing right after each commit
        _in_step(_load(CORPUS, index, fake_encoder, store=spec).store)
    assert made == []


# --------------------------------------------------------------------------- writes


def test_add_remove_and_relabel_reach_the_collection(tmp_path, corpus_copy, fake_encoder, spec):
    index = tmp_path / "index"
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    store = milvus.store
    before = store.passage_count
    gone = sorted(corpus_copy.glob("*.txt"))[0]
    shutil.move(gone, tmp_path / gone.name)
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    assert milvus.store.passage_count < before
    _in_step(milvus.store)
    report = milvus.add([tmp_path / gone.name])
    assert report.added and milvus.store.passage_count == before
    _in_step(milvus.store)
    milvus.remove(report.added)
    _in_step(milvus.store)
    # a metadata edit re-labels the article in the collection too, so an outlet filter finds it
    meta = corpus_copy / "metadata.toml"
    first = sorted(p.name for p in corpus_copy.glob("*.txt"))[0]
    head, entry = meta.read_text().split(f'["{first}"]\n', 1)
    entry = re.sub(r'^outlet = ".*"$', 'outlet = "Relabel Wire"', entry, count=1, flags=re.M)
    meta.write_text(f'{head}["{first}"]\n{entry}')
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    hits = milvus.ask("prisoners", outlets=["Relabel Wire"]).hits
    assert hits and {h.passage.doc_id for h in hits} == {first}
    selection = milvus.store.allowed(outlets=frozenset({"relabel wire"}))
    with milvus.store.reading():
        found = milvus.store.search_dense(fake_encoder.encode(["prisoners"])[0], 100, allowed=selection)
    assert set(found.tolist()) == set(selection.tolist())


def test_a_failed_write_rolls_the_batch_back_and_is_mended_on_the_next_open(
    tmp_path, corpus_copy, fake_encoder, spec, monkeypatch
):
    index = tmp_path / "index"
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    generation, passages = milvus.store.generation, milvus.store.passage_count
    extra = tmp_path / "extra.txt"
    extra.write_text("Kyiv, 3 June. " + "The mayor said the bridge over the river would reopen on Monday. " * 30)
    real_upsert = pymilvus.MilvusClient.upsert

    def failing(self, collection, rows, **kw):  # the state row and one passage land, then the connection goes
        if collection.endswith("_state"):
            return real_upsert(self, collection, rows, **kw)
        real_upsert(self, collection, rows[:1], **kw)
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(pymilvus.MilvusClient, "upsert", failing)
    with pytest.raises(StoreUnavailableError, match="Nothing was half-written"):
        milvus.add([extra])
    monkeypatch.setattr(pymilvus.MilvusClient, "upsert", real_upsert)
    assert milvus.store.generation == generation and milvus.store.passage_count == passages
    assert milvus.store.document(str(extra)) is None
    assert len(milvus.store.milvus.ids(10_000)) == passages + 1  # a row past the last commit is left in Milvus
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)  # a writer opens it: mended
    _in_step(milvus.store)
    assert milvus.add([extra]).added
    _in_step(milvus.store)

    # a removal that fails after its rows left Milvus: the article stays, and its rows come back
    real_delete = pymilvus.MilvusClient.delete

    def delete_then_fail(self, collection, **kw):
        real_delete(self, collection, **kw)
        raise ConnectionError("deadline exceeded")

    monkeypatch.setattr(pymilvus.MilvusClient, "delete", delete_then_fail)
    doc = milvus.store.document_ids()[0]
    with pytest.raises(StoreUnavailableError):
        milvus.remove([doc])
    monkeypatch.setattr(pymilvus.MilvusClient, "delete", real_delete)
    assert milvus.store.document(doc) is not None
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    _in_step(milvus.store)
    # the catalogue was written afresh where a write was cut off: a replica answers as the folder does
    replica = Assistant.load(replica=True, store=spec, encoder=fake_encoder, weights=CONFIG)
    assert replica.store.document(doc) is not None and replica.store.document(str(extra)) is not None
    for question in QUESTIONS[:6]:
        assert _keys(replica.ask(question)) == _keys(milvus.ask(question)), question


# --------------------------------------------------------------------------- servers


def test_a_server_index_answers_and_an_outage_is_a_clear_error(tmp_path, corpus_copy, fake_encoder, server):
    start, stop, port = server
    spec = f"milvus://127.0.0.1:{port}/news"
    index = tmp_path / "index"
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    faiss = _load(corpus_copy, tmp_path / "faiss", fake_encoder)
    _in_step(milvus.store)
    q = QUESTIONS[0]
    assert _keys(milvus.ask(q)) == _keys(faiss.ask(q))
    generation = milvus.store.generation

    stop()  # the server goes away mid-session
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}"):
        milvus.ask(QUESTIONS[1])
    from qa.apps import webchat

    reply = webchat.respond(QUESTIONS[1], [], assistant=milvus)
    assert "qa-error" in reply and "Milvus server" in reply and "Traceback" not in reply
    extra = tmp_path / "extra.txt"
    extra.write_text("Kyiv, 3 June. The mayor said the bridge would reopen on Monday. " * 20)
    with pytest.raises(StoreUnavailableError):
        milvus.add([extra])
    assert milvus.store.generation == generation and milvus.store.document(str(extra)) is None

    start()  # back: once it answers, so does the assistant, and a writer brings it up to date
    deadline = time.monotonic() + 20
    while True:
        try:
            pymilvus.MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2).list_collections()
            break
        except Exception:
            assert time.monotonic() < deadline, "the restarted server never answered"
            time.sleep(0.5)
    assert _keys(milvus.ask(q)) == _keys(faiss.ask(q))
    milvus = _load(corpus_copy, index, fake_encoder, store=spec)
    _in_step(milvus.store)


def test_a_real_server_outage_is_a_clear_error_and_answers_come_back_after_a_restart(
    tmp_path, corpus_copy, fake_encoder, real_server, monkeypatch
):
    monkeypatch.setattr(milvus_store, "CONNECT_TIMEOUT", 2.0)
    spec = f"{real_server.uri}/c{uuid.uuid4().hex[:12]}"
    milvus = _load(corpus_copy, tmp_path / "index", fake_encoder, store=spec)
    faiss = _load(corpus_copy, tmp_path / "faiss", fake_encoder)
    replica = Assistant.load(replica=True, store=spec, encoder=fake_encoder, weights=CONFIG)
    q = QUESTIONS[0]
    assert _keys(milvus.ask(q)) == _keys(faiss.ask(q)) == _keys(replica.ask(q))
    real_server.kill()  # SIGKILL: no data lost
    with pytest.raises(StoreUnavailableError, match="is running and reachable"):
        milvus.ask(QUESTIONS[1])  # in about 2 s
    with pytest.raises(StoreUnavailableError, match="is running and reachable"):
        replica.ask(QUESTIONS[1])  # a replica mid-question: the same one-line error (a 503 in the API)
    real_server.restart()
    assert _keys(milvus.ask(q)) == _keys(faiss.ask(q))  # once the server has loaded it again (about 25 s)
    assert _keys(replica.ask(q)) == _keys(faiss.ask(q))  # the replica too: catalogue collections loaded again
    _in_step(_load(corpus_copy, tmp_path / "index", fake_encoder, store=spec).store)


def test_the_cli_says_one_line_and_logs_the_detail(tmp_path, corpus_copy, capfd, monkeypatch):
    from qa.apps.cli import main

    monkeypatch.setattr(milvus_store, "CONNECT_TIMEOUT", 2.0)
    spec = f"milvus://127.0.0.1:{_free_port()}/news"
    assert main(["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index"), "--store", spec]) == 2
    err = capfd.readouterr().err  # gRPC's core may log a line of its own: only pymilvus's flood is ours
    assert "Traceback" not in err and "RPC error" not in err and "[WARNING]" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "is running and reachable" in errors[0]
    assert not (tmp_path / "index").exists()


def test_unreachable_at_start_fails_before_touching_the_index(tmp_path, corpus_copy, fake_encoder, monkeypatch):
    monkeypatch.setattr(milvus_store, "CONNECT_TIMEOUT", 2.0)
    index = tmp_path / "index"
    started = time.perf_counter()
    with pytest.raises(StoreUnavailableError, match="is running and reachable"):
        _load(corpus_copy, index, fake_encoder, store=f"milvus://127.0.0.1:{_free_port()}/news")
    assert time.perf_counter() - started < 30
    assert not index.exists()


def test_a_lite_file_held_by_another_process_is_a_clear_error(tmp_path, fake_encoder, lite):
    index = tmp_path / "index"
    _load(CORPUS, index, fake_encoder, store=lite).store.close()
    milvus_store.MilvusTarget.parse(lite)  # the same path the holder opens
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "milvus.db")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        before = (index / "index.sqlite").read_bytes()
        with pytest.raises(StoreUnavailableError, match="open in another process"):
            _load(CORPUS, index, fake_encoder, store=lite)
        assert (index / "index.sqlite").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()


HOLD = """
import sys, time
from pymilvus import MilvusClient
client = MilvusClient(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_a_collection_of_another_index_is_not_taken_over(tmp_path, fake_encoder, spec):
    _load(CORPUS, tmp_path / "one", fake_encoder, store=spec)
    with pytest.raises(StoreMismatchError, match="another index"):
        _load(CORPUS, tmp_path / "two", fake_encoder, store=spec, refresh=False)
    # a new index takes an existing collection over only when it is made (or rebuilt)
    two = _load(CORPUS, tmp_path / "three", fake_encoder, store=_other(spec))
    _in_step(two.store)


def test_the_catalogue_opens_with_either_store(tmp_path, fake_encoder, spec):
    index = tmp_path / "index"
    milvus = _load(CORPUS, index, fake_encoder, store=spec)
    expected = {q: _keys(milvus.ask(q)) for q in QUESTIONS[:8]}
    milvus.store.close()
    faiss = _load(CORPUS, index, fake_encoder)  # no FAISS file: built from the stored vectors
    assert {q: _keys(faiss.ask(q)) for q in QUESTIONS[:8]} == expected
    faiss.store.close()
    again = _load(CORPUS, index, fake_encoder, store=spec)
    _in_step(again.store)
    assert {q: _keys(again.ask(q)) for q in QUESTIONS[:8]} == expected


@pytest.mark.model
def test_cli_takes_store(tmp_path, lite, capsys):
    from qa.apps.cli import main

    args = ["--corpus", str(CORPUS), "--index", str(tmp_path / "index"), "--store", lite]
    assert main(["index", *args]) == 0
    assert "Milvus Lite" in capsys.readouterr().out
    assert main(["ask", "how many prisoners were exchanged?", "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["hits"]
    assert main(["ask", "x", "--corpus", str(CORPUS), "--index", str(tmp_path / "i2"), "--store", "nope://"]) == 2
    assert "milvus-lite:PATH.db" in capsys.readouterr().err


# --------------------------------------------------------------------------- replicas: the server alone


def test_a_replica_answers_from_the_server_alone_as_the_index_folder_does(spec, corpus_copy, tmp_path, fake_encoder):
    """Everything a question reads (passages, facts, BM25 postings, sentence vectors, articles,
    quotes) comes from the server: the replica has no index folder and no corpus."""
    from qa.errors import ReplicaError

    (corpus_copy / "aliases.toml").write_text('["Volodymyr Zelensky"]\nvariants = ["Zelenskyy"]\n')
    writer = _load(corpus_copy, tmp_path / "index", fake_encoder, store=spec)
    replica = Assistant.load(replica=True, store=spec, encoder=fake_encoder, weights=CONFIG)
    assert replica.store.folder is None and replica.corpus is None
    joined = [q.to_dict() for q in writer.quotes("Zelenskyy")]  # the corpus's alias table, kept on the server
    assert joined and [q.to_dict() for q in replica.quotes("Zelenskyy")] == joined
    for question in QUESTIONS:
        mine, theirs = writer.ask(question, k=5), replica.ask(question, k=5)
        assert _keys(theirs) == _keys(mine), question
        assert [h.highlight for h in theirs.hits] == [h.highlight for h in mine.hits]
        assert [h.speakers for h in theirs.hits] == [h.speakers for h in mine.hits]
        assert theirs.answerable == mine.answerable
    filtered = {"outlets": ["News.Az"], "date_from": "2025-05-01"}
    assert _keys(replica.ask("prisoner exchange", **filtered)) == _keys(writer.ask("prisoner exchange", **filtered))
    assert replica.speakers() == writer.speakers()
    name = writer.speakers()[0].name
    assert [q.to_dict() for q in replica.quotes(name)] == [q.to_dict() for q in writer.quotes(name)]
    doc = writer.store.document_ids()[0]
    view = replica.article(doc)
    for p in writer.store.passages_by_id(range(writer.store.document(doc).first, writer.store.document(doc).first + 3)):
        assert view.text[p.char_start : p.char_end] == p.text  # at the file's own offsets
    assert replica.store.summary() == writer.store.summary()
    with pytest.raises(ReplicaError, match="ingest side"):
        replica.remove([doc])

    # the ingest side adds and removes; the replica sees it on its next question
    (corpus_copy / "zebra.txt").write_text(
        "Zebra crossings return\n\nThe council said on Monday that zebra crossings will return to the old town.\n"
    )
    writer.add([corpus_copy / "zebra.txt"])
    assert replica.ask("zebra crossings council", k=1).hits[0].passage.doc_id == "zebra.txt"
    writer.remove(["zebra.txt"])
    assert all(h.passage.doc_id != "zebra.txt" for h in replica.ask("zebra crossings council", k=5).hits)
    for question in QUESTIONS[:5]:
        assert _keys(replica.ask(question)) == _keys(writer.ask(question)), question
    (corpus_copy / "aliases.toml").unlink()  # the next qa index takes the table away from the replica too
    writer = _load(corpus_copy, tmp_path / "index", fake_encoder, store=spec)
    assert replica.quotes("Zelenskyy") == writer.quotes("Zelenskyy") == []
    replica.store.close()


def test_a_replica_of_a_collection_without_a_catalogue_says_what_to_run(lite, fake_encoder):
    with pytest.raises(StoreSpecError, match="qa index --store"):
        Assistant.load(replica=True, store=lite, encoder=fake_encoder)
    with pytest.raises(StoreSpecError, match="milvus://HOST:PORT/COLLECTION"):
        Assistant.load(replica=True, store=None, encoder=fake_encoder)


def test_a_replica_sees_what_commits_without_milvus_changed_once_the_index_is_written_again(
    lite, corpus_copy, tmp_path, fake_encoder
):
    """Changes made with the FAISS store are listed by the index's triggers and reach the server
    on the next ``qa index --store``: the replica then answers as the index folder does."""
    index = tmp_path / "index"
    _load(corpus_copy, index, fake_encoder, store=lite).store.close()
    (corpus_copy / "zebra.txt").write_text("Zebra crossings return\n\nThe council said zebra crossings return.\n")
    faiss = _load(corpus_copy, index, fake_encoder)  # adds zebra.txt without Milvus
    assert faiss.ask("zebra crossings council", k=1).hits[0].passage.doc_id == "zebra.txt"
    faiss.store.close()
    writer = _load(corpus_copy, index, fake_encoder, store=lite)  # brings the server up to date
    replica = Assistant.load(replica=True, store=lite, encoder=fake_encoder, weights=CONFIG)
    assert replica.ask("zebra crossings council", k=1).hits[0].passage.doc_id == "zebra.txt"
    for question in QUESTIONS[:8]:
        assert _keys(replica.ask(question)) == _keys(writer.ask(question)), question
    assert writer.store.db.execute("SELECT COUNT(*) FROM catalogue_changes").fetchone()[0] == 0
