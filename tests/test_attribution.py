"""qa.attribute(text): the attributions of any text, the same the index stores."""

from __future__ import annotations

import pytest

import qa
from qa.ingest.attribution import KINDS, cue_and_kind
from qa.ingest.documents import load_document, load_metadata, scan_corpus
from qa.ingest.passages import make_passages

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
        ("Trump believes the election was stolen.", False, ("believes", "other")),
        ("“We said no,” the minister warned.", True, ("warned", "direct")),  # "said" inside the quote is not the cue
    ],
)
def test_cue_and_kind(sentence, direct, expected):
    assert cue_and_kind(sentence, direct=direct) == expected


class _FakeTagger:
    """Tags given words of a text as source or cue, with a given confidence (no model)."""

    def __init__(self, marks: list[tuple[str, str, float]]) -> None:
        self.marks = marks

    def tag(self, text: str):
        from qa.ingest.quotes.tagger import Span

        out = []
        for kind, words, confidence in self.marks:
            start = text.index(words)
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
        ("Jane Doe", "reported", "said", 0.865),
        ("The treasury", "other", "believes", 0.85),  # the least of cue's and source's confidence
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
