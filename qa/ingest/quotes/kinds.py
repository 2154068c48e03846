"""The kind of an attribution and its cue words, read from the attributed sentence.

Kinds:

* ``direct``: the sentence holds the source's words in quotation marks;
* ``reported``: reported speech, with a cue of speech outside quotation marks ("said",
  "told", "according to", "warned", "announced");
* ``belief``: what a source thinks, wants, hopes, fears, expects or plans;
* ``document``: what a report, a study, a survey, data or a filing shows or finds;
* ``carried``: speech with no cue of its own, carried on from a colon ("Dymov warned:"), an
  interview's speaker label or the sentence before.

Speech (:data:`SPEECH`) is ``direct``, ``reported`` and ``carried``: what the quotes view and citations show
unless asked for more kinds. PolNeAR's classes are coarser: its say-cue class is ``reported``
with a say, tell or "according to" cue, and its "other cues" hold the rest.
"""

from __future__ import annotations

import re

from .lexicon import _DOCUMENT_HEADS
from .lexicon import _VERB as SPEECH_VERBS

__all__ = ["CONFIDENT", "KINDS", "RULES_PRECISION", "SPEECH", "cue_and_kind", "cue_words"]

KINDS = ("direct", "reported", "carried", "belief", "document")
#: Speech proper: what the quotes view shows unless asked for every kind.
SPEECH = ("direct", "reported", "carried")
#: Cues of reported speech proper (PolNeAR's say/tell/according cues).
_SAY = re.compile(r"\b(?:said|says|say|saying|told|tells|tell|telling|according\s+to)\b", re.I)
_BELIEF_WORDS = (
    r"believes?|believed|believing|thinks?|thought|thinking|considers?|considered|regards?|regarded|sees|views?"
    r"|viewed|feels?|felt|wants?|wanted|wanting|hopes?|hoped|hoping|expects?|expected|expecting|fears?|feared"
    r"|fearing|worries|worried|plans?|planned|planning|intends?|intended|doubts?|doubted|suspects?|suspected"
)
_BELIEF = re.compile(rf"\b(?:{_BELIEF_WORDS})\b", re.I)
#: Other cues of attribution: the rules' speech verbs, and what reports a belief, a plan or a finding.
_CUE = re.compile(
    rf"\b{SPEECH_VERBS}\b|\b(?:noting|adding|warning|claiming|arguing|writing|{_BELIEF_WORDS}|shown|per)\b",
    re.I,
)
#: A finding: what a document shows ("the study found", "data show", "according to a report").
_FINDING = re.compile(
    r"\b(?:found|finds|find|show|shows|showed|shown|showing|indicates?|indicated|suggests?|suggested|estimates?"
    r"|estimated|according\s+to|per|reveals?|revealed|concluded|concludes|says|said|states|stated|reads?)\b",
    re.I,
)
_DOCUMENT = re.compile(rf"\b(?:{'|'.join(sorted(_DOCUMENT_HEADS - {'statement', 'release', 'letter'}))})\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]")
#: How often a rule's speaker is right, by kind, on PolNeAR's dev split (lenient matching; see
#: bench/RESULTS.md): the confidence of a rules-only attribution.
RULES_PRECISION = {"direct": 0.874, "reported": 0.829, "carried": 0.823, "belief": 0.5, "document": 0.929}
#: The least confidence at which the quotes view, ``speakers()`` and citations name a speaker by
#: default (chosen on PolNeAR dev: bench/RESULTS.md); below it, no speaker rather than a doubtful one.
CONFIDENT = 0.8


def cue_words(masked: str) -> tuple[int, int] | None:
    """Where the first cue stands in a sentence whose quoted words are blanked out (say, tell and
    "according to" first)."""
    found = _SAY.search(masked) or _CUE.search(masked)
    return (found.start(), found.end()) if found else None


_PRONOUN = re.compile(r"\b(?:he|she|they|it|we|i|his|her|their|its|our|my)\b", re.I)


def _names(outside: str, speaker: str) -> bool:
    """Whether the sentence names its speaker: one of the speaker's words, or a pronoun."""
    words = {w.strip(".,;:’'").lower() for w in speaker.split() if len(w) > 2}
    found = {w.strip(".,;:’'").removesuffix("’s").removesuffix("'s").lower() for w in outside.split()}
    return bool(words & found) or bool(_PRONOUN.search(outside))


def cue_and_kind(sentence: str, *, direct: bool, speaker: str | None = None) -> tuple[str | None, str]:
    """The cue words of an attributed sentence (outside its quotation marks) and the attribution's kind.

    A belief or a finding counts only where the sentence names ``speaker`` (a word of its name, or
    a pronoun), when given: "The West wants peace" inside a columnist's paraphrase is the
    columnist's words carried on, not the West's belief."""
    outside = _QUOTED.sub(lambda m: " " * len(m.group(0)), sentence)
    say = _SAY.search(outside)
    cue = say or _CUE.search(outside)
    words = re.sub(r"\s+", " ", cue.group(0)) if cue else None
    if direct:
        return words, "direct"
    if cue is None:
        return None, "carried"
    finding = _FINDING.search(outside)
    document = _DOCUMENT.search(outside)
    own = speaker is None or _names(outside, speaker)
    if finding and document and abs(document.start() - finding.start()) <= 60:
        return (words, "document") if own else (None, "carried")
    if say is None and _BELIEF.fullmatch(cue.group(0)):
        return (words, "belief") if own else (None, "carried")
    return words, "reported"
