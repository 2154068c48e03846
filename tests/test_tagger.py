"""The attribution tagger's plumbing: brat spans to word-piece tags, windows, decoding, training and loading."""

from __future__ import annotations

import itertools
import json

import pytest

from qa.errors import ModelError
from qa.ingest.quotes.tagger import LABELS, WINDOW, Span, Tagger, decode, token_windows
from qa.ingest.quotes.training import Annotated, _read_ann, read_split, token_tags, train

TEXT = "Headline\n\nThe senator said the bill would pass. “It is done,” Ann Lee told reporters."


def _at(words: str) -> str:
    start = TEXT.index(words)
    return f"{start} {start + len(words)}"


ANN = (
    f"T1\tSource {_at('The senator')}\tThe senator\n"
    f"T2\tCue {_at('said')}\tsaid\n"
    f"T3\tContent {_at('the bill would pass')}\tthe bill would pass\n"
    f"T4\tAttribution {_at('said')}\tsaid\n"
    "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n"
    f"T5\tContent {_at('“It is done,”')}\t“It is done,”\n"
    f"T6\tSource {_at('Ann Lee')}\tAnn Lee\n"
    f"T7\tCue {_at('told')};{_at('reporters')}\ttold reporters\n"
    f"T8\tAttribution {_at('told')}\ttold\n"
    "E2\tAttribution:T8 Content:T5 Cue:T7 Source:T6\n"
    "a continuation line of a span that held a line break\n"
)


def _polnear(tmp_path, copies: int = 2):
    for split in ("train", "dev"):
        (tmp_path / split / "text").mkdir(parents=True)
        (tmp_path / split / "attributions").mkdir(parents=True)
        for i in range(copies):
            (tmp_path / split / "text" / f"a{i}.txt").write_text(TEXT, encoding="utf-8")
            (tmp_path / split / "attributions" / f"a{i}_ab12.ann").write_text(ANN, encoding="utf-8")
    return tmp_path


def test_brat_spans_are_read_with_their_attribution():
    spans = _read_ann_text(ANN)
    assert {(kind, TEXT[s:e], n) for kind, s, e, n in spans} == {
        ("source", "The senator", 0),
        ("cue", "said", 0),
        ("content", "the bill would pass", 0),
        ("content", "“It is done,”", 1),
        ("source", "Ann Lee", 1),
        ("cue", "told", 1),  # a span in two pieces
        ("cue", "reporters", 1),
    }


def _read_ann_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.ann"
        path.write_text(text, encoding="utf-8")
        return _read_ann(path)


def test_word_pieces_get_begin_and_inside_tags():
    article = Annotated("x", TEXT, tuple(_read_ann_text(ANN)))
    at = [TEXT.index(w) for w in ("The senator", "senator", "said", "the bill", "bill", "Headline")]
    offsets = [(a, a + n) for a, n in zip(at, (3, 7, 4, 3, 4, 8))]  # The, senator, said, the, bill, Headline
    tags = [LABELS[t] for t in token_tags(article, offsets)]
    assert tags == ["B-source", "I-source", "B-cue", "B-content", "I-content", "O"]


def test_windows_cover_every_piece_and_overlap():
    assert token_windows(10) == [(0, 10)]
    spans = token_windows(600)
    assert spans[0][0] == 0 and spans[-1][1] == 600
    assert all(e - s <= WINDOW for s, e in spans)
    assert all(b[0] < a[1] for a, b in itertools.pairwise(spans))  # each shares pieces with the next


def test_decode_makes_spans_with_their_mean_probability():
    tags = [LABELS.index(t) for t in ("B-source", "I-source", "O", "B-cue", "I-content", "I-content")]
    spans = decode(tags, [0.9, 0.7, 0.99, 0.8, 0.6, 0.4], [(0, 3), (4, 9), (10, 11), (12, 16), (17, 20), (21, 25)])
    assert spans == [
        Span("source", 0, 9, pytest.approx(0.8)),
        Span("cue", 12, 16, 0.8),
        Span("content", 17, 25, pytest.approx(0.5)),
    ]


def test_a_missing_data_folder_is_named():
    with pytest.raises(FileNotFoundError, match="point --data at PolNeAR"):
        read_split("/nonexistent", "train")


@pytest.mark.model
def test_training_writes_a_folder_the_tagger_loads(tmp_path):
    data = _polnear(tmp_path / "data")
    out = tmp_path / "model"
    figures = train(data, out, epochs=1, batch_size=2, log=lambda _m: None, threads=1, layers=2, command="make it")
    assert figures["train_articles"] == 2 and set(figures["dev_spans"]) == {"source", "cue", "content"}
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == list(LABELS) and config["layers"] == 2
    assert (out / "tagger.safetensors").stat().st_size < 12_000_000  # two of the six layers
    card = (out / "MODEL_CARD.md").read_text()
    assert "states no licence" in card and "    make it" in card and "Seed 13" in card and "| source |" in card
    tagger = Tagger(out)
    assert len(tagger.model.bert.encoder.layer) == 2 and tagger.confidence == {}
    spans = tagger.tag(TEXT)
    assert all(s.kind in ("source", "cue", "content") and 0 <= s.char_start < s.char_end <= len(TEXT) for s in spans)
    with pytest.raises(ValueError, match="layers is 7"):
        train(data, tmp_path / "other", epochs=1, log=lambda _m: None, layers=7)
    (out / "tagger.safetensors").write_bytes(b"damaged")
    with pytest.raises(ModelError, match="make train-attribution"):
        Tagger(out)


def test_our_readers_labels_become_weak_source_cue_and_content_spans(tmp_path):
    from qa.ingest.quotes.training import read_labelled

    text = (
        "Quake\n\nBob Marvinney said he was at home when it struck.\n\n"
        "The quake hit at 7:12 p.m., according to the U.S. Geological Survey.\n\n"
        "“I felt a rumbling,” Marvinney said.\n\nThe weather was mild."
    )
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")

    def row(sentence, speaker, cue=""):
        start = text.index(sentence)
        return {"doc": "a.txt", "char_start": start, "char_end": start + len(sentence), "speaker": speaker, "cue": cue}

    rows = [
        row("Bob Marvinney said he was at home when it struck.", "Bob Marvinney"),
        row("The quake hit at 7:12 p.m., according to the U.S. Geological Survey.", "U.S. Geological Survey"),
        row("“I felt a rumbling,” Marvinney said.", "Bob Marvinney", "Marvinney said"),
    ]
    (article,) = read_labelled(tmp_path, rows)
    spans = {(kind, text[s:e], n) for kind, s, e, n in article.spans}
    assert {
        ("source", "Bob Marvinney", 0),
        ("cue", "said", 0),
        ("content", " he was at home when it struck", 0),
    } <= spans
    assert ("source", "U.S. Geological Survey", 1) in spans and ("cue", "according to", 1) in spans
    assert ("content", "The quake hit at 7:12 p.m., ", 1) in spans  # before an attribution that closes the sentence
    assert {("content", "“I felt a rumbling,”", 2), ("source", "Marvinney", 2)} <= spans
    assert not any(text[s:e] in "The weather was mild." for _, s, e, _ in article.spans)
