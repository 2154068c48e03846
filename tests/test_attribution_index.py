"""An index attributed by a trained model voting with the rules: stored, kept, switched, lost."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import qa
from qa import Assistant
from qa.errors import CorpusWarning, ModelError
from qa.ingest.attribution import VOTE_CASES
from qa.ingest.quotes.tagger import LABELS, Span

from .conftest import FakeEncoder

#: Each case of the vote with its own confidence, so that a stored quote tells its case.
TABLE = {case: round(0.5 + 0.01 * i, 2) for i, case in enumerate(VOTE_CASES)}


class WordTagger:
    """A stand-in for a trained tagger: a speech or belief verb is a cue, and its source the
    capitalised word nearest before "said", else the first in the 60 characters before the cue, sure
    at 0.9. On the five articles it agrees with the rules, differs from them, and names a speaker
    they leave."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.settings = json.loads((folder / "config.json").read_text())
        self.confidence = self.settings["confidence"]

    def tag(self, text: str) -> list[Span]:
        out = []
        for cue in re.finditer(
            r"\b(?:said|says|told|noted|believes|thinks|hopes|expects|wants|plans|called|stressed)\b", text
        ):
            before = max(0, cue.start() - 60)
            near = list(re.finditer(r"\b[A-Z][a-z]+\b", text[before : cue.start()]))
            if near:
                source = near[-1] if cue.group(0) == "said" else near[0]
                out.append(Span("source", before + source.start(), before + source.end(), 0.9))
            out.append(Span("cue", cue.start(), cue.end(), 0.9))
        return sorted(out, key=lambda s: s.char_start)


def _model(folder, *, table=TABLE):
    folder.mkdir()
    config = {"labels": list(LABELS), "base": "all-MiniLM-L6-v2", "layers": 2, "calibration": {"floor": 0.5}}
    if table:
        config["confidence"] = table
    (folder / "config.json").write_text(json.dumps(config))
    save_file({"classifier.bias": torch.zeros(len(LABELS))}, str(folder / "tagger.safetensors"))
    return folder


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.setattr("qa.indexing.reading.shared_tagger", lambda folder, identity: WordTagger(Path(folder)))
    return _model(tmp_path / "model")


def _load(corpus, index, **kw):
    encoder = FakeEncoder()
    return Assistant.load(corpus=corpus, index=index, encoder=encoder, progress=False, **kw), encoder


def _quotes(assistant):
    return [q for p in assistant.passages for q in p.quotes]


def test_the_index_stores_what_the_vote_gives_and_keeps_its_model(corpus_copy, tmp_path, model):
    index = tmp_path / "index"
    assistant, _ = _load(corpus_copy, index, attribution_model=model)
    stored = _quotes(assistant)
    assert {q.basis for q in stored} == {"rules", "agree", "differ", "tagger"}
    for article in {p.doc_id for p in assistant.passages}:
        text = (corpus_copy / article).read_text(encoding="utf-8")
        voted = qa.attribute(text, tagger=WordTagger(model), combine="vote")
        mine = [q for p in assistant.passages if p.doc_id == article for q in p.quotes]
        assert [(q.char_start, q.char_end, q.speaker, q.kind, q.confidence, q.basis) for q in mine] == [
            (a.char_start, a.char_end, a.said_as, a.kind, a.confidence, a.basis) for a in voted
        ]
    assert all(q.confidence == TABLE["agree"] for q in stored if q.basis == "agree")
    # opened again without naming it: the model it was made with, nothing encoded or re-attributed
    said = []
    again, encoder = _load(corpus_copy, index, report=said.append)
    assert encoder.encoded == 0 and said == [] and _quotes(again) == stored


def test_switching_to_the_rules_and_losing_the_model_re_attribute_without_encoding(corpus_copy, tmp_path, model):
    index = tmp_path / "index"
    with_model = _quotes(_load(corpus_copy, index, attribution_model=model)[0])
    rules, encoder = _load(corpus_copy, index, attribution_model="rules")
    assert encoder.encoded == 0 and {q.basis for q in _quotes(rules)} == {"rules"}
    assert _quotes(_load(corpus_copy, index)[0]) == _quotes(rules)  # the rules are now what it was made with
    assert _quotes(_load(corpus_copy, index, attribution_model=model)[0]) == with_model
    for name in ("tagger.safetensors", "config.json"):
        (model / name).rename(model / f"{name}.gone")
    with pytest.warns(CorpusWarning, match=r"attributed with the model at .*model.*rules alone"):
        lost, encoder = _load(corpus_copy, index)
    assert encoder.encoded == 0 and _quotes(lost) == _quotes(rules)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning: the index now records the rules
        _load(corpus_copy, index)


def test_a_model_asked_for_that_is_missing_or_uncalibrated_is_named(corpus_copy, tmp_path):
    with pytest.raises(ModelError, match=r"nowhere.*make train-attribution"):
        _load(corpus_copy, tmp_path / "index", attribution_model=tmp_path / "nowhere")
    bare = _model(tmp_path / "bare", table=None)
    with pytest.raises(ModelError, match=r"no confidence table.*make train-attribution"):
        _load(corpus_copy, tmp_path / "index", attribution_model=bare)
    damaged = _model(tmp_path / "damaged")
    (damaged / "tagger.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match=r"damaged.tagger\.safetensors cannot be read.*make train-attribution"):
        _load(corpus_copy, tmp_path / "index", attribution_model=damaged)
    assert not (tmp_path / "index").exists()  # refused before anything was made
