"""Names, roles and descriptions in a phrase, and quotation marks in a sentence."""

from __future__ import annotations

import re

from ...lexical import STOPWORDS
from .lexicon import (
    _ABBREVIATION,
    _BARE_ROLE,
    _CLAUSE_WORDS,
    _DATE_TAIL,
    _DESCRIPTION,
    _DETERMINER,
    _GROUPS,
    _INDEFINITE,
    _NAME_SEQ,
    _NOT_A_PERSON,
    _NOT_HEADS,
    _NOT_NAMES,
    _PARTICLES,
    _PERSON_HEADS,
    _PREPOSITION,
    _ROLE_NOUN,
    _STRONG_TITLES,
    _TITLES,
)


def _function_word(token: str) -> bool:
    """A pronoun, determiner or other function word written with a capital at a sentence start."""
    word = token.lower().strip(".,;:")
    return word in STOPWORDS or word in _INDEFINITE


def _clean_name(candidate: str) -> str | None:
    """Strip titles and trailing punctuation from a capitalised run; None if nothing is left."""
    tokens = candidate.replace("’s", "").replace("'s", "").split()
    while tokens and (tokens[-1].lower() in {"of", "the", "and", "on", "for"} or tokens[-1].lower() in _PARTICLES):
        tokens.pop()
    while tokens and (tokens[0].lower() in _TITLES or tokens[0].lower() in _NOT_NAMES or _function_word(tokens[0])):
        tokens.pop(0)
    for i in range(len(tokens) - 3, 0, -1):  # "CDC Director Dr. Rochelle Walensky", "Court Judge Michael Stern"
        if tokens[i].lower() in _STRONG_TITLES and all(t[:1].isupper() for t in tokens[i + 1 :]):
            tokens = tokens[i + 1 :]
            break
    name = _DATE_TAIL.sub("", " ".join(tokens)).strip(" ,.;:")
    if not name or not name[0].isupper() or re.fullmatch(r"[RDI]-[A-Z][a-z]+\.?", name):
        return None  # nothing left, or a party and state ("R-Fla.")
    return name


def _role(candidate: str) -> str | None:
    """A speaker given by role ("the Secretary of State", "a Russian diplomat")."""
    match = re.search(r"^\s*(?:the|a|an)\s+((?:[\w.\-]+\s+){0,3}?[\w.\-]+)\s*$", candidate, re.IGNORECASE)
    if not match:
        match = re.search(_BARE_ROLE, candidate)
    if not match:
        return None
    role = match.group(1)
    if any(ch.isupper() for ch in role) or re.search(_ROLE_NOUN, role):
        return role.strip()
    return None


def _names_in(text: str) -> list[str]:
    names = []
    for match in _NAME_SEQ.finditer(text):
        name = _clean_name(match.group(0))
        if name:
            names.append(name)
    return names


def _subject_name(phrase: str) -> str | None:
    """The name a subject phrase is about: its first name, moving on past descriptions to the name
    they introduce ("Kremlin spokesperson Dmitry Peskov", "Former NBC sportscaster Bob Costas"),
    but not into a place or employer after a preposition ("Daniel Goldin of Boswell Book Company
    in Milwaukee")."""
    runs = [(m.end(), _clean_name(m.group(0)), m.start()) for m in _NAME_SEQ.finditer(phrase)]
    runs = [(start, end, name) for end, name, start in runs if name]
    if not runs:
        return None
    chosen = runs[0]
    for run in runs[1:]:
        gap = phrase[chosen[1] : run[0]]
        title_of = gap.strip() in ("of", "for") and chosen[2].split()[-1].lower() in _STRONG_TITLES | _PERSON_HEADS
        if (_PREPOSITION.search(gap) and not title_of) or re.search(r"[,;:()]", gap):
            break  # not "Parliamentary Commissioner for Standards Kathryn Stone"
        if title_of:  # "Commissioner for Standards Kathryn Stone": the name is the run's end
            words = run[2].split()
            keep = 3 if len(words) >= 3 and re.fullmatch(r"[A-Z]\.", words[-2]) else 2
            run = (run[0], run[1], " ".join(words[-keep:]))
        chosen = run
    person, of, _ = chosen[2].partition(" of ")
    return person if of and len(person.split()) >= 2 else chosen[2]  # "Daniel Goldin of Boswell Book Company"


