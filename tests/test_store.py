"""The index folder: contents, freshness, incremental refresh, damage, old formats, safety."""

from __future__ import annotations

import json
import sqlite3
import zlib

import numpy as np
import pytest

from qa import Assistant
from qa.errors import CorpusWarning, IndexLocationError
from qa.indexing import open_index

from .conftest import FakeEncoder


class OtherFake(FakeEncoder):
    name = "another-fake-model"


def _open(corpus, index, encoder=None, **kw):
    return open_index(corpus, index, encoder or FakeEncoder(), progress=False, **kw)


def _sentences(store) -> int:
    return int(store.manifest["sentences"])


def test_index_folder_holds_a_database_and_plain_vector_files(corpus_copy, tmp_path):
    store = _open(corpus_copy, tmp_path / "index")
    names = {p.name for p in (tmp_path / "index").iterdir()}
    assert {"manifest.json", "index.sqlite", "passages.f16", "sentences.i8"} <= names
    assert any(n.startswith("ann-") and n.endswith(".faiss") for n in names)
    assert not list((tmp_path / "index").rglob("*.pkl")) and not list((tmp_path / "index").rglob("*.pickle"))
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["model"] == "fake-hash-64" and manifest["dimension"] == 64 and manifest["format_version"] == 2
    meta = store.manifest
    assert meta["passages"] == len(store.passages) == 39 and meta["documents"] == 5
    assert meta["vector_index"]["kind"] == "flat"
    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_vector_row_i_is_passage_id_i(corpus_copy, tmp_path):
    """passages.f16 row i holds passage i's vector (float16), sentences.i8 its sentences' (8-bit codes)."""
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    view = store.passages
    passages = list(view)
    np.testing.assert_allclose(store.passage_file.read(view.ids), enc.encode([p.text for p in passages]), atol=2e-3)
    ranges = store.sentence_ranges(view.ids)
    first = [ranges[int(i)][0] for i in view.ids]
    ids = np.concatenate([np.arange(f, f + len(p.sentences)) for f, p in zip(first, passages)])
    texts = [p.sentence_text(i) for p in passages for i in range(len(p.sentences))]
    got, expected = store.sentence_file.read(ids), enc.encode(texts)
    # 8 bits a value: each is within half a step (the row's largest value / 127) of the original
    step = np.abs(expected).max(axis=1, keepdims=True) / 127
    assert (np.abs(got - expected) <= step / 2 * 1.001).all()
    cosine = np.sum(got * expected, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    assert (cosine > 0.9995).all()


def test_float16_sentence_vectors_of_an_older_index_are_converted_to_8_bits(corpus_copy, tmp_path):
    """An index made before 8-bit sentence codes (sentences.f16) is read as it is, converted by the
    next writer without encoding anything, and a reader opened before the conversion answers the
    same before and after it."""
    from embeddings import VectorFile
    from qa.store import IndexStore

    index = tmp_path / "index"
    built = _open(corpus_copy, index)
    rows = int(built.manifest["next_sentence"])
    vectors = built.sentence_file.read(np.arange(rows))
    built.close()
    old = VectorFile(index / "sentences.f16", 64)  # as the previous version wrote it
    old.write(0, vectors)
    old.sync()
    (index / "sentences.i8").unlink()
    with sqlite3.connect(index / "index.sqlite") as conn:
        conn.execute("DELETE FROM meta WHERE key = 'sentence_file'")
    reader = IndexStore.open(index)
    assert reader.sentence_file.codes == "f16"
    question = FakeEncoder().encode(["prisoner exchange in Istanbul"])[0]
    assistant = Assistant(reader, FakeEncoder(), corpus=corpus_copy)
    before = [(h.passage.doc_id, h.passage.char_start, h.highlight) for h in assistant.ask("prisoner exchange").hits]
    reader.sentence_file.read(np.arange(5))  # the reader holds the old file open
    enc = FakeEncoder()
    store = _open(corpus_copy, index, enc)
    assert enc.encoded == 0
    assert store.sentence_file.codes == "i8" and not (index / "sentences.f16").exists()
    assert (index / "sentences.i8").stat().st_size == rows * (64 + 4)
    np.testing.assert_allclose(store.sentence_file.read(np.arange(rows)), vectors, atol=0.004)
    after = [(h.passage.doc_id, h.passage.char_start, h.highlight) for h in assistant.ask("prisoner exchange").hits]
    assert after == before and reader.sentence_file.codes == "i8"  # its next question saw the commit
    assert len(store.search_dense(question, 5)) == 5
    enc2 = FakeEncoder()
    _open(corpus_copy, index, enc2)  # converted once
    assert enc2.encoded == 0 and not (index / "sentences.f16").exists()


def test_fresh_index_is_loaded_without_encoding(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0 and store.generation >= 1


def test_added_article_is_the_only_one_encoded(corpus_copy, tmp_path):
    first = _open(corpus_copy, tmp_path / "index")
    before, ids_before = len(first.passages), set(first.passages.ids.tolist())
    (corpus_copy / "005_new.txt").write_text("Talks resume\n\nThe delegations met again in Istanbul on Monday.\n")
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    new = [p for p in store.passages if p.doc_id == "005_new.txt"]
    assert len(new) == 1 and enc.encoded == 1 + len(new[0].sentences)
    assert len(store.passages) == before + 1
    assert ids_before < set(store.passages.ids.tolist())  # nobody else was renumbered


def test_removed_and_changed_articles(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    (corpus_copy / "000_3ddd93d71f997d71.txt").unlink()
    path = corpus_copy / "004_934a92fb383001da.txt"
    path.write_text(path.read_text() + "\nLavrov added on Monday that the August date was never agreed.\n")
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert store.document("000_3ddd93d71f997d71.txt") is None
    assert all(p.doc_id != "000_3ddd93d71f997d71.txt" for p in store.passages)
    changed = [p for p in store.passages if p.doc_id == "004_934a92fb383001da.txt"]
    assert enc.encoded == len(changed) + sum(len(p.sentences) for p in changed)
    assert any("never agreed" in p.text for p in changed)


def test_name_counts_are_stored_compressed_and_removed_exactly_also_from_an_older_index(corpus_copy, tmp_path):
    """Each article's name-lexicon counts are kept compressed; removing an article takes its counts
    out of the lexicon exactly, whether they were stored compressed or (an older index) as JSON."""
    other = tmp_path / "other"
    other.mkdir()
    for f in corpus_copy.iterdir():
        if f.name not in ("000_3ddd93d71f997d71.txt", "001_cc5f1bbda9c16bd9.txt"):
            (other / f.name).write_bytes(f.read_bytes())
    expected = _open(other, tmp_path / "other-index")
    lexicon = sorted(expected.db.execute("SELECT word, capital, lower FROM names WHERE capital > 0 OR lower > 0"))
    store = _open(corpus_copy, tmp_path / "index")
    stored = dict(store.db.execute("SELECT doc_id, names FROM documents"))
    assert all(isinstance(v, bytes) for v in stored.values())
    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as conn:  # as an index made before compression
        plain = json.dumps(json.loads(zlib.decompress(stored["001_cc5f1bbda9c16bd9.txt"])))
        conn.execute("UPDATE documents SET names = ? WHERE doc_id = '001_cc5f1bbda9c16bd9.txt'", (plain,))
    store.close()
    for name in ("000_3ddd93d71f997d71.txt", "001_cc5f1bbda9c16bd9.txt"):
        (corpus_copy / name).unlink()
    store = _open(corpus_copy, tmp_path / "index")
    assert sorted(store.db.execute("SELECT word, capital, lower FROM names WHERE capital > 0 OR lower > 0")) == lexicon


def test_metadata_edit_relabels_without_encoding(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    meta = corpus_copy / "metadata.toml"
    meta.write_text(meta.read_text().replace('outlet = "News.Az"', 'outlet = "News.Az (Baku)"'))
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0
    assert {p.outlet for p in store.passages if p.doc_id.startswith("002")} == {"News.Az (Baku)"}
    assert len(store.allowed(outlets=frozenset({"news.az (baku)"}))) > 0


def test_other_model_rebuilds(corpus_copy, tmp_path):
    store = _open(corpus_copy, tmp_path / "index")
    passages, sentences = len(store.passages), _sentences(store)
    enc = OtherFake()
    again = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == passages + sentences
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["model"] == "another-fake-model"
    assert len(again.passages) == passages


@pytest.mark.parametrize("victim", ["passages.f16", "sentences.i8", "index.sqlite", "manifest.json"])
def test_truncated_file_is_detected_and_rebuilt(corpus_copy, tmp_path, victim):
    _open(corpus_copy, tmp_path / "index")
    for suffix in ("-wal", "-shm"):  # the database as a whole: no write-ahead log to recover from
        (tmp_path / "index" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    path = tmp_path / "index" / victim
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if victim != "index.sqlite" else b"not a database" + data[100:4000])
    enc = FakeEncoder()
    with pytest.warns(CorpusWarning, match="damaged"):
        store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded > 0 and len(store.passages) == 39
    enc2 = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc2)  # and the rebuilt one is healthy
    assert enc2.encoded == 0


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_vector_index_file_is_remade_from_the_vectors_without_encoding(corpus_copy, tmp_path, damage):
    built = _open(corpus_copy, tmp_path / "index")
    question = built.passages[3].text
    expected = built.search_dense(FakeEncoder().encode([question])[0], 5).tolist()
    (ann,) = (tmp_path / "index").glob("ann-*.faiss")
    if damage == "missing":
        ann.unlink()
    else:
        ann.write_bytes(b"garbage")
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0
    assert store.search_dense(FakeEncoder().encode([question])[0], 5).tolist() == expected


def test_index_of_the_previous_format_is_rebuilt_with_a_message(corpus_copy, tmp_path):
    old = tmp_path / "index"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"format": "qa-index", "format_version": 1, "model": "fake-hash-64"}))
    (old / "passages.jsonl").write_text('{"doc_id": "x"}\n')
    (old / "bm25").mkdir()
    enc = FakeEncoder()
    with pytest.warns(CorpusWarning, match="earlier version of qa .format 1.*rebuilt"):
        store = _open(corpus_copy, old, enc)
    assert enc.encoded > 0 and len(store.passages) == 39
    assert not (old / "passages.jsonl").exists() and not (old / "bm25").exists()
    assert not list(tmp_path.glob(".index.previous-format"))


