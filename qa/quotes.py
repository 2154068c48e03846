"""Who said what: attribute each sentence of an article to a speaker when the text says so.

Rules of news English, applied sentence by sentence in article order:

* ``NAME <speech verb>`` ("Lavrov stated that ...", "Kremlin spokesperson Dmitry Peskov
  downplayed ...") and ``<speech verb> NAME`` ("said Peskov", "according to TASS");
* ``"...," he/NAME/the ROLE <verb>`` after a quotation;
* a pronoun speaker ("he remarked") resolves to the last named speaker or subject;
* a line ending in a colon that names a speaker ("Dymov warned:") hands that speaker
  to the quotation paragraphs that follow, until another speaker is named.

The result is stored on passages as ``Quote`` records, one per
attributed sentence, with ``direct`` set when the sentence holds quotation marks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexical import STOPWORDS

__all__ = ["ATTRIBUTION_VERSION", "attribute_sentences", "sentence_speaker"]

#: Bump when the rules change: indexes made with other rules are rebuilt.
#: 7: a subject's name, not a place after it; appositions and relative clauses skipped; "reported";
#: "according to the X"; organisations and titles never stand for "he"/"she".
ATTRIBUTION_VERSION = 7

_VERB = (
    r"(?:said|says|say|stated|states|told|tells|noted|notes|remarked|remarks|added|adds|warned|warns"
    r"|emphasi[sz]ed|emphasi[sz]es|stressed|stresses|claimed|claims|announced|announces|argued|argues"
    r"|insisted|insists|confirmed|confirms|explained|explains|asked|asks|replied|replies|wrote|writes"
    r"|declared|declares|suggested|suggests|acknowledged|acknowledges|admitted|admits|denied|denies"
    r"|downplayed|downplays|characteri[sz]ed|characteri[sz]es|described|describes|expressed|expresses"
    r"|urged|urges|concluded|concludes|reaffirmed|reaffirms|referenced|references|indicated|indicates"
    r"|mentioned|mentions|commented|comments|believes|believed|thinks|predicted|predicts|pledged|vowed"
    r"|accused|accuses|dismissed|dismisses|reiterated|reiterates|cautioned|cautions|tweeted|posted"
    r"|addressed|addresses|was\s+quoted|was\s+blunt|responded|responds|recalled|recalls|assured|assures"
    r"|complained|complains|signaled|signalled|signals|hinted|hints|called|calls|frames|framed|portrays|portrayed"
    r"|reported|reports|considers|considered|regards|regarded|sees|views|viewed|made\s+(?:\w+\s+)?(?:statements?|remarks?|comments?))"
)
_VERB_RE = re.compile(rf"\b{_VERB}\b")
_AUXILIARY = re.compile(
    r"(?:\s+(?:has|have|had|did|does|will|would|not|never|also|now|then|later|once|repeatedly|publicly|recently|"
    r"reportedly|again|already|further|initially|previously|earlier|today|yesterday|firmly|clearly))+\s*$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(he|she|they)\b(?:\s+\w+ly)?\s*$", re.IGNORECASE)
#: Lower-case words inside names ("Mohammed bin Salman", "Ursula von der Leyen").
_PARTICLES = ("al-", "bin", "von", "van", "de", "der")
_NAME_TOKEN = rf"(?:[A-Z\u00C0-\u024F][\w\u00C0-\u024F’'.\-]*|{'|'.join(_PARTICLES)}|of|the)"
_NAME_SEQ = re.compile(rf"(?<![\w’'])[A-Z\u00C0-\u024F][\w\u00C0-\u024F’'.\-]*(?:\s+{_NAME_TOKEN})*")
_OPEN = '“"«‘'
_CLOSE = '”"»’'

#: Titles and descriptors stripped from the left of a speaker's name.
_TITLES = {
    "staff",  # "Chief of Staff Don Stewart"
    "president",
    "prime",
    "minister",
    "foreign",
    "defense",
    "defence",
    "secretary",
    "deputy",
    "chief",
    "general",
    "senator",
    "sen.",
    "rep.",
    "gov.",
    "governor",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "director",
    "chancellor",
    "ambassador",
    "envoy",
    "adviser",
    "advisor",
    "aide",
    "presidential",
    "former",
    "retired",
    "kremlin",
    "russian",
    "ukrainian",
    "u.s.",
    "us",
    "american",
    "turkish",
    "french",
    "german",
    "british",
    "european",
    "state",
    "analyst",
    "political",
    "correspondent",
    "commander",
    "head",
    "leader",
    "official",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "republican",
    "democratic",
    "democrat",
    "negotiator",
    "mayor",
    "king",
    "queen",
    "pope",
    "lt.",
    "col.",
    "gen.",
    "of",
    "the",
    "and",
}
#: Capitalised words that open sentences but are not speakers.
_NOT_NAMES = {
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "as",
    "for",
    "but",
    "and",
    "however",
    "earlier",
    "later",
    "meanwhile",
    "nevertheless",
    "ahead",
    "after",
    "before",
    "since",
    "when",
    "while",
    "despite",
    "according",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "we",
    "i",
    "you",
    "our",
    "their",
    "his",
    "her",
    "there",
    "then",
    "thus",
    "yet",
    "so",
    "if",
    "both",
    "several",
    "many",
    "some",
    "among",
    "with",
    "without",
    "during",
    "under",
    "over",
    "from",
    "by",
    "to",
    "of",
    "now",
    "today",
    "still",
    "also",
    "even",
    "only",
    "first",
    "second",
    "third",
    "last",
    "next",
    "overall",
    "notably",
    "such",
    "what",
    "who",
    "where",
    "why",
    "how",
    "which",
    "amidst",
    "amid",
    "looking",
    "until",
    "back",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}


def _function_word(token: str) -> bool:
    """A pronoun, determiner or other function word written with a capital at a sentence start."""
    word = token.lower().strip(".,;:")
    return word in STOPWORDS or word in _INDEFINITE


#: Sentence openers that are not names and not in the stopword list.
_INDEFINITE = frozenset("one someone everyone anyone nobody everybody somebody many several".split())


def _clean_name(candidate: str) -> str | None:
    """Strip titles and trailing punctuation from a capitalised run; None if nothing is left."""
    tokens = candidate.replace("’s", "").replace("'s", "").split()
    while tokens and (tokens[-1].lower() in {"of", "the", "and"} or tokens[-1].lower() in _PARTICLES):
        tokens.pop()
    while tokens and (tokens[0].lower() in _TITLES or tokens[0].lower() in _NOT_NAMES or _function_word(tokens[0])):
        tokens.pop(0)
    name = " ".join(tokens).strip(" ,.;:")
    if not name or not name[0].isupper():
        return None
    return name


#: Nouns that make a role a speaker ("a Russian diplomat", "according to an official"), singular or plural.
_ROLE_NOUN = r"(?:official|source|diplomat|spokes\w+|analyst|expert|correspondent|minister|negotiator)s?"
_BARE_ROLE = re.compile(
    rf"^\s*((?:[A-Z][\w.\-]*\s+){{1,3}}(?:{_ROLE_NOUN}|ministry|leaders?|delegation|media|authorities|side))\s*$"
)


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


_PREPOSITION = re.compile(r"\b(?:in|at|from|for|with|on|near|by|of|outside|inside)\b", re.IGNORECASE)


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
        if _PREPOSITION.search(gap) or re.search(r"[,;:()]", gap):
            break
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


def _speaker_before(clause: str) -> str | None:
    """The speaker named just before a speech verb, or the pronoun standing for it."""
    clause = clause.split("”")[-1].split("“")[-1]
    pronoun = _PRONOUN.search(clause)
    if pronoun:
        return pronoun.group(1).lower()
    window = _AUXILIARY.sub("", re.split(r"[;:—–]", clause)[-1])
    parts = [p for p in window.split(",") if p.strip()]
    if not parts:
        return None
    head, tail = parts[0].strip(), parts[-1].strip()
    if len(parts) > 1 and _bare_name(head) and re.search(r"\b[a-z]", tail):
        return _subject_name(head)  # "Satyendra Prasad, Fiji's ambassador to the United Nations, said"
    tail_names = _names_in(tail)
    if tail_names and (tail[:1].isupper() or re.match(r"the\s+[A-Z]", tail)):
        return _subject_name(tail)  # "Kremlin spokesperson Dmitry Peskov", "the UN Secretary General António Guterres"
    if len(parts) > 1 and tail[:1].islower():  # "Trump, currently on a tour of the Middle East, expressed"
        head_names = _names_in(head)
        if head_names and head[:1].isupper() and not _function_word(head.split()[0]):
            return _subject_name(head)  # "Former NBC sportscaster Bob Costas, who has covered ..., says"
    return _role(tail) or (tail_names[-1] if tail_names else None)


def _speaker_after(rest: str) -> str | None:
    """The speaker named right after a speech verb: "said Peskov", "told The Guardian" (none). A
    description before the name is skipped: "said Paix Bouche native Emerline Anselm" names
    Emerline Anselm, the last capitalised run of the phrase (up to its comma or full stop)."""
    match = re.match(r"\s+((?:[A-Z][\w’'.\-]*\s*){1,4})", rest)
    if not match:
        return None
    phrase = re.match(r"\s+([^,;:.!?“”\"]{0,80})", rest)
    runs = re.findall(r"(?:[A-Z][\w’'\-]*\s+)*[A-Z][\w’'\-]*", phrase.group(1)) if phrase else []
    if len(runs) > 1 and len(runs[-1].split()) >= 2:
        return _clean_name(runs[-1])
    return _clean_name(match.group(1))


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


def sentence_speaker(sentence: str, *, inside: bool = False, nested: bool = False) -> str | None:
    """The speaker a sentence names (a name, a role, or a pronoun), or None.

    Verbs inside quotation marks and passive forms ("was mentioned") do not count, unless
    ``nested`` asks for speakers that a quotation itself reports ("Trump recently claimed
    ..." inside Dymov's words); ``inside`` says the sentence starts within a quotation.
    """
    mask = [False] * len(sentence) if nested else _quoted_mask(sentence, inside)
    for match in _VERB_RE.finditer(sentence):
        if mask[match.start()]:
            continue
        before = sentence[: match.start()]
        if re.search(r"\b(?:was|were|been|being|is|are|be)\s+(?:\w+ly\s+)?$", before) and "quoted" not in match.group(
            0
        ):
            continue  # passive: "was mentioned"
        speaker = _speaker_before(before)
        inverted = before.rstrip().endswith((",", "”", '"')) or not before.strip()
        if speaker is None and inverted and re.match(r"\s+[A-Z]", sentence[match.end() :]):
            speaker = _speaker_after(sentence[match.end() :])
        if speaker:
            return speaker
    if inside and all(mask):
        return None
    according = re.search(r"\baccording to\s+(?:the\s+)?((?:[A-Z][\w’'.\-]*\s*){1,4})", sentence)
    if according:
        return _clean_name(according.group(1))
    according = re.search(
        rf"\baccording to\s+(?:a|an|the)\s+((?:[\w’'.\-]+\s+){{0,3}}?{_ROLE_NOUN})\b",
        sentence,
    )
    if according:
        return according.group(1)
    return None


#: Words that make a name an organisation's or a work's, never what "he" or "she" stands for.
_NOT_A_PERSON = frozenset(
    "organization organisation institute programme program club party association agency department ministry "
    "council committee commission company corporation inc ltd university college school times post news journal "
    "fund bank foundation society union league service services group network office court board center centre "
    "museum church games prize award awards cup championship festival act bill report list".split()
)


def _personal(sentence: str, name: str) -> bool:
    """Whether ``name`` may be a person: not an acronym, an organisation or a title ("The Casual Vacancy")."""
    tokens = name.replace("-", " ").split()
    if any(t.lower().strip(".,’'") in _NOT_A_PERSON for t in tokens) or (name.isupper() and len(name) > 1):
        return False
    at = sentence.find(name)
    return not (at >= 4 and sentence[max(0, at - 4) : at] == "The ")


def _person(sentence: str, speaker: str | None) -> str | None:
    """Who a later "he"/"she" most likely means: the speaker, a full name, or the subject."""
    if speaker and speaker not in ("he", "she", "they"):
        return speaker if _personal(sentence, speaker) else None
    names = _names_in(sentence)
    full = [n for n in names if len(n.split()) >= 2 and not _mask_at(sentence, n) and _personal(sentence, n)]
    if full:
        return full[-1]
    return _subject(sentence)


def _mask_at(sentence: str, name: str) -> bool:
    at = sentence.find(name)
    return at >= 0 and _quoted_mask(sentence)[at]


def _subject(sentence: str) -> str | None:
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
    out: list[str | None] = []
    last_person: str | None = None
    carrier: str | None = None  # the speaker the narration last named, for quotations that follow
    in_quote = False
    opened: list[bool] = []  # the sentence leaves a quotation open
    within: list[bool] = []  # the sentence starts inside a quotation opened before it
    named: list[bool] = []  # the sentence names its own speaker
    for text, new_par in zip(sentences, paragraph_starts):
        stripped = text.strip()
        continuing = in_quote
        opens_quote = stripped[:1] in _OPEN
        if new_par and not opens_quote and not continuing:
            carrier = None
        speaker = _as_named(sentence_speaker(stripped, inside=continuing), stripped, named_inside)
        named.append(speaker is not None)
        within.append(continuing)
        if speaker in ("he", "she", "they"):
            speaker = last_person
        if speaker is None and continuing and out:
            speaker = out[-1]  # the quotation goes on
        elif speaker is None and opens_quote:
            speaker = carrier if new_par else (out[-1] if out and out[-1] else carrier)
        if speaker and ((not opens_quote and not continuing) or (continuing and named[-1])):
            carrier = speaker  # narration naming someone, or a quotation closed with "..., Peskov said"
        out.append(speaker)
        last_person = _person(stripped, speaker) or last_person
        in_quote = _inside_quote_after(stripped, in_quote)
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
        if re.match(rf"{re.escape(' '.join(tokens))}\s+{_VERB}\b", start):
            break  # "Dymov warned:": a name right before its speech verb
        tokens.pop(0)
    return " ".join(tokens) if tokens else None


def _inside_quote_after(sentence: str, inside: bool) -> bool:
    for ch in sentence:
        if ch in "“«":
            inside = True
        elif ch in "”»":
            inside = False
        elif ch == '"':
            inside = not inside
    return inside