def _bare_name(phrase: str) -> bool:
    """Whether ``phrase`` is a name and nothing else ("Bill Franke", "TASS"), not a sentence opener."""
    tokens = phrase.split()
    return (
        (2 <= len(tokens) <= 4 or (len(tokens) == 1 and phrase.isupper() and len(phrase) > 1))
        and all(t[:1].isupper() or t in _PARTICLES for t in tokens)
        and not _function_word(tokens[0])
        and tokens[0].lower() not in _TITLES
    )


def _to_full_stop(text: str) -> str:
    """``text`` up to its first full stop that is not an abbreviation's ("Dr. David Hill")."""
    for match in re.finditer(r"\.(?=\s|$)", text):
        if not _ABBREVIATION.search(text[: match.start()]):
            return text[: match.start()]
    return text


def _description(phrase: str, *, after: bool = False) -> str | None:
    """A speaker given by a common noun phrase: "grocers", "the committee", "a Conservative
    spokesperson", "the paper". ``after``: the phrase follows its verb ("said the paper"), where
    only a phrase with a determiner is a speaker."""
    phrase = re.sub(r"^(?:But|And|Yet|So|Still|Now|Meanwhile|Instead)\s+", "", phrase.strip(" ,"))
    match = _DESCRIPTION.match(phrase)
    if not match or len(phrase.split()) > 5:
        return None
    head = match.group(2)
    if any(w.lower() in _CLAUSE_WORDS for w in phrase.split()):
        return None  # "a decision that the company", "despite": not a noun phrase
    if not head.islower() or head in STOPWORDS or head in _NOT_HEADS or head.endswith(("ly", "ed")):
        return None  # "Police initially received": a verb, not a noun
    if after and not re.match(rf"{_DETERMINER}\s", phrase, re.IGNORECASE):
        return None
    first = phrase.split()[0]
    if _function_word(first) and not re.fullmatch(_DETERMINER, first, re.IGNORECASE):
        return None  # "It", "This", "who runs the store": not a description
    common = first in ("The", "A", "An", "Some", "Many") or first.lower() in _GROUPS  # "Authorities said"
    return phrase[0].lower() + phrase[1:] if common else phrase


def _quoted_mask(sentence: str, inside: bool = False) -> list[bool]:
    """For each character, whether it lies inside quotation marks (``inside``: at the start)."""
    mask = []
    for ch in sentence:
        if ch in "“«" or (ch == '"' and not inside):
            inside = True
            mask.append(True)
        elif ch in "”»" or (ch == '"' and inside):
            mask.append(True)
            inside = False
        else:
            mask.append(inside)
    return mask


def _plural(speaker: str) -> bool:
    """Whether a speaker is several people or a pronoun for them ("they", "officials", "critics")."""
    if not speaker.split():
        return False
    last = speaker.split()[-1]
    common = last.islower() or speaker.lower() in _GROUPS  # "officials", "Critics" opening a sentence; not "Gillanders"
    return speaker == "they" or (common and last.endswith("s") and not last.endswith("ss"))


def _personal(sentence: str, name: str) -> bool:
    """Whether ``name`` may be a person: not an acronym, an organisation or a title ("The Casual Vacancy")."""
    tokens = name.replace("-", " ").split()
    if any(t.lower().strip(".,’'") in _NOT_A_PERSON for t in tokens) or (name.isupper() and len(name) > 1):
        return False
    at = sentence.find(name)
    return not (at >= 4 and sentence[max(0, at - 4) : at] == "The ")


def _mask_at(sentence: str, name: str) -> bool:
    at = sentence.find(name)
    return at >= 0 and _quoted_mask(sentence)[at]


def _inside_quote_after(sentence: str, inside: bool) -> bool:
    for ch in sentence:
        if ch in "“«":
            inside = True
        elif ch in "”»":
            inside = False
        elif ch == '"':
            inside = not inside
    return inside


def is_unnamed(speaker: str) -> bool:
    """Whether a speaker is a description, not a name: its last word is a common noun
    ("officials", "a senior Ukrainian official", "the committee"), as against "Valeriy Dymov"."""
    last = speaker.split()[-1] if speaker.split() else ""
    return last[:1].islower()
