"""Speakers across an article: pronouns, descriptions and documents resolved to the names the
article gave, quotations that run on, paragraphs of a source's words and interview transcripts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexicon import (
    _DOCUMENT_HEADS,
    _ENDS,
    _GENERIC,
    _LABEL,
    _NAME,
    _NOT_NAMES,
    _OPEN,
    _OPENER,
    _ORGANISATION_HEADS,
    _PERSON_HEADS,
    _QUOTED_WORDS,
    _ROLE_PLURAL,
    _SOURCE_HEADS,
    _TITLE_ABBREVIATIONS,
    _VERB_AFTER,
)
from .phrases import (
    _clean_name,
    _function_word,
    _inside_quote_after,
    _mask_at,
    _names_in,
    _personal,
    _plural,
    _to_full_stop,
    is_unnamed,
)
from .sentence import _clause_subject, sentence_speaker


def _person(sentence: str, speaker: str | None, surnames: frozenset[str] = frozenset()) -> str | None:
    """Who a later "he"/"she" most likely means: the speaker, a full name, or the subject. A full
    name counts when the article also calls it by its last word alone ("Peter Sokolowski" ...
    "Sokolowski said"), as news writes people and not places ("Los Angeles") or credits."""
    if speaker and speaker not in ("he", "she", "they"):
        return speaker if _personal(sentence, speaker) and not _plural(speaker) else None
    subject = _subject(sentence)
    if subject:
        return subject
    names = [n for n in _names_in(sentence) if f"{n}/" not in sentence]  # not "Joe Raedle/Getty Images"
    full = [n for n in names if len(n.split()) >= 2 and not _mask_at(sentence, n) and _personal(sentence, n)]
    people = [n for n in full if n.split()[-1] in surnames]
    if people:
        return people[-1]
    return full[-1] if full and not surnames else None


def _surnames(sentences: Sequence[str]) -> frozenset[str]:
    """Capitalised words an article writes alone inside a sentence ("..., Sokolowski said"): the
    last names of the people it quotes or writes about."""
    found = set()
    for text in sentences:
        tokens = text.split()
        for i in range(1, len(tokens)):
            word, before = tokens[i].strip(',.;:!?”"()'), tokens[i - 1]
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            alone = (before[:1].islower() or before[-1:] in ',;:)”"') and not after[:1].isupper()
            if alone and re.fullmatch(r"[A-Z][\w’'\-]+", word):
                found.add(word.removesuffix("’s").removesuffix("'s"))
    return frozenset(found)


def _subject(sentence: str) -> str | None:
    opener = _OPENER.match(sentence)
    if opener:  # "Speaking after the match, Southgate was full of praise"
        sentence = sentence[opener.end() :]
    names = _names_in(sentence[:60])
    if names and sentence.lstrip(_OPEN).startswith(names[0].split()[0]) and _personal(sentence, names[0]):
        return names[0]
    return None


def attribute_sentences(sentences: Sequence[str], paragraph_starts: Sequence[bool]) -> list[str | None]:
    """The speaker of each sentence of one article, in order (None where nobody speaks).

    Args:
        sentences: the article's sentences, in order.
        paragraph_starts: True where a sentence opens a new paragraph.
    """
    named_inside = _capitalised_inside(sentences)
    surnames = _surnames(sentences)
    out: list[str | None] = []
    last_person: str | None = None
    carrier: str | None = None  # the speaker the narration last named, for quotations that follow
    in_quote = False
    opened: list[bool] = []  # the sentence leaves a quotation open
    within: list[bool] = []  # the sentence starts inside a quotation opened before it
    named: list[bool] = []  # the sentence names its own speaker
    earlier: list[str] = []  # the sentences before this one
    last_source: str | None = None  # the last organisation or outlet quoted
    last_group: str | None = None  # the last speaker that is several people ("Dutch officials")
    labels = _transcript_labels(sentences, paragraph_starts, named_inside)
    answering: str | None = None  # in an interview transcript, who is answering
    last_mark = ""  # the last quotation mark seen
    for i, (text, new_par) in enumerate(zip(sentences, paragraph_starts)):
        stripped = text.strip()
        if new_par and last_mark == '"':
            in_quote = False  # straight quotes are counted by parity, which restarts with each paragraph
        continuing = in_quote
        opens_quote = stripped[:1] in _OPEN
        if new_par and not opens_quote and not continuing:
            carrier = None
        label = _LABEL.match(stripped) if new_par and labels else None
        if label and _label_key(label.group(1)) in labels:
            answering = labels[_label_key(label.group(1))]  # None for the interviewer
        speaker = _as_named(sentence_speaker(stripped, inside=continuing), stripped, named_inside)
        alone = new_par and (i + 1 == len(sentences) or paragraph_starts[i + 1])
        if alone and not _ENDS.search(stripped) and len(stripped.split()) <= 15 and not re.search('[“”"]', stripped):
            speaker = None  # a line of its own with no full stop: a headline or a link ("Madonna sued, reports say")
        if answering:
            speaker = answering  # "Hill: That is a great question. ... The CDC has said ...": Hill's answer
        named.append(speaker is not None)
        within.append(continuing)
        named_source = last_source if last_source and not is_unnamed(last_source) else None
        if speaker == "they":
            speaker = last_group or last_person  # "Dutch officials ... they said"
        elif speaker == "it":  # "according to its website": the organisation the sentence is about
            subject = _as_named(_clause_subject(stripped), stripped, named_inside)
            if subject and subject[:1].islower():
                subject = _antecedent(subject, " ".join([*earlier, stripped]), last_person, last_source)
            speaker = subject or named_source
        elif speaker in ("he", "she"):
            subject = None if opens_quote else _subject(stripped)  # "Abo “wouldn’t be surprised”, he told CNN"
            known = subject and _given_name_before(subject, earlier)
            speaker = subject if known and len(subject.split()) == 1 else last_person
        elif speaker and speaker[:1].islower():
            subject = _subject(stripped) if not opens_quote else None  # "Hy-Vee won't ..., the company said"
            organisation = speaker.split()[-1] in _ORGANISATION_HEADS  # "the company": a name, not "a newspaper"
            source = (subject or named_source) if organisation else last_source
            speaker = _antecedent(speaker, " ".join([*earlier, stripped]), last_person, source)
        if speaker is None and continuing and out:
            speaker = out[-1]  # the quotation goes on
        elif speaker is None and opens_quote:
            speaker = carrier if new_par else (out[-1] if out and out[-1] else carrier)
        elif speaker is None and not new_par and out and out[-1] and _QUOTED_WORDS.search(stripped):
            speaker = out[-1]  # more of the same source's words in its paragraph: "It was “a mismatch”."
        if speaker and ((not opens_quote and not continuing) or (continuing and named[-1])):
            carrier = speaker  # narration naming someone, or a quotation closed with "..., Peskov said"
        out.append(speaker)
        earlier.append(stripped)
        if (
            speaker
            and speaker[:1].isupper()
            and (not _personal(stripped, speaker) or f"the {speaker}".lower() in stripped.lower())
        ):
            last_source = speaker  # an organisation, or an outlet written "the Evening Standard"
        elif speaker and speaker.split()[-1] in _SOURCE_HEADS:
            last_source = speaker  # "said the i news site": "the site" later is that site
        if speaker and speaker.split()[-1].endswith("s") and (speaker[:1].islower() or _ROLE_PLURAL.search(speaker)):
            last_group = speaker
        elif speaker and speaker != last_group:
            last_group = None if named[-1] else last_group
        headline = alone and not _ENDS.search(stripped)  # and photo credits ("Joe Raedle/Getty Images")
        if not headline and not re.match(r"[“\"]?(?:He|She)\b", stripped):  # a sentence about "him" keeps him
            last_person = _as_named(_person(stripped, speaker, surnames), stripped, named_inside) or last_person
        in_quote = _inside_quote_after(stripped, in_quote)
        marks = re.findall(r"[“”\"«»]", stripped)
        last_mark = marks[-1] if marks else last_mark
        opened.append(in_quote and not continuing)
    for i in range(len(out)):  # “... capitulation. That's it,” a diplomat stated.
        if not opened[i]:
            continue
        end = i + 1
        while end < len(out) and within[end] and not named[end] and end + 1 < len(out) and within[end + 1]:
            end += 1  # the quotation runs on through sentences that name nobody
        if end < len(out) and within[end] and named[end] and out[end]:
            for k in range(i, end):  # the speaker named where it closes beats one carried or guessed
                if not named[k]:
                    out[k] = out[end]
    return out


def _antecedent(description: str, text: str, last_person: str | None, last_source: str | None) -> str:
    """Who a description stands for ("the Labour leader", "the paper", "the company's website",
    "a statement from the airline"), from the article ``text`` up to its sentence: the name the
    text gives with that noun ("Labour leader Keir Starmer", "Merritt Wallick, a former
    expatriate"), else the last person or the last outlet quoted for a person's or an outlet's
    noun; a description with neither stays as it is ("grocers", "the committee")."""
    phrase = description
    author = re.search(rf"\b(?:from|by|of)\s+((?:the\s+)?{_NAME}|the\s+[a-z]+)\s*$", phrase)
    words = phrase.split()
    head_at = next((i for i, w in enumerate(words) if w in ("from", "by", "of")), len(words))
    head = words[head_at - 1].lower() if head_at else ""
    if author and head in _DOCUMENT_HEADS:  # "a statement from the airline": the airline speaks
        phrase = description = author.group(1)
        if phrase[:1].isupper() or re.match(r"the\s+[A-Z]", phrase):
            return _clean_name(phrase) or description
    owner = re.match(r"^((?:the\s+)?[\w\-]+)[’']s\s+(\w+)$", phrase)
    if owner and owner.group(2).lower() in _DOCUMENT_HEADS:  # "the company's website"
        phrase = owner.group(1)
        if phrase[:1].isupper():
            return phrase
    if not re.match(r"the\s", phrase):
        return description  # indefinite: a new speaker ("a father in the camp", "grocers")
    head = phrase.split()[-1].lower()
    if head.endswith("s") and not head.endswith("ss"):
        return description  # "the three comedians": several people, not the one named last
    noun = re.escape(head)
    if head in _DOCUMENT_HEADS:  # "the report": the one "from the Caribbean Disaster Emergency Management Agency"
        authors = list(re.finditer(rf"\b(?i:{noun})s?\b([^.;“”\"]{{0,40}}?)\b(?:from|by)\s+(?:the\s+)?({_NAME})", text))
        for match in reversed(authors):
            if re.search(r"\b(?:obtained|seen|reviewed|cited|quoted|reported)\s+$", match.group(1)):
                continue  # "the lawsuit obtained by NBC News": NBC did not write it
            name = _clean_name(_to_full_stop(match.group(2)))
            if name:
                return name
        if head == "statement" and phrase == "the statement" and last_source and not is_unnamed(last_source):
            return last_source  # "the statement read": the organisation last quoted
        return description
    named = []
    if head in _PERSON_HEADS | _SOURCE_HEADS:  # "Labour leader Keir Starmer", "news site Gizmodo", "Gov. Ron DeSantis"
        short = _TITLE_ABBREVIATIONS.get(head)
        noun = rf"(?:{noun}|{re.escape(short)})" if short else noun
        named = [m for m in re.finditer(rf"\b(?i:{noun})\s+({_NAME})", text)]
    named += [m for m in re.finditer(rf"({_NAME}),\s+(?:a|an|the)\s+(?:[\w\-’']+\s+){{0,3}}?(?i:{noun})\b", text)]
    for match in sorted(named, key=lambda m: -m.start()):
        name = _clean_name(_to_full_stop(match.group(1)))
        if name and (head not in _PERSON_HEADS or _personal(text, name)):
            return name
    if head in _PERSON_HEADS and last_person:
        return last_person
    bare = all(w in _GENERIC for w in phrase.split()[1:-1])
    if head in _SOURCE_HEADS and last_source and bare:
        return last_source  # "the paper", "the news site"; not "the i news site", a site of its own
    return description


def _label_key(label: str) -> str:
    return label.split()[-1].lower()


def _transcript_labels(
    sentences: Sequence[str], paragraph_starts: Sequence[bool], named: frozenset[str]
) -> dict[str, str | None]:
    """The speakers of an interview transcript ("CNN: ...?", "Dr. David Hill: ...", "Hill: ..."):
    names that open two paragraphs or more with a colon, each with its fullest form (``named``:
    the words the article capitalises inside sentences)."""
    seen: dict[str, list[str]] = {}
    asking: dict[str, int] = {}  # how many of a label's paragraphs end with a question
    key = None
    for i, (text, new_par) in enumerate(zip(sentences, paragraph_starts)):
        label = _LABEL.match(text.strip()) if new_par else None
        if new_par:
            key = None
        if label and not _function_word(label.group(1).split()[0]) and label.group(1).lower() not in _NOT_NAMES:
            key = _label_key(label.group(1))
            seen.setdefault(key, []).append(label.group(1))
        last = i + 1 == len(sentences) or paragraph_starts[i + 1]
        if key and last and text.strip().endswith("?"):
            asking[key] = asking.get(key, 0) + 1
    labels: dict[str, str | None] = {}
    for key, forms in seen.items():
        if len(forms) < 2:
            continue
        if asking.get(key, 0) * 2 > len(forms):
            labels[key] = None  # the interviewer: questions are not quotes
        elif forms[0].split()[-1] in named:  # a name the article uses ("Hill"), not "SOURCE:" or "UPDATE:"
            labels[key] = _clean_name(max(forms, key=len)) or max(forms, key=len)
    return labels


def _given_name_before(surname: str, earlier: Sequence[str]) -> bool:
    """Whether the sentences before wrote ``surname`` after a capitalised word ("Ben Abo")."""
    for text in earlier:
        at = text.find(" " + surname)
        while at > 0:
            word = text[:at].split()[-1] if text[:at].split() else ""
            end = at + 1 + len(surname)
            if word[:1].isupper() and (end == len(text) or not text[end].isalnum()):
                return True
            at = text.find(" " + surname, at + 1)
    return False


def _capitalised_inside(sentences: Sequence[str]) -> frozenset[str]:
    """Words an article writes capitalised somewhere other than at a sentence's start: its names."""
    found = set()
    for text in sentences:
        for m in re.finditer(r"(?<=[\w,;:’'\-)] )([A-Z][\w’'\-]*)", text):
            found.add(m.group(1))
    return frozenset(found)


def _as_named(speaker: str | None, sentence: str, named: frozenset[str]) -> str | None:
    """``speaker`` without leading words that the article capitalises only where a sentence
    starts ("Sometimes", "Announcing", "Landslides"): those are not names, unless the speech verb
    follows them right away ("Dymov warned:")."""
    if not speaker or speaker in ("he", "she", "they"):
        return speaker
    tokens = speaker.split()
    start = sentence.lstrip(_OPEN)
    while tokens and tokens[0] not in named and start.startswith(tokens[0]):
        joined = " ".join(tokens)
        if start.startswith(joined) and _VERB_AFTER.match(start, len(joined)):
            break  # "Dymov warned:": a name right before its speech verb
        tokens.pop(0)
    return " ".join(tokens) if tokens else None
