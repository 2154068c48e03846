"""Integration tests on the real offline model (all-MiniLM-L6-v2) and the real corpus."""

from __future__ import annotations

import numpy as np
import pytest

from qa.text import normalize

pytestmark = pytest.mark.model


def test_default_model_loads_offline_and_normalises(real_encoder):
    assert real_encoder.name == "all-MiniLM-L6-v2"
    assert real_encoder.dimension == 384
    vectors = real_encoder.encode(["Lavrov spoke about a summit.", "Prisoners were exchanged."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert real_encoder.count_tokens("what did Lavrov say") < 10


def test_lavrov_summit_ranks_lavrovs_passage_first(real_assistant):
    answer = real_assistant.ask("what did Lavrov say about a summit", k=5, history=[])
    top = answer.hits[0]
    assert top.passage.doc_id == "004_934a92fb383001da.txt"
    assert "Lavrov" in top.highlight_text
    assert answer.answerable


def test_every_indexed_passage_is_verbatim(real_assistant):
    from .conftest import CORPUS

    for p in real_assistant.passages:
        assert (CORPUS / p.doc_id).read_text(encoding="utf-8")[p.char_start : p.char_end] == p.text


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("how many working groups did moscow propose?", "suggesting the formation of three working groups"),
        ("which journalist did dymov say was tortured and killed?", "journalist Viktoria Roshchyna"),
        ("what did peskov say about a breakthrough?", "Expecting miracles in the current climate is unrealistic"),
    ],
)
def test_answering_passage_and_sentence(real_assistant, question, evidence):
    hit = real_assistant.ask(question).hits[0]
    assert normalize(evidence) in normalize(hit.passage.text)


@pytest.fixture(scope="session")
def separate_assistant(tmp_path_factory, real_encoder):
    """The real corpus and model, with each sentence encoded on its own (``sentence_vectors="separate"``)."""
    from qa import Assistant

    from .conftest import CORPUS

    index = tmp_path_factory.mktemp("separate") / "index"
    return Assistant.load(corpus=CORPUS, index=index, encoder=real_encoder, progress=False, sentence_vectors="separate")


_NO_FOLLOW_UP_SIGNALS = pytest.mark.xfail(
    strict=True,
    reason="the follow-up weights (the earlier answer's sentence down, the one after it up) were removed: on 20 "
    "follow-up pairs written apart they cost hit@1 0.850 -> 0.750 and answer sentence 0.800 -> 0.400 "
    "(bench/RESULTS.md, answers that hold); without them this follow-up highlights the earlier answer again",
)


@pytest.mark.parametrize(
    "mode", [pytest.param("pooled", marks=_NO_FOLLOW_UP_SIGNALS), pytest.param("separate", marks=_NO_FOLLOW_UP_SIGNALS)]
)
def test_follow_up_moves_past_the_earlier_answer(request, mode):
    """A three-turn conversation: the follow-up's highlight is the consequence, not the ultimatum shown before."""
    assistant = request.getfixturevalue("real_assistant" if mode == "pooled" else "separate_assistant")
    history = ["who gave putin an ultimatum this summer?", "how many days did it give him?"]
    earlier = assistant.ask(history[1], history=history[:1]).hits[0]
    hit = assistant.ask("and what happens if he ignores it?", history=history).hits[0]
    assert hit.highlight != earlier.highlight
    assert normalize("threatening harsh new sanctions and military aid to Ukraine") in normalize(hit.highlight_text)


def test_e5_encodes_questions_and_passages_with_their_prompts():
    from embeddings import E5Encoder, encode_queries, load_encoder

    encoder = load_encoder("multilingual-e5-small")
    assert isinstance(encoder, E5Encoder) and encoder.dimension == 384
    text = "Lavrov said a summit needs preparation."
    as_passage, as_query = encoder.encode([text])[0], encode_queries(encoder, [text])[0]
    np.testing.assert_allclose([np.linalg.norm(as_passage), np.linalg.norm(as_query)], 1.0, atol=1e-5)
    assert float(as_passage @ as_query) < 0.999  # "passage: " and "query: " prompts differ
    assert 5 < encoder.count_tokens(text) < 20


def test_index_remembers_its_model(tmp_path):
    """An index built with e5 is reopened with e5 when no model is named, and not re-encoded."""
    from embeddings import E5Encoder
    from qa import Assistant

    from .conftest import CORPUS

    index = tmp_path / "index"
    Assistant.load(corpus=CORPUS, index=index, model="multilingual-e5-small", progress=False)
    before = (index / "manifest.json").read_bytes()
    reopened = Assistant.load(corpus=CORPUS, index=index, progress=False)
    assert isinstance(reopened.encoder, E5Encoder)
    assert (index / "manifest.json").read_bytes() == before
    hits = reopened.ask("what did Lavrov say about a summit?").hits
    assert any("Lavrov" in hit.highlight_text for hit in hits[:3])


def test_sentences_pooled_from_the_passage_pass(real_encoder):
    """Passage vectors are exactly encode()'s; every sentence gets its own vector, also past the
    model's 256-token window (from a further window), close to the sentence encoded alone."""
    short = "Lavrov spoke about a summit. He said it was unlikely in August. Peskov agreed."
    long = " ".join(
        f"Sentence number {i} says the delegations met in Istanbul to talk about prisoners." for i in range(40)
    )
    texts = [short, long]
    spans = []
    for text in texts:
        found, at = [], 0
        for part in text.split(". "):
            start = text.index(part, at)
            end = start + len(part) + (1 if text[start + len(part) : start + len(part) + 1] == "." else 0)
            found.append((start, end))
            at = end
        spans.append(found)
    passages, sentences = real_encoder.encode_with_sentences(texts, spans)
    np.testing.assert_allclose(passages, real_encoder.encode(texts), atol=1e-5)
    assert real_encoder.count_tokens(long) > 256 and len(sentences[1]) == 40
    for text, spans_of, vectors, passage in zip(texts, spans, sentences, passages):
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        alone = real_encoder.encode([text[a:b] for a, b in spans_of])
        assert float((vectors * alone).sum(axis=1).min()) > 0.5
        assert not np.isclose(vectors, passage, atol=1e-3).all(axis=1).any()  # none fell back to the passage
