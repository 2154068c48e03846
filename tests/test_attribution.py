"""qa.attribute(text): the attributions of any text, the same the index stores."""

from __future__ import annotations

import pytest

import qa
from qa.errors import ModelError
from qa.ingest.attribution import KINDS, VOTE_CASES, cue_and_kind, same_source, vote_case
from qa.ingest.documents import load_document, load_metadata, scan_corpus
from qa.ingest.passages import make_passages
from qa.ingest.quotes.kinds import RULES_PRECISION, SPEECH

from .conftest import CORPUS


def test_speakers_are_named_in_full_with_span_cue_and_kind():
    text = (
        "Talks in Istanbul\n\n"
        "Kremlin spokesman Dmitry Peskov spoke to reporters on Monday.\n\n"
        "“We are ready for a meeting,” Peskov said.\n\n"
        "The talks would resume next week, according to Peskov.\n\n"
        "The weather was mild."
    )
    found = qa.attribute(text)
    assert [a.speaker for a in found] == ["Dmitry Peskov", "Dmitry Peskov"]
    direct, reported = found
    assert text[direct.char_start : direct.char_end] == "“We are ready for a meeting,” Peskov said."
    assert (direct.kind, direct.cue, direct.said_as) == ("direct", "said", "Peskov")
    assert text[reported.char_start : reported.char_end].startswith("The talks would resume")
    assert (reported.kind, reported.cue) == ("reported", "according to")
    assert all(0 < a.confidence <= 1 for a in found)
    assert set(found[0].to_dict()) >= {"speaker", "char_start", "char_end", "cue", "kind", "confidence"}


def test_the_same_attributions_as_the_index_stores_on_every_corpus_article():
    meta = load_metadata(CORPUS)
    for doc_id in scan_corpus(CORPUS):
        document = load_document(CORPUS, doc_id, meta.get(doc_id))
        stored = sorted((q.char_start, q.char_end) for p in make_passages(document) for q in p.quotes)
        given = sorted((a.char_start, a.char_end) for a in qa.attribute(document.text))
        assert given == stored, doc_id
        assert stored, doc_id


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "A headline\n\nNobody speaks in this article. It is only a description of the weather.",
        "Heading\n\n“An unbalanced quotation opens here and never closes, he said.\n\nAnd the text goes on.",
        "Titre\n\n« Nous sommes prêts », a déclaré le porte-parole. Der Sprecher sagte, man sei bereit.",
        "x" * 20_000,
    ],
)
def test_bad_or_odd_text_gives_no_crash_and_no_doubtful_speaker(text):
    found = qa.attribute(text)
    assert all(a.kind in KINDS and a.speaker for a in found)
    assert all(text[a.char_start : a.char_end].strip() for a in found)


def test_a_text_that_is_not_a_string_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="text must be a str"):
        qa.attribute(b"bytes are not text")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sentence", "direct", "expected"),
    [
        ("“We will not back down,” she said.", True, ("said", "direct")),
        ("He told reporters that the deal was off.", False, ("told", "reported")),
        ("The plan would cost $3 billion, according to the budget office.", False, ("according to", "reported")),
        ("Trump believes the election was stolen.", False, ("believes", "belief")),
        ("The party plans to appeal the ruling.", False, ("plans", "belief")),
        ("A new study found that the drug halves the risk.", False, ("found", "document")),
        ("Cases rose 12% last year, according to a report from the agency.", False, ("according to", "document")),
        ("The minister warned that talks could collapse.", False, ("warned", "reported")),
        ("The talks would resume in May.", False, (None, "carried")),
        ("“We said no,” the minister warned.", True, ("warned", "direct")),  # "said" inside the quote is not the cue
    ],
)
def test_cue_and_kind(sentence, direct, expected):
    assert cue_and_kind(sentence, direct=direct) == expected


def test_a_belief_is_its_speaker_s_only_where_the_sentence_names_them():
    sentence = "The West wants peace to save face."
    assert cue_and_kind(sentence, direct=False, speaker="Valeriy Dymov") == (None, "carried")  # his column goes on
    assert cue_and_kind(sentence, direct=False, speaker="the West") == ("wants", "belief")
    assert cue_and_kind("He wants peace.", direct=False, speaker="Valeriy Dymov") == ("wants", "belief")


class _FakeTagger:
    """Tags given words of a text as source or cue, with a given confidence (no model)."""

    def __init__(self, marks: list[tuple[str, str, float]], confidence: dict[str, float] | None = None) -> None:
        self.marks = marks
        self.confidence = confidence or {}
        self.folder = "fake-model"

    def tag(self, text: str):
        from qa.ingest.quotes.tagger import Span

        out = []
        for kind, words, confidence, *after in self.marks:  # the first ``words`` after ``after``, if given
            start = text.index(words, text.index(after[0]) if after else 0)
            out.append(Span(kind, start, start + len(words), confidence))
        return sorted(out, key=lambda s: s.char_start)


TEXT = (
    "Budget talks\n\n"
    "Senator Jane Doe said the budget would pass.\n\n"
    "The treasury believes the deficit will shrink next year.\n\n"
    "She later hinted at a compromise."
)


def test_without_a_tagger_the_rules_alone_and_a_bad_combine_is_refused():
    assert [a.said_as for a in qa.attribute(TEXT)] == ["Jane Doe"]
    with pytest.raises(ValueError, match="combine is 'both'"):
        qa.attribute(TEXT, tagger=_FakeTagger([]), combine="both")


