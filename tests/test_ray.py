"""Ingest on Ray Data: the same index as a plain ingest, and only whole articles when workers die.

A local Ray cluster of 2 CPUs is started by the tests. Skipped, with the reason, where Ray
Data cannot be imported (``pip install -e '.[ray]'``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install -e '.[ray]'")

from qa import Assistant  # noqa: E402
from qa.errors import RayError  # noqa: E402
from qa.indexing import ingest as ingest_module  # noqa: E402
from qa.indexing import on_ray  # noqa: E402

from .conftest import CORPUS, ROOT, FakeEncoder  # noqa: E402

TABLES = {
    "documents": "SELECT doc_id, origin, title, outlet, date, kind, content, first_passage, passages, names, speakers "
    "FROM documents ORDER BY doc_id",
    "passages": "SELECT id, doc_id, char_start, char_end, text, quotes, first_sentence, sentences FROM passages "
    "ORDER BY id",
    "passage_data": "SELECT * FROM passage_data ORDER BY id",
    "terms": "SELECT * FROM terms ORDER BY id",
    "names": "SELECT * FROM names ORDER BY word",
    "speaker_words": "SELECT * FROM speaker_words ORDER BY word",
    "skipped": "SELECT doc_id, reason, duplicate_of FROM skipped ORDER BY doc_id",
}


class DyingEncoder(FakeEncoder):
    """The fake encoder, whose process dies when it meets ``word`` (only the first time, with ``once``)."""

    def __init__(self, word: str, marker: str | None = None) -> None:
        super().__init__()
        self.word, self.marker = word, marker

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False):
        if any(self.word in t for t in texts):
            if self.marker is None:
                os._exit(1)
            if not os.path.exists(self.marker):
                Path(self.marker).write_text("died once")
                os._exit(1)
        return super().encode(texts, batch_size=batch_size, progress=progress)


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs whose workers can import the tests' encoders."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield
    ray.shutdown()


def _tables(index: Path) -> dict[str, list]:
    conn = sqlite3.connect(index / "index.sqlite")
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        conn.close()


def _assert_same(a: Assistant, b: Assistant) -> None:
    assert _tables(a.store.folder) == _tables(b.store.folder)
    ids = a.store.live_ids()
    assert np.array_equal(ids, b.store.live_ids())
    np.testing.assert_allclose(a.store.passage_file.read(ids), b.store.passage_file.read(ids), atol=1e-3)
    count = a.store.db.get("next_sentence")
    sentences = np.arange(count)
    np.testing.assert_allclose(a.store.sentence_file.read(sentences), b.store.sentence_file.read(sentences), atol=1e-3)


def _whole(index: Path) -> int:
    """Articles in the index, checking each has every passage and sentence its row says."""
    conn = sqlite3.connect(index / "index.sqlite")
    try:
        docs = conn.execute("SELECT doc_id, first_passage, passages FROM documents").fetchall()
        for doc_id, first, count in docs:
            ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE doc_id = ? ORDER BY id", (doc_id,))]
            assert ids == list(range(first, first + count)), doc_id
            data = conn.execute(
                "SELECT COUNT(*) FROM passage_data WHERE id >= ? AND id < ?", (first, first + count)
            ).fetchone()[0]
            assert data == count, doc_id
        return len(docs)
    finally:
        conn.close()


def test_an_unreachable_cluster_is_a_clear_error(tmp_path):
    assert not ray.is_initialized()  # runs before the cluster fixture starts one
    with pytest.raises(RayError, match="cannot reach the Ray cluster"):
        Assistant.load(corpus=CORPUS, index=tmp_path / "i", encoder=FakeEncoder(), progress=False, ray="127.0.0.1:1")


def test_ray_ingest_equals_a_plain_ingest(tmp_path, cluster):
    plain = Assistant.load(corpus=CORPUS, index=tmp_path / "plain", encoder=FakeEncoder(), progress=False)
    on = Assistant.load(corpus=CORPUS, index=tmp_path / "ray", encoder=FakeEncoder(), progress=False, ray="local")
    _assert_same(plain, on)
    question = "how many prisoners were to be exchanged?"
    assert [h.passage.char_start for h in on.ask(question).hits] == [
        h.passage.char_start for h in plain.ask(question).hits
    ]


def test_a_killed_worker_is_started_again_and_the_index_is_the_same(tmp_path, cluster):
    plain = Assistant.load(corpus=CORPUS, index=tmp_path / "plain", encoder=FakeEncoder(), progress=False)
    marker = tmp_path / "died"
    dying = DyingEncoder("prisoners", str(marker))
    on = Assistant.load(corpus=CORPUS, index=tmp_path / "ray", encoder=dying, progress=False, ray="local")
    assert marker.exists()  # a worker did die
    _assert_same(plain, on)


def test_a_job_that_keeps_failing_leaves_only_whole_articles_and_resumes(tmp_path, cluster, monkeypatch):
    monkeypatch.setattr(on_ray, "ARTICLES_PER_BATCH", 1)
    monkeypatch.setattr(ingest_module, "BATCH_PASSAGES", 1)  # a commit after every article
    last = sorted(CORPUS.glob("*.txt"))[-1].read_text(encoding="utf-8")
    word = max(
        set(last.split()) - {w for p in sorted(CORPUS.glob("*.txt"))[:-1] for w in p.read_text().split()}, key=len
    )
    index = tmp_path / "ray"
    with pytest.raises(RayError, match="run qa index again to resume"):
        Assistant.load(corpus=CORPUS, index=index, encoder=DyingEncoder(word), progress=False, ray="local")
    kept = _whole(index)
    assert kept < len(list(CORPUS.glob("*.txt")))
    resumed = Assistant.load(corpus=CORPUS, index=index, encoder=FakeEncoder(), progress=False, ray="local")
    plain = Assistant.load(corpus=CORPUS, index=tmp_path / "plain", encoder=FakeEncoder(), progress=False)
    assert _whole(index) == len(list(CORPUS.glob("*.txt")))
    assert _tables(index)["passages"] == _tables(plain.store.folder)["passages"]
    for q in ("what did Lavrov say about a summit?", "how many prisoners were to be exchanged?"):
        assert [h.passage.text for h in resumed.ask(q).hits] == [h.passage.text for h in plain.ask(q).hits]