def test_a_folder_that_is_not_an_index_is_never_touched(corpus_copy, tmp_path):
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(IndexLocationError, match="not an index folder"):
        _open(corpus_copy, mine)
    assert (mine / "thesis.docx").read_bytes() == b"precious"
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]


@pytest.mark.parametrize("where", ["same", "inside", "parent"])
def test_index_and_corpus_must_not_overlap(corpus_copy, where):
    index = {"same": corpus_copy, "inside": corpus_copy / "idx", "parent": corpus_copy.parent}[where]
    before = sorted(p.name for p in corpus_copy.iterdir())
    with pytest.raises(IndexLocationError):
        _open(corpus_copy, index)
    assert sorted(p.name for p in corpus_copy.iterdir()) == before


def test_index_path_that_is_a_file(corpus_copy, tmp_path):
    f = tmp_path / "index"
    f.write_text("mine")
    with pytest.raises(IndexLocationError, match="is a file"):
        _open(corpus_copy, f)
    assert f.read_text() == "mine"


def test_non_utf8_article_is_indexed_and_warned_about_on_every_load(corpus_copy, tmp_path):
    (corpus_copy / "latin.txt").write_bytes("Fidan said the talks in Türkiye would go on.".encode("cp1254"))
    with pytest.warns(CorpusWarning, match="latin.txt"):
        store = _open(corpus_copy, tmp_path / "index")
    assert any(p.doc_id == "latin.txt" for p in store.passages)
    with pytest.warns(CorpusWarning, match="latin.txt"):
        _open(corpus_copy, tmp_path / "index")


