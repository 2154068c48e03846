"""Follow-up questions: decide whether a question leans on the conversation, and rewrite it.

Only a question that depends on earlier turns is rewritten: one with a pronoun or place
word that nothing in the question itself names ("what did *he* say", "who did he meet
*there*"), or an elliptical one ("and Lavrov?", "what about in June?"). Independent
questions are searched as asked, so results do not drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..lexical import STOPWORDS, words

__all__ = ["depends_on_history", "rewrite", "user_turns"]

_PERSONAL = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "himself", "herself"}
_THING = {"it", "its", "that", "this", "those", "these", "there", "then"}
_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|and what about|what else|anything else|why|why not|how so|really)\b",
    re.I,
)
# "any countries in particular?", "who else?", "which ones?": a narrowing of the last answer.
_NARROWING = re.compile(r"^\s*(?:any|anyone|anybody|anything|who else|which ones?)\b|\bin particular\b", re.I)
_EXISTENTIAL = re.compile(
    r"\b(?:is|was|are|were|will|would|could|has|have|had)\s+there\b|\bthere\s+(?:is|was|are|were|be|been)\b", re.I
)
_DUMMY_IT = re.compile(
    r"\b(?:is|was)\s+it\s+(?:true|possible|likely|clear|fair|the case)\b"
    r"|\bit\s+(?:is|was)\s+(?:true|possible|likely|said|reported)\b",
    re.I,
)


def _text(content) -> str:
    """The text of a message's content: a string, Gradio 6's list of ``{"type": "text", "text": ...}``
    parts, or one part (parts of other types, such as files, have none)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in map(_text, content) if t)
    return ""


def user_turns(history: Iterable) -> list[str]:
    """The user's earlier questions from a history in any common shape.

    Accepts plain strings (user turns), ``{"role": ..., "content": ...}`` messages (content
    as a string or Gradio's list of text parts), and ``(user, assistant)`` pairs; assistant
    turns are ignored.
    """
    out: list[str] = []
    for turn in history or ():
        if isinstance(turn, str):
            out.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role", "user") == "user":
                out.append(_text(turn.get("content")))
        elif isinstance(turn, (list, tuple)) and turn:
            out.append(_text(turn[0]))
    return [t.strip() for t in out if t and t.strip()]


def depends_on_history(question: str, *, names: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether ``question`` needs earlier turns to be understood.

    A "he/she/they" counts unless a known name comes before it in the question ("what
    did Rubio say about his talks"); an "it/there/that" counts unless the question already
    holds two content words before it ("was there a truce, and what happened to it?").

    Args:
        question: the new question.
        names: folded words known to be names.
    """
    text = _DUMMY_IT.sub(" ", _EXISTENTIAL.sub(" ", question))
    tokens = words(text)
    content = [t for t in tokens if t not in STOPWORDS]
    if _ELLIPSIS.match(question) and len(content) <= 4:
        return True
    if _NARROWING.search(question) and len(content) <= 2 and not any(t in names for t in tokens):
        return True
    for i, token in enumerate(tokens):
        if token in _PERSONAL and not any(t in names for t in tokens[:i]):
            return True
        if token in _THING:
            if token in ("that", "this", "those", "these") and i + 1 < len(tokens) and tokens[i + 1] not in STOPWORDS:
                continue  # "this week", "that meeting": a determiner, not a reference
            if token == "then" and i > 0:
                continue
            if sum(1 for t in tokens[:i] if t not in STOPWORDS) < 2:
                return True  # "what happened to it?" - nothing in the question for "it" to point at
    return False


def rewrite(question: str, history: Sequence[str], *, names: set[str] | frozenset[str] = frozenset()) -> str:
    """The question to search: ``question`` itself, or it followed by the turns it leans on."""
    if not history or not depends_on_history(question, names=names):
        return question
    context = [history[-1]]
    for earlier in reversed(history[:-1]):  # the last turn leans on an earlier one too
        if not depends_on_history(context[0], names=names):
            break
        context.insert(0, earlier)
    return " ".join([question.strip(), *context])
