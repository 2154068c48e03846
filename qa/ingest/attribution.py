"""Attributions of any text: who said (or wrote, believes, reported) each sentence, named in full.

:func:`attribute` is the public entry point (``qa.attribute(text)``). It cuts the text as an
indexed article is cut, so its attributions are exactly those the index stores on passages and
the quotes view, ``quotes()``, ``speakers()`` and citations show: one record per attributed
sentence, with the speaker as the article names them in full (:func:`~qa.ingest.names.resolve_article`),
how the sentence names them (``said_as``: "he", "the senator"), the cue words, the kind of
attribution, and a confidence.

Kinds, as PolNeAR counts them: ``direct`` (the sentence holds quotation marks), ``reported``
(reported speech with a say, tell or "according to" cue) and ``other`` (other cues: "warned",
"believes", "announced", a document that "shows").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .documents import document_from_text
from .names import AliasTable, resolve_article
from .passages import Chunking, make_passages

__all__ = ["KINDS", "Attribution", "attribute", "cue_and_kind"]

KINDS = ("direct", "reported", "other")
#: Cues of reported speech proper (PolNeAR's say/tell/according cues).
_SAY = re.compile(r"\b(?:said|says|say|saying|told|tells|tell|telling|according\s+to)\b", re.I)
#: Other cues of attribution, a verb or phrase that reports what a source said, wrote, found or holds.
_CUE = re.compile(
    r"\b(?:stated|states|noted|notes|noting|remarked|remarks|added|adds|adding|warned|warns|warning|"
    r"emphasi[sz]ed|emphasi[sz]es|stressed|stresses|claimed|claims|claiming|announced|announces|argued|argues|"
    r"arguing|insisted|insists|confirmed|confirms|explained|explains|asked|asks|replied|replies|wrote|writes|"
    r"writing|declared|declares|suggested|suggests|acknowledged|acknowledges|admitted|admits|denied|denies|"
    r"described|describes|urged|urges|concluded|concludes|reported|reports|predicted|predicts|responded|"
    r"responds|complained|complains|cautioned|cautions|believes?|believed|thinks?|thought|wants?|wanted|"
    r"hopes?|hoped|expects?|expected|fears?|feared|plans?|planned|shows?|showed|shown|found|finds|"
    r"estimated|estimates|announced|tweeted|posted|per)\b",
    re.I,
)
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]")
#: How often a rule's speaker is right, by kind, on PolNeAR's dev split (lenient matching; see
#: bench/RESULTS.md): the confidence of a rules-only attribution.
RULES_PRECISION = {"direct": 0.874, "reported": 0.865, "other": 0.775}


@dataclass(frozen=True)
class Attribution:
    """One attributed sentence of a text (``text[char_start:char_end]``).

    ``speaker`` is the fullest name the text gives the source; ``said_as`` how this sentence
    names it; ``cue`` the words that attribute it ("said", "according to"), None where the
    sentence carries on a quotation; ``kind`` one of :data:`KINDS`; ``confidence`` between 0 and 1.
    """

    speaker: str
    char_start: int
    char_end: int
    cue: str | None
    kind: str
    confidence: float
    said_as: str

    def to_dict(self) -> dict:
        """The record as plain data (JSON-ready)."""
        return asdict(self)


def cue_and_kind(sentence: str, *, direct: bool) -> tuple[str | None, str]:
    """The cue words of an attributed sentence (outside its quotation marks) and the attribution's kind."""
    outside = _QUOTED.sub(lambda m: " " * len(m.group(0)), sentence)
    say = _SAY.search(outside)
    other = _CUE.search(outside)
    cue = say or other
    if direct:
        kind = "direct"
    elif say is not None:
        kind = "reported"
    else:
        kind = "other"
    return (re.sub(r"\s+", " ", cue.group(0)) if cue else None), kind


def attribute(text: str, *, aliases: AliasTable | None = None) -> list[Attribution]:
    """The attributions of one article's text, in text order.

    Args:
        text: the article: a title line, then paragraphs (as a ``.txt`` article file holds it).
        aliases: other spellings of names (``aliases.toml``), joined to one speaker.

    Returns:
        One :class:`Attribution` per attributed sentence; an empty list for a text with none.

    Example:
        >>> import qa
        >>> [(a.speaker, a.kind) for a in qa.attribute("Talks\\n\\nThe deal is done, Sergey Lavrov said.")]
        [('Sergey Lavrov', 'reported')]
    """
    if not text.strip():
        return []
    document = document_from_text(text)
    passages = make_passages(document, Chunking())
    quotes = [q for p in passages for q in p.quotes]
    names = resolve_article({q.speaker for q in quotes}, "\n".join(p.text for p in passages), aliases or AliasTable())
    out = []
    for q in quotes:
        cue, kind = cue_and_kind(text[q.char_start : q.char_end], direct=q.direct)
        out.append(
            Attribution(
                speaker=names.get(q.speaker, q.speaker),
                char_start=q.char_start,
                char_end=q.char_end,
                cue=cue,
                kind=kind,
                confidence=RULES_PRECISION[kind],
                said_as=q.speaker,
            )
        )
    return out