def test_metadata_entry_without_article_is_warned(corpus_copy, tmp_path):
    meta = corpus_copy / "metadata.toml"
    meta.write_text(meta.read_text() + '\n["ghost.txt"]\ntitle = "Gone"\n')
    with pytest.warns(CorpusWarning, match="ghost.txt"):
        _open(corpus_copy, tmp_path / "index")


def test_assistant_load_defaults_to_corpus_and_index_in_cwd(corpus_copy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assistant = Assistant.load(encoder=FakeEncoder(), progress=False)
    assert (tmp_path / "index" / "manifest.json").exists()
    assert len(assistant.passages) > 30


def test_new_chunking_reuses_vectors_of_unchanged_passages(corpus_copy, tmp_path):
    from qa.ingest.passages import Chunking

    first = _open(corpus_copy, tmp_path / "index")
    old = {(p.doc_id, p.char_start, p.char_end, p.sentences) for p in first.passages}
    enc = FakeEncoder()
    again = _open(corpus_copy, tmp_path / "index", enc, chunking=Chunking(min_words=40, max_words=100))
    new = [p for p in again.passages if (p.doc_id, p.char_start, p.char_end, p.sentences) not in old]
    assert new and len(new) < len(again.passages)  # the limits changed some passages...
    assert enc.encoded == len(new) + sum(len(p.sentences) for p in new)  # ...and only those were encoded
    view = again.passages
    np.testing.assert_allclose(
        again.passage_file.read(view.ids), FakeEncoder().encode([p.text for p in view]), atol=2e-3
    )
    enc = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc, chunking=Chunking(min_words=40, max_words=100))
    assert enc.encoded == 0


