"""The Python API with the fake encoder: answers, offsets, filters, bad input, batch = single."""

from __future__ import annotations

import pytest

from qa import Answer, Assistant, QAError
from qa.errors import CorpusError, EmptyQuestionError, FilterError, ModelError, WeightsError
from qa.lexical import tokenize
from qa.search.followup import depends_on_history, rewrite, user_turns
from qa.search.retrieval import RetrievalConfig

from .conftest import CORPUS


def test_answer_fields_and_offsets(fake_assistant):
    answer = fake_assistant.ask("what did Lavrov say about a summit", k=5, history=[])
    assert isinstance(answer, Answer)
    assert 1 <= len(answer.hits) <= 5
    for rank, hit in enumerate(answer.hits, 1):
        p = hit.passage
        source = (CORPUS / p.doc_id).read_text(encoding="utf-8")
        assert hit.rank == rank
        assert source[p.char_start : p.char_end] == p.text
        a, b = hit.highlight
        assert p.char_start <= a < b <= p.char_end
        assert (a, b) in p.sentences
        assert source[a:b] == hit.highlight_text
        assert p.doc_id in {f.name for f in CORPUS.glob("*.txt")}
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    assert isinstance(answer.answerable, bool)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(fake_assistant, question):
    with pytest.raises(EmptyQuestionError, match="empty"):
        fake_assistant.ask(question)


def test_errors_share_a_base_class():
    assert issubclass(EmptyQuestionError, QAError) and issubclass(FilterError, QAError)


def test_overlong_question_is_answered_and_flagged(fake_assistant):
    question = "what did Lavrov say about a summit " + " ".join(["and the talks in Istanbul"] * 30)
    answer = fake_assistant.ask(question)
    assert answer.truncated
    assert answer.hits
    assert any("longer than the model" in n for n in answer.notes)
    assert not fake_assistant.ask("what did Lavrov say").truncated


def test_k_bounds(fake_assistant):
    assert len(fake_assistant.ask("Istanbul talks", k=1).hits) == 1
    everything = fake_assistant.ask("Istanbul talks", k=1000).hits
    assert len(everything) == len(fake_assistant.passages)
    with pytest.raises(ValueError):
        fake_assistant.ask("Istanbul talks", k=0)


def test_outlet_filter_applies_inside_retrieval(fake_assistant):
    answer = fake_assistant.ask("what did Lavrov say about a summit", k=50, outlets=["News.Az"])
    n_newsaz = sum(1 for p in fake_assistant.passages if p.outlet == "News.Az")
    assert len(answer.hits) == n_newsaz  # all of them, not what survived a top-k cut
    assert {h.passage.outlet for h in answer.hits} == {"News.Az"}
    assert fake_assistant.ask("Lavrov", outlets=["news.az"]).hits  # case-insensitive


def test_date_filter(fake_assistant):
    answer = fake_assistant.ask("talks", k=50, date_from="2025-07-01", date_to="2025-07-31")
    assert answer.hits and {h.passage.date for h in answer.hits} == {"2025-07-23"}
    answer = fake_assistant.ask("talks", k=50, date_from="2025-05-01")
    assert {h.passage.doc_id[:3] for h in answer.hits} == {"002", "003"}  # undated articles fail a date filter


def test_filter_that_matches_nothing_says_so(fake_assistant):
    answer = fake_assistant.ask("talks", outlets=["Pravda"])
    assert answer.hits == ()
    assert not answer.answerable
    assert any("No article matches the filter" in n and "pravda" in n for n in answer.notes)


def test_bad_dates(fake_assistant):
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        fake_assistant.ask("talks", date_from="16/05/2025")
    with pytest.raises(FilterError, match="after"):
        fake_assistant.ask("talks", date_from="2025-08-01", date_to="2025-07-01")


def test_batch_is_the_same_code_path_as_single(fake_assistant):
    questions = ["what did Lavrov say about a summit", "how many working groups did moscow propose?"]
    batch = fake_assistant.ask_batch(questions, k=3)
    for q, b in zip(questions, batch):
        single = fake_assistant.ask(q, k=3)
        assert [(h.passage.char_start, h.passage.doc_id, h.highlight) for h in single.hits] == [
            (h.passage.char_start, h.passage.doc_id, h.highlight) for h in b.hits
        ]
        assert single.answerable == b.answerable


