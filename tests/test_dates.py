"""Time words resolved against the day a question is asked, and article dates preferred by them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from qa import Assistant
from qa.apps.evaluation import load_questions
from qa.dates import TimeWindow, as_of_days, closeness, resolve_time
from qa.errors import FilterError, QuestionFileError

FRIDAY = date(2024, 6, 14)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("Which country was recommended for EU candidacy this week?", "2024-06-08", "2024-06-14"),
        ("What did the minister announce last week?", "2024-06-01", "2024-06-08"),
        ("What NFL star announced his retirement on Tuesday?", "2024-06-11", "2024-06-13"),
        ("Who won Sunday's election?", "2024-06-09", "2024-06-11"),
        ("what did they say yesterday", "2024-06-13", "2024-06-14"),
        ("who led Russia's delegation in Istanbul in May?", "2024-05-01", "2024-06-02"),
        ("what happened last month", "2024-05-01", "2024-06-02"),
        ("what was decided on May 16?", "2024-05-16", "2024-05-18"),
        ("Who won the 2022 World Cup?", "2022-01-01", "2022-12-31"),
        ("Which company recently recalled its cars?", "2024-05-15", "2024-06-14"),
        ("What happened over the weekend?", "2024-06-08", "2024-06-11"),
        ("What did the March 4 summit decide?", "2024-03-04", "2024-03-06"),
        ("what did Peskov say on 7 June?", "2024-06-07", "2024-06-09"),
        ("who signed the deal on 16 May 2023?", "2023-05-16", "2023-05-18"),
        ("which bill passed in March 2022?", "2022-03-01", "2022-04-02"),
        ("what did the court rule in December?", "2023-12-01", "2024-01-02"),
        ("what was announced a week ago?", "2024-06-01", "2024-06-08"),
    ],
)
def test_time_words_point_to_days_before_the_question(question, start, end):
    window = resolve_time(question, FRIDAY)
    assert window is not None
    assert (window.start.isoformat(), window.end.isoformat()) == (start, end)
    assert window.phrase.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    [
        "Who may lead the party after the vote?",  # a modal verb, not the month
        "what does he say now?",
        "How many of the 1,000 prisoners were exchanged?",
        "who led the third round of talks?",  # an ordinal event: matched as words
        "what did Lavrov say about a summit?",
    ],
)
def test_words_that_only_look_like_dates_are_not_taken(question):
    assert resolve_time(question, FRIDAY) is None


def test_closeness_is_one_inside_and_falls_outside():
    window = TimeWindow(date(2024, 6, 8), date(2024, 6, 14), "this week")
    days = np.array([date(2024, 6, 10).toordinal(), date(2024, 6, 17).toordinal(), date(2023, 1, 1).toordinal(), 0])
    near, after, far, undated = closeness(window, days)
    assert near == 1.0
    assert 0.0 < after < 1.0
    assert far == 0.0 and undated == 0.0


def test_as_of_days_checks_its_input():
    assert as_of_days(None, 2) == [date.today()] * 2
    assert as_of_days(["2024-06-14", None], 2) == [FRIDAY, date.today()]
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        as_of_days("14/06/2024", 1)
    with pytest.raises(FilterError, match="one per question"):
        as_of_days(["2024-06-14"], 2)


def _top_doc(answer) -> str:
    return answer.hits[0].passage.doc_id


def test_as_of_prefers_the_articles_of_the_week_asked_about(fake_assistant):
    question = "what was agreed at the peace talks this week?"
    may = fake_assistant.ask(question, as_of="2025-05-21", k=3)
    july = fake_assistant.ask(question, as_of="2025-07-24", k=3)
    assert may.hits[0].passage.date == "2025-05-20"
    assert july.hits[0].passage.date == "2025-07-23"
    assert may.hits[0].signals["when"] == 1.0


def test_time_words_far_from_every_article_change_nothing(fake_assistant):
    question = "what was agreed at the peace talks this week?"
    plain = fake_assistant.ask(question, as_of="2031-01-01", k=5)
    signals = [h.signals["when"] for h in plain.hits]
    assert signals == [0.0] * len(signals)
    config = fake_assistant.retriever.config
    fake_assistant.retriever.config = replace(config, when=0.0, recency=0.0)
    baseline = fake_assistant.ask(question, as_of="2031-01-01", k=5)
    fake_assistant.retriever.config = config
    assert [(h.passage.doc_id, h.passage.char_start, h.score) for h in plain.hits] == [
        (h.passage.doc_id, h.passage.char_start, h.score) for h in baseline.hits
    ]


def test_an_undated_corpus_ranks_the_same_on_any_day(corpus_copy, tmp_path, fake_encoder):
    # the three articles that give no date, neither in the metadata nor in their text
    meta = corpus_copy / "metadata.toml"
    tables = re.split(r"(?m)^(?=\[\")", meta.read_text(encoding="utf-8"))
    for dated in ("002_99214e3abbb71cf3.txt", "003_e354e611adafdd87.txt"):
        (corpus_copy / dated).unlink()
        tables = [t for t in tables if not t.startswith(f'["{dated}"]')]
    meta.write_text("".join(tables), encoding="utf-8")
    assistant = Assistant.load(corpus=corpus_copy, index=tmp_path / "undated", encoder=fake_encoder, progress=False)
    assert {d.meta.date for d in assistant.store.documents.values()} == {""}
    question = "what did Lavrov say about talks this week?"
    runs = [assistant.ask(question, as_of=day, k=5) for day in ("2025-05-21", "2025-07-24", None)]
    keys = [[(h.passage.doc_id, h.passage.char_start, round(h.score, 6)) for h in a.hits] for a in runs]
    assert keys[0] == keys[1] == keys[2]


def test_a_malformed_as_of_is_a_clear_error(fake_assistant):
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        fake_assistant.ask("who led russia's delegation?", as_of="last tuesday")


def test_question_files_give_the_day_asked(tmp_path):
    good = tmp_path / "q.jsonl"
    good.write_text('{"id": "a", "question": "who won this week?", "evidence": ["x"], "asked_on": "2024-06-14"}\n')
    assert load_questions(good)[0].asked_on == "2024-06-14"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "who won this week?", "evidence": ["x"], "asked_on": "June 14"}\n')
    with pytest.raises(QuestionFileError, match="asked_on"):
        load_questions(bad)