def test_fill_takes_the_tagger_where_the_rules_are_silent_and_confident_enough():
    tagger = _FakeTagger([("source", "The treasury", 0.9), ("cue", "believes", 0.85)])
    found = qa.attribute(TEXT, tagger=tagger, combine="fill", threshold=0.8)
    assert [(a.said_as, a.kind, a.cue, a.confidence) for a in found] == [
        ("Jane Doe", "reported", "said", RULES_PRECISION["reported"]),
        ("The treasury", "belief", "believes", 0.85),  # the least of cue's and source's confidence
    ]
    assert [a.said_as for a in qa.attribute(TEXT, tagger=tagger, combine="fill", threshold=0.9)] == ["Jane Doe"]


def test_a_pronoun_the_tagger_finds_is_the_last_speaker_named():
    tagger = _FakeTagger([("source", "She", 0.95), ("cue", "hinted", 0.95)])
    found = qa.attribute(TEXT, tagger=tagger, combine="fill", threshold=0.8)
    assert [(a.speaker, a.said_as) for a in found][-1] == ("Jane Doe", "Jane Doe")


def test_prefer_and_tagger_alone():
    tagger = _FakeTagger([("source", "the budget", 0.95), ("cue", "said", 0.95)])  # a wrong source, confidently
    preferred = qa.attribute(TEXT, tagger=tagger, combine="prefer", threshold=0.9)
    assert [a.said_as for a in preferred] == ["the budget"]
    assert [a.said_as for a in qa.attribute(TEXT, tagger=tagger, combine="prefer", threshold=0.99)] == ["Jane Doe"]
    alone = qa.attribute(TEXT, tagger=_FakeTagger([("cue", "believes", 0.9)]), combine="tagger", threshold=0.5)
    assert alone == []  # a cue without a source names nobody, and the rules are not asked


#: A confidence table in which each case of the vote has its own mark.
_MARKS = {case: round(0.01 * (i + 1), 2) for i, case in enumerate(VOTE_CASES)}


def _case(attribution) -> str:
    return next(case for case, mark in _MARKS.items() if mark == attribution.confidence)


def test_vote_agreement_difference_and_each_one_alone():
    agreeing = _FakeTagger([("source", "Senator Jane Doe", 0.95), ("cue", "said", 0.95)], _MARKS)
    found = qa.attribute(TEXT, tagger=agreeing, combine="vote", threshold=0.5)
    assert [(a.speaker, a.basis, _case(a)) for a in found] == [("Jane Doe", "agree", "agree")]
    differing = _FakeTagger([("source", "the budget", 0.95), ("cue", "said", 0.95)], _MARKS)
    found = qa.attribute(TEXT, tagger=differing, combine="vote", threshold=0.5)
    assert [(a.said_as, a.basis, _case(a)) for a in found] == [("the budget", "differ", "differ")]
    alone = _FakeTagger([("source", "The treasury", 0.74), ("cue", "believes", 0.9)], _MARKS)
    found = qa.attribute(TEXT, tagger=alone, combine="vote", threshold=0.5)
    assert [(a.said_as, a.basis, _case(a)) for a in found] == [
        ("Jane Doe", "rules", "rules reported"),
        ("The treasury", "tagger", "tagger 0.7"),  # the least of its cue's and source's confidence, in tenths
    ]
    assert [a.said_as for a in qa.attribute(TEXT, tagger=alone, combine="vote", threshold=0.8)] == ["Jane Doe"]


def test_a_pronoun_the_tagger_finds_is_no_second_opinion():
    tagger = _FakeTagger([("source", "she", 0.95, "way"), ("cue", "said", 0.95, "way")], _MARKS)
    text = TEXT.replace("She later hinted at a compromise.", "“We will find a way,” she said.")
    found = qa.attribute(text, tagger=tagger, combine="vote", threshold=0.5)
    assert [(a.speaker, a.basis) for a in found] == [("Jane Doe", "rules"), ("Jane Doe", "rules")]
    hinted = _FakeTagger([("source", "She", 0.95), ("cue", "hinted", 0.95)], _MARKS)
    alone = qa.attribute(TEXT, tagger=hinted, combine="vote", threshold=0.5)
    assert [(a.speaker, a.basis) for a in alone][-1] == ("Jane Doe", "tagger")  # where the rules are silent


def test_vote_needs_a_calibrated_model():
    with pytest.raises(ModelError, match=r"no confidence table.*make train-attribution"):
        qa.attribute(TEXT, tagger=_FakeTagger([]), combine="vote")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Hillary Clinton", "Clinton", True),
        ("Clinton's campaign", "the Clinton campaign", True),
        ("the campaign", "the campaign", True),
        ("Donald Trump", "Hillary Clinton", False),
        ("officials", "the senator", False),
    ],
)
def test_same_source(a, b, same):
    assert same_source(a, b) is same


def test_vote_cases_cover_every_kind_and_tenth():
    assert vote_case("rules", "belief", None) == "rules belief"
    assert vote_case("tagger", "direct", 0.999) == "tagger 0.9"
    assert vote_case("agree", "direct", 0.7) == "agree"
    assert {f"rules {k}" for k in KINDS} <= set(VOTE_CASES)
    assert set(SPEECH) < set(KINDS)
