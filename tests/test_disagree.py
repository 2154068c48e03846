"""Where sources differ: figures, dates and titles read from the answering sentences, never invented."""

from __future__ import annotations

import pytest

from qa.answers.answer import Answer, Hit
from qa.answers.disagree import find_disagreements
from qa.apps.webchat import render_answer
from qa.ingest.passages import Passage
from qa.search.analysis import analyse


def _hits(*sentences: tuple[str, str, str]) -> tuple[Hit, ...]:
    """One hit per (article id, outlet, sentence), the sentence highlighted."""
    out = []
    for rank, (doc, outlet, text) in enumerate(sentences, 1):
        p = Passage(doc, "T", outlet, "2025-05-20", text, 0, len(text), kind="report")
        out.append(Hit(rank, 1.0 / rank, p, (0, len(text))))
    return tuple(out)


def _differ(question: str, *sentences) -> list[tuple[str, list[str]]]:
    found = find_disagreements(analyse(question), _hits(*sentences))
    return [(d.kind, [c.value for c in d.claims]) for d in found]


def test_figures_that_differ_are_flagged_and_equal_ones_written_two_ways_are_not():
    q = "how many prisoners were to be exchanged?"
    a = ("a.txt", "News.Az", "The sides agreed to exchange 1,000 prisoners of war.")
    assert _differ(q, a, ("b.txt", "Wire", "They agreed to swap a thousand prisoners.")) == []
    assert _differ(q, a, ("b.txt", "Wire", "Kyiv said 1000 prisoners would come home.")) == []
    assert _differ(q, a, ("b.txt", "Wire", "Zelensky said 1,200 prisoners would return.")) == [
        ("figure", ["1,000", "1,200"])
    ]
    # one article giving two figures is not two sources differing
    assert _differ(q, a, ("a.txt", "News.Az", "Later 1,200 prisoners were named.")) == []
    # figures are compared only when the question asks how many, and only about what it counts
    assert _differ("who agreed to the exchange?", a, ("b.txt", "Wire", "Zelensky said 1,200 prisoners.")) == []
    assert _differ(q, a, ("b.txt", "Wire", "The talks lasted 40 minutes in 2025.")) == []


def test_dates_that_differ_are_flagged_and_one_date_written_two_ways_is_not():
    q = "when was the third round held?"
    a = ("a.txt", "", "The third round, held on June 23rd in Istanbul, was short.")
    assert _differ(q, a, ("b.txt", "X", "It took place on 23 June.")) == []
    assert _differ(q, a, ("b.txt", "X", "ISTANBUL, July 23 — A new round of talks opened.")) == [
        ("date", ["June 23rd", "July 23"])
    ]
    assert _differ("who attended the third round?", a, ("b.txt", "X", "It opened on July 23.")) == []


def test_titles_without_a_common_role_are_flagged():
    q = "who led Ukraine's delegation?"
    a = ("a.txt", "The Moscow Times", "Ukraine sent a delegation led by Defense Minister Rustem Umerov.")
    b = (
        "b.txt",
        "",
        "Zelensky appointed Secretary of the National Security and Defense Council, Rustem Umerov, to lead.",
    )
    found = find_disagreements(analyse(q), _hits(a, b))
    assert [(d.kind, d.about) for d in found] == [("title", "Rustem Umerov's title")]
    assert [c.value for c in found[0].claims] == [
        "Defense Minister",
        "Secretary of the National Security and Defense Council",
    ]
    assert [c.outlet for c in found[0].claims] == ["The Moscow Times", ""]
    same = ("c.txt", "X", "He met President Donald Trump on Friday.")
    assert _differ(q, ("a.txt", "Y", "U.S. President Donald Trump spoke first."), same) == []


def test_the_chat_says_sources_differ_above_the_passages_escaped():
    hits = _hits(
        ("a.txt", "<b>Evil</b>", "The sides agreed to exchange 1,000 prisoners."),
        ("b.txt", "Wire", "Zelensky said 1,200 prisoners would return."),
    )
    q = "how many prisoners were to be exchanged?"
    answer = Answer(q, q, hits, True, 0.9, (), False, find_disagreements(analyse(q), hits))
    html = render_answer(answer)
    assert html.index("Sources differ") < html.index('class="qa-hit"')
    assert "&lt;b&gt;Evil&lt;/b&gt;: 1,000" in html and "<b>Evil" not in html
    assert answer.to_dict()["disagreements"][0]["claims"][1]["value"] == "1,200"
    agreeing = Answer(q, q, hits[:1], True, 0.9)
    assert "Sources differ" not in render_answer(agreeing)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "kind", "values"),
    [
        ("how many prisoners were to be exchanged?", "figure", {"1,000", "1,200"}),
        ("when was the third round of talks held?", "date", {"June 23rd", "July 23"}),
        (
            "who leads Ukraine's delegation?",
            "title",
            {"Defense Minister", "Secretary of the National Security and Defense Council"},
        ),
    ],
)
def test_the_five_articles_disagreements_are_found(real_assistant, question, kind, values):
    answer = real_assistant.ask(question, k=5)
    found = [d for d in answer.disagreements if d.kind == kind]
    assert found and {c.value for c in found[0].claims} == values
    assert all(c.citation for c in found[0].claims)