def test_one_encode_per_question(fake_assistant, fake_encoder):
    before = fake_encoder.calls
    fake_assistant.ask("what did Lavrov say about a summit")
    assert fake_encoder.calls == before + 1


def test_questions_go_through_the_query_side_of_an_asymmetric_encoder(corpus_copy, tmp_path, fake_encoder):
    """An encoder with ``encode_queries`` (E5's "query:" prompt) gets the questions; passages use ``encode``."""
    seen: list[str] = []

    def encode_queries(texts, *, batch_size=64):
        seen.extend(texts)
        return fake_encoder.encode(texts)

    fake_encoder.encode_queries = encode_queries
    assistant = Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=fake_encoder, progress=False)
    calls = fake_encoder.calls
    assistant.ask_batch(["what did Lavrov say about a summit", "how many prisoners?"])
    assert seen == ["what did Lavrov say about a summit", "how many prisoners?"]
    assert fake_encoder.calls == calls + 1  # one batch, through encode_queries


def test_an_index_whose_model_cannot_load_is_left_alone(fake_assistant, corpus_copy, tmp_path):
    """Reopening without a model uses the index's own model; if that fails, say so and keep the index."""
    index = tmp_path / "index"
    before = {p.name: p.read_bytes() for p in index.rglob("*") if p.is_file()}
    with pytest.raises(ModelError, match=r"built with model 'fake-hash-64'.*pass model="):
        Assistant.load(corpus=corpus_copy, index=index, progress=False)
    assert {p.name: p.read_bytes() for p in index.rglob("*") if p.is_file()} == before


def test_weights_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "weights.json"
    fitted = RetrievalConfig(dense=1.5, bm25=1.0, sentence_type=0.1, candidates=50)
    fitted.write(path)
    assert RetrievalConfig.read(path) == fitted
    path.write_text('{"bm25": 0.3}')  # keys left out keep their defaults
    assert RetrievalConfig.read(path) == RetrievalConfig(bm25=0.3)
    for text, problem in [
        ('{"bm25": "high"}', "'bm25' must be a finite number"),
        ('{"bm25": NaN}', "'bm25' must be a finite number"),
        ('{"candidates": 0}', "'candidates' must be a whole number from 1"),
        ('{"collapse_copies": 2}', "'collapse_copies' must be a whole number from 0 to 1"),
        ('{"collapse_copies": 0.5}', "'collapse_copies' must be a whole number from 0 to 1"),
        ('{"names": 0.5}', "'names' was removed .* delete it from the file"),
        ('{"nmaes": 0.5}', "unknown weight 'nmaes'"),
        ("[0.5, 1.0]", "must hold a JSON object"),
        ("{not json", "cannot read the weights file"),
    ]:
        path.write_text(text)
        with pytest.raises(WeightsError, match=problem):
            RetrievalConfig.read(path)
    with pytest.raises(WeightsError, match="cannot read"):
        RetrievalConfig.read(tmp_path / "missing.json")


def test_fitted_weights_change_the_ranking(corpus_copy, tmp_path, fake_encoder):
    """``weights=`` reaches the retriever: BM25 alone and dense alone rank differently."""
    only = {f: 0.0 for f in ("dense", "sentence", "sentence_coverage", "sentence_type", "when", "recency")}
    question = "Trump ultimatum sanctions fifty days"
    runs = {}
    for arm in ("bm25", "dense"):
        path = tmp_path / f"{arm}.json"
        RetrievalConfig(**{**only, "bm25": 0.0, arm: 1.0}).write(path)
        assistant = Assistant.load(
            corpus=corpus_copy, index=tmp_path / "index", encoder=fake_encoder, weights=path, progress=False
        )
        assert assistant.retriever.config == RetrievalConfig.read(path)
        runs[arm] = [(h.passage.doc_id, h.passage.char_start) for h in assistant.ask(question, k=5).hits]
    ids, _ = assistant.store.search_lexical(tokenize(question), 1)
    best = assistant.store.passages_by_id(ids)[0]
    assert runs["bm25"][0] == (best.doc_id, best.char_start)
    assert runs["bm25"] != runs["dense"]


