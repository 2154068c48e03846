"""The index folder: contents, freshness, incremental refresh, damage, atomic writes, safety."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from embeddings import VectorIndex
from qa import Assistant
from qa.errors import CorpusWarning, IndexLocationError
from qa.store import open_index

from .conftest import FakeEncoder


class OtherFake(FakeEncoder):
    name = "another-fake-model"


def _open(corpus, index, encoder=None, **kw):
    return open_index(corpus, index, encoder or FakeEncoder(), progress=False, **kw)


def test_index_folder_holds_plain_named_files(corpus_copy, tmp_path):
    store = _open(corpus_copy, tmp_path / "index")
    names = {p.name for p in (tmp_path / "index").iterdir()}
    assert {"manifest.json", "documents.jsonl", "passages.jsonl", "passages.faiss", "sentences.faiss", "bm25"} <= names
    assert not list((tmp_path / "index").rglob("*.pkl")) and not list((tmp_path / "index").rglob("*.pickle"))
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["model"] == "fake-hash-64"
    assert manifest["dimension"] == 64
    assert manifest["passages"] == len(store.passages)
    assert manifest["format_version"] == 1
    assert len(manifest["corpus_fingerprint"]) == 64
    lines = (tmp_path / "index" / "passages.jsonl").read_text().splitlines()
    assert len(lines) == manifest["passages"]


def test_jsonl_row_i_is_faiss_row_i(corpus_copy, tmp_path):
    enc = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc)
    rows = [json.loads(line) for line in (tmp_path / "index" / "passages.jsonl").read_text().splitlines()]
    faiss_index = VectorIndex.load(tmp_path / "index" / "passages.faiss", dimension=64, count=len(rows))
    stored = faiss_index.vectors()
    expected = enc.encode([r["text"] for r in rows])
    np.testing.assert_allclose(stored, expected, atol=1e-6)


def test_fresh_index_is_loaded_without_encoding(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    enc = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0


def test_added_article_is_the_only_one_encoded(corpus_copy, tmp_path):
    first = _open(corpus_copy, tmp_path / "index")
    before = len(first.passages)
    (corpus_copy / "005_new.txt").write_text(
        "Turkish Foreign Minister Hakan Fidan said on Friday that a fourth round of talks could take place in "
        "Istanbul next month, provided both delegations agree on an agenda for humanitarian issues.\n"
    )
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    new = [p for p in store.passages if p.doc_id == "005_new.txt"]
    assert len(new) == 1
    assert enc.encoded == 1 + len(new[0].sentences)  # one passage and its sentence
    assert len(store.passages) == before + 1
    # the reused vectors still line up with their rows
    again = FakeEncoder().encode([p.text for p in store.passages])
    np.testing.assert_allclose(store.passage_vectors.vectors(), again, atol=1e-6)


def test_removed_and_changed_articles(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    (corpus_copy / "000_3ddd93d71f997d71.txt").unlink()
    path = corpus_copy / "004_934a92fb383001da.txt"
    path.write_text(path.read_text() + "\nLavrov added on Monday that the August date was never agreed.\n")
    enc = FakeEncoder()
    with pytest.warns(CorpusWarning, match="no such article"):
        store = _open(corpus_copy, tmp_path / "index", enc)
    assert "000_3ddd93d71f997d71.txt" not in store.documents
    assert all(p.doc_id != "000_3ddd93d71f997d71.txt" for p in store.passages)
    changed = [p for p in store.passages if p.doc_id == "004_934a92fb383001da.txt"]
    assert enc.encoded == len(changed) + sum(len(p.sentences) for p in changed)
    np.testing.assert_allclose(
        store.sentence_vectors.vectors(),
        FakeEncoder().encode([p.sentence_text(i) for p in store.passages for i in range(len(p.sentences))]),
        atol=1e-6,
    )


def test_metadata_edit_relabels_without_encoding(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    meta = corpus_copy / "metadata.toml"
    meta.write_text(meta.read_text().replace('outlet = "News.Az"', 'outlet = "News.Az (Baku)"'))
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0
    assert {p.outlet for p in store.passages if p.doc_id.startswith("002")} == {"News.Az (Baku)"}


def test_other_model_rebuilds(corpus_copy, tmp_path):
    store = _open(corpus_copy, tmp_path / "index")
    enc = OtherFake()
    again = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == len(store.passages) + int(store.sentence_first[-1])
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["model"] == "another-fake-model"
    assert len(again.passages) == len(store.passages)


@pytest.mark.parametrize("victim", ["passages.faiss", "sentences.faiss", "passages.jsonl", "manifest.json", "bm25"])
def test_truncated_or_missing_file_is_detected_and_rebuilt(corpus_copy, tmp_path, victim):
    _open(corpus_copy, tmp_path / "index")
    path = tmp_path / "index" / victim
    if path.is_dir():
        shutil.rmtree(path)
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    enc = FakeEncoder()
    with pytest.warns(CorpusWarning, match="damaged"):
        store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded > 0
    assert len(store.passages) == json.loads((tmp_path / "index" / "manifest.json").read_text())["passages"]
    enc2 = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc2)  # and the rebuilt one is healthy
    assert enc2.encoded == 0


def test_flipped_byte_is_detected(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    path = tmp_path / "index" / "passages.faiss"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(CorpusWarning, match="checksum"):
        _open(corpus_copy, tmp_path / "index")


class Boom(RuntimeError):
    pass


def test_build_killed_half_way_leaves_previous_index_loadable(corpus_copy, tmp_path, monkeypatch):
    store = _open(corpus_copy, tmp_path / "index")
    before = (tmp_path / "index" / "manifest.json").read_text()
    (corpus_copy / "005_new.txt").write_text("A new article about the Istanbul talks and the prisoner exchange.\n")

    def explode(self, path):
        path.write_bytes(b"partial")
        raise Boom("killed")

    monkeypatch.setattr(VectorIndex, "save", explode)
    with pytest.raises(Boom):
        _open(corpus_copy, tmp_path / "index")
    monkeypatch.undo()
    assert (tmp_path / "index" / "manifest.json").read_text() == before
    assert not list(tmp_path.glob(".index.building-*"))
    (corpus_copy / "005_new.txt").unlink()
    enc = FakeEncoder()
    again = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0 and len(again.passages) == len(store.passages)


def test_swap_interrupted_between_renames_is_recovered(corpus_copy, tmp_path):
    _open(corpus_copy, tmp_path / "index")
    os.rename(tmp_path / "index", tmp_path / ".index.previous")  # as if killed between the two renames
    enc = FakeEncoder()
    _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0
    assert (tmp_path / "index" / "manifest.json").exists()


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


def test_new_chunking_reuses_vectors_of_unchanged_spans(corpus_copy, tmp_path):
    from qa.passages import Chunking

    first = _open(corpus_copy, tmp_path / "index")
    enc = FakeEncoder()
    again = _open(corpus_copy, tmp_path / "index", enc, chunking=Chunking(min_words=40, max_words=100))
    old_spans = {(p.doc_id, p.char_start, p.char_end) for p in first.passages}
    new_passages = [p for p in again.passages if (p.doc_id, p.char_start, p.char_end) not in old_spans]
    assert new_passages  # the limits changed some passages...
    assert enc.encoded == len(new_passages)  # ...and only those were encoded: every sentence was reused
    np.testing.assert_allclose(
        again.passage_vectors.vectors(), FakeEncoder().encode([p.text for p in again.passages]), atol=1e-6
    )


def test_line_separator_characters_in_a_text_survive_a_reload(corpus_copy, tmp_path):
    """passages.jsonl keeps U+2028/U+0085 raw (ensure_ascii=False); loading must split rows on newlines only."""
    (corpus_copy / "odd.txt").write_text(
        "Odd separators\n\nThe envoy said\u2028the talks would resume next week in Istanbul, and the"
        " delegations\u0085agreed on a further exchange of prisoners before the next round began.\n",
        encoding="utf-8",
    )
    built = open_index(corpus_copy, tmp_path / "index", FakeEncoder(), progress=False)
    encoder = FakeEncoder()
    loaded = open_index(corpus_copy, tmp_path / "index", encoder, progress=False)
    assert encoder.encoded == 0  # read back, not rebuilt
    assert [p.text for p in loaded.passages] == [p.text for p in built.passages]
    assert any("\u2028" in p.text for p in loaded.passages)


def _facts_rows(facts):
    return list(facts.to_json())


def test_sentence_facts_are_stored_and_read_back(corpus_copy, tmp_path):
    """What retrieval knows of each sentence is worked out at build time and read back, not redone."""
    from qa.analysis import NameLexicon
    from qa.facts import SentenceFacts

    built = _open(corpus_copy, tmp_path / "index")
    lines = (tmp_path / "index" / "sentence-facts.jsonl").read_text().splitlines()
    assert len(lines) == int(built.sentence_first[-1])
    loaded = _open(corpus_copy, tmp_path / "index")
    fresh = SentenceFacts.join(
        [SentenceFacts.of_article(built.passages[d.first : d.first + d.count]) for d in built.documents.values()]
    )
    assert _facts_rows(loaded.facts) == _facts_rows(fresh) == _facts_rows(built.facts)
    # real facts of the real articles: Dymov's quotes carry his description, numbers are counted
    rows = _facts_rows(loaded.facts)
    assert any({"dymov", "analyst"} <= set(r.get("speakers", ())) for r in rows)
    assert any("prison" in r.get("counted", ()) and r.get("number") for r in rows)
    assert loaded.names.words == NameLexicon(p.text for p in loaded.passages).words
    assert {"lavrov", "medinsky", "istanbul"} <= loaded.names.words


def test_index_made_by_older_fact_rules_is_refreshed_without_encoding(corpus_copy, tmp_path, recwarn):
    built = _open(corpus_copy, tmp_path / "index")
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["facts"]  # as written before facts were stored
    for name in ("sentence-facts.jsonl", "names.json"):
        del manifest["files"][name]
        (tmp_path / "index" / name).unlink()
    manifest_path.write_text(json.dumps(manifest))
    enc = FakeEncoder()
    store = _open(corpus_copy, tmp_path / "index", enc)
    assert enc.encoded == 0 and not [w for w in recwarn if "damaged" in str(w.message)]
    assert _facts_rows(store.facts) == _facts_rows(built.facts)
    assert (tmp_path / "index" / "sentence-facts.jsonl").exists()


def test_refresh_works_out_facts_of_changed_articles_only(corpus_copy, tmp_path, monkeypatch):
    from qa.facts import SentenceFacts

    _open(corpus_copy, tmp_path / "index")
    path = corpus_copy / "004_934a92fb383001da.txt"
    path.write_text(path.read_text() + "\nLavrov added on Monday that the August date was never agreed.\n")
    seen = []
    real = SentenceFacts.of_article.__func__
    monkeypatch.setattr(
        SentenceFacts, "of_article", classmethod(lambda cls, ps: seen.append(ps[0].doc_id) or real(cls, ps))
    )
    store = _open(corpus_copy, tmp_path / "index")
    assert seen == ["004_934a92fb383001da.txt"]
    fresh = SentenceFacts.join(
        [SentenceFacts.of_article(store.passages[d.first : d.first + d.count]) for d in store.documents.values()]
    )
    assert _facts_rows(store.facts) == _facts_rows(fresh)