def test_an_index_attributed_by_older_rules_is_re_attributed_without_encoding(corpus_copy, tmp_path):
    from qa.ingest.passages import Chunking
    from qa.ingest.quotes import ATTRIBUTION_VERSION

    old = _open(corpus_copy, tmp_path / "index", chunking=Chunking(attribution=ATTRIBUTION_VERSION - 1))
    quoted = sum(len(p.quotes) for p in old.passages)
    old.close()
    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as db:  # quotes as version 10 stored them
        rows = db.execute("SELECT id, quotes FROM passages").fetchall()
        db.executemany(
            "UPDATE passages SET quotes = ? WHERE id = ?",
            [(json.dumps([q[:4] for q in json.loads(raw)]), pid) for pid, raw in rows],
        )
    enc = FakeEncoder()
    again = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0  # the same passages: every vector kept
    quotes = [q for p in again.passages for q in p.quotes]
    assert len(quotes) == quoted and {q.kind for q in quotes} >= {"direct", "reported", "carried", "document"}
    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as db:
        assert all(
            len(json.loads(raw)) == 0 or len(json.loads(raw)[0]) == 7
            for (raw,) in db.execute("SELECT quotes FROM passages")
        )


def test_line_separator_characters_in_a_text_survive_a_reload(corpus_copy, tmp_path):
    (corpus_copy / "odd.txt").write_text(
        "Odd separators\n\nThe envoy said\u2028the talks would resume next week in Istanbul, and the"
        " delegations\u0085agreed on a further exchange of prisoners before the next round began.\n",
        encoding="utf-8",
    )
    built = _open(corpus_copy, tmp_path / "index")
    encoder = FakeEncoder()
    loaded = _open(corpus_copy, tmp_path / "index", encoder)
    assert encoder.encoded == 0
    assert [p.text for p in loaded.passages] == [p.text for p in built.passages]
    assert any("\u2028" in p.text for p in loaded.passages)


def test_sentence_facts_are_stored_and_read_back(corpus_copy, tmp_path):
    """What retrieval knows of each sentence is worked out at ingest and read back, not redone."""
    from qa.ingest.facts import SentenceFacts
    from qa.ingest.names import NameLexicon
    from qa.store.records import FLAG_COLON, FLAG_DATE, FLAG_LEAD_IN, FLAG_NUMBER

    _open(corpus_copy, tmp_path / "index")
    store = _open(corpus_copy, tmp_path / "index")
    view = store.passages
    c = store.candidates(view.ids)
    by_doc: dict[str, list] = {}
    for p in view:
        by_doc.setdefault(p.doc_id, []).append(p)
    fresh = SentenceFacts.join([SentenceFacts.of_article(by_doc[d]) for d in dict.fromkeys(p.doc_id for p in view)])
    assert ((c.flags & FLAG_NUMBER) > 0).tolist() == fresh.number.tolist()
    assert ((c.flags & FLAG_DATE) > 0).tolist() == fresh.date.tolist()
    assert ((c.flags & FLAG_LEAD_IN) > 0).tolist() == fresh.lead_in.tolist()
    assert ((c.flags & FLAG_COLON) > 0).tolist() == fresh.colon.tolist()
    assert [tuple(frozenset(g) for g in groups) for groups in c.groups] == list(fresh.groups)
    assert [frozenset(w) for w in c.counted] == list(fresh.counted)
    assert c.sentence_speakers == list(fresh.speakers)
    # real facts of the real articles: Dymov's quotes carry his description, numbers are counted
    assert any({"dymov", "analyst"} <= s for s in c.sentence_speakers)
    assert any("prison" in w for w in c.counted)
    names = NameLexicon(p.text for p in view).words
    assert {"lavrov", "medinsky", "istanbul"} <= names
    assert all(w in store.names for w in names)
    assert not any(w in store.names for w in ("talks", "the", "president", "may"))


def test_bm25_equals_bm25s_on_the_same_tokens(corpus_copy, tmp_path):
    """Scores from the postings equal bm25s's Lucene BM25 over the same passages."""
    import bm25s

    from qa.lexical import tokenize

    store = _open(corpus_copy, tmp_path / "index")
    view = store.passages
    tokens = [[t for i in range(len(p.sentences)) for t in tokenize(p.sentence_text(i))] for p in view]
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index(tokens, show_progress=False)
    for question in ("prisoner exchange in Istanbul", "what did Lavrov say about a summit", "Trump ultimatum"):
        query = tokenize(question)
        expected = reference.get_scores([t for t in query if t in reference.vocab_dict])
        ids, scores = store.search_lexical(query, len(view))
        got = np.zeros(len(view), np.float32)
        got[np.searchsorted(view.ids, ids)] = scores
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