def test_article_view(fake_assistant, corpus_copy):
    hit = fake_assistant.ask("Lavrov summit").hits[0]
    article = fake_assistant.article(hit.passage.doc_id)
    assert article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
    with pytest.raises(CorpusError, match="no article"):
        fake_assistant.article("nope.txt")
    (corpus_copy / hit.passage.doc_id).write_text("changed")
    with pytest.raises(CorpusError, match="changed since it was indexed; run qa index"):
        fake_assistant.article(hit.passage.doc_id)
    (corpus_copy / hit.passage.doc_id).unlink()
    with pytest.raises(CorpusError, match="was removed since it was indexed; run qa index"):
        fake_assistant.article(hit.passage.doc_id)


def test_missing_corpus_fails_before_loading_a_model(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        Assistant.load(corpus=tmp_path / "none", index=tmp_path / "index", model="/definitely/not/a/model")


def test_unloadable_model_names_the_problem(corpus_copy, tmp_path):
    from qa.errors import ModelError

    with pytest.raises(ModelError, match="cannot load embedding model"):
        Assistant.load(corpus=corpus_copy, index=tmp_path / "index", model=str(tmp_path / "no-such-model"))


# --------------------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(
    "question",
    [
        "what did he say about compromises?",
        "who did he meet with there?",
        "and Lavrov?",
        "what about their demands?",
        "what happened to it?",
        "any countries in particular?",
        "who else?",
    ],
)
def test_dependent_questions(question):
    assert depends_on_history(question)


@pytest.mark.parametrize(
    "question",
    [
        "what did Lavrov say about a summit",
        "was there a month-long truce on the table, and what happened to it?",
        "is it true that Russia wants four regions?",
        "how many working groups did moscow propose this week?",
        "any news on the prisoner exchange?",
        "which countries in particular back the truce plan?",
    ],
)
def test_independent_questions(question):
    assert not depends_on_history(question)


def test_pronoun_resolved_inside_the_question_is_independent():
    assert not depends_on_history("what did rubio say about his meeting?", names={"rubio"})


def test_a_pronoun_after_a_quoted_name_is_not_a_follow_up(fake_assistant):
    """The assistant knows who is quoted in the corpus, so "his" after "Lavrov" stays in the question."""
    history = ["who led russia's delegation?"]
    assert all(w in fake_assistant.retriever.speaker_words for w in ("lavrov", "dymov", "medinsky"))
    question = "what did Lavrov say about his plans for a summit?"
    assert fake_assistant.ask(question, history=history).query == question
    assert "delegation" in fake_assistant.ask("what did he say about his plans?", history=history).query


def test_rewrite_only_when_dependent():
    history = ["who led russia's delegation?"]
    assert rewrite("what did Lavrov say about a summit", history) == "what did Lavrov say about a summit"
    assert "delegation" in rewrite("what did he say about compromises?", history)
    assert rewrite("what did he say?", []) == "what did he say?"


def test_history_shapes():
    assert user_turns(["a", {"role": "assistant", "content": "x"}, {"role": "user", "content": "b"}, ("c", "r")]) == [
        "a",
        "b",
        "c",
    ]
    gradio6 = [{"role": "user", "content": [{"type": "text", "text": "who led russia's delegation?"}]}]
    assert user_turns(gradio6) == ["who led russia's delegation?"]
    with_file = [{"role": "user", "content": [{"type": "file", "file": "x.pdf"}, {"type": "text", "text": "who?"}]}]
    assert user_turns(with_file) == ["who?"]
    assert user_turns([([{"type": "text", "text": "and Lavrov?"}], "reply")]) == ["and Lavrov?"]


def test_follow_up_reuses_the_answer_to_the_earlier_turn(fake_assistant, fake_encoder):
    fake_assistant.ask("who led russia's delegation?")
    before = fake_encoder.encoded
    answer = fake_assistant.ask("what did he say about compromises?", history=["who led russia's delegation?"])
    assert fake_encoder.encoded == before + 1  # only the follow-up itself is encoded
    assert "delegation" in answer.query


def test_follow_up_without_the_earlier_answer_computes_it(fake_assistant, fake_encoder):
    before = fake_encoder.encoded
    fake_assistant.ask("what did he say about compromises?", history=["who led russia's delegation?"])
    assert fake_encoder.encoded == before + 2
