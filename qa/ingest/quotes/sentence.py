"""The speaker one sentence names: a verb of speech with its subject, an inverted or closing
attribution, "according to", or speech joined to a clause."""

from __future__ import annotations

import re

from ...lexical import STOPWORDS
from .lexicon import (
    _ADVERBIAL,
    _AFTER_PREPOSITION,
    _APPOSITIVE,
    _AS_PARTICIPLE,
    _AUX_OR_PAST,
    _AUXILIARY,
    _BASE_FORM,
    _CORE_VERB,
    _CORE_VERB_RE,
    _DETERMINER,
    _DOCUMENT_HEADS,
    _FINITE,
    _GROUPS,
    _INVERTS,
    _JOINED_SPEECH,
    _LEADING_NAME,
    _LOOSE_VERB,
    _MODIFIED,
    _MODIFIER_BEFORE,
    _NAME,
    _NOT_NAMES,
    _NOUN_BEFORE,
    _NOUN_FORM,
    _OBJECT_NAME_AT_END,
    _OPENER,
    _OPENING_CLAUSE,
    _OWNED,
    _PARTICIPLE,
    _PERSON_HEADS,
    _PHRASE_END,
    _PRONOUN,
    _RELATIVE_AFTER_NAME,
    _SOURCE_HEADS,
    _SUBORDINATOR,
    _TITLES,
    _VERB_RE,
)
from .phrases import (
    _bare_name,
    _clean_name,
    _description,
    _function_word,
    _names_in,
    _personal,
    _plural,
    _quoted_mask,
    _role,
    _subject_name,
    _to_full_stop,
)


def _speaker_before(clause: str, *, core: bool = True) -> str | None:
    """The speaker named just before a speech verb, or the pronoun standing for it; ``core``:
    the verb is one only speakers do ("said", not "calls"), so a common noun may be its speaker."""
    clause = re.split(r"[,.!?…—–-][”\"’]|[”\"]\s*,|:\s*[“\"]", clause)[-1]  # after a quotation, not a quoted title
    pronoun = _PRONOUN.search(clause)
    if pronoun:
        return pronoun.group(1).lower()
    relative = _RELATIVE_AFTER_NAME.search(clause)
    if relative:  # "an investigation by the Los Angeles Times, which revealed"
        return _clean_name(relative.group(1))
    clause = re.sub(r"\s(?:—|–|--)\s[^—–]*?\s(?:—|–|--)\s", " ", clause)  # "Hy-Vee, ... — Illinois, Iowa — said"
    window = _AUXILIARY.sub("", re.split(r"[;:—–]|--", clause)[-1])
    parts = [p for p in window.split(",") if p.strip()]
    if not parts:
        return None
    if len(parts) > 1 and re.fullmatch(r"[RDI]-[A-Z][\w.]*", parts[-1].strip()):
        parts = parts[:-1]  # "Rep. Jesus Garcia, D-Illinois, said"
    head, tail = parts[0].strip(), parts[-1].strip()
    if len(parts) > 1 and _ADVERBIAL.match(tail):
        tail = parts[-2].strip()  # "A CNN poll conducted in February, just before the invasion, found"
    last_clause = _SUBORDINATOR.split(tail)[-1].strip()
    if (
        last_clause
        and last_clause != tail
        and len(last_clause.split()) <= 6
        and not re.match(r"(?:who|which|whose|that)\b", tail)
        and (_description(last_clause) or re.fullmatch(rf"(?:the\s+|an?\s+)?{_NAME}", last_clause))
    ):
        tail = last_clause  # "Sunak faces a defeat after a House of Commons committee said"
    middle = parts[-2].strip() if len(parts) > 2 else ""
    single = re.fullmatch(r"[A-Z][\w’'\-]+", middle) and not _function_word(middle) and middle.lower() not in _NOT_NAMES
    appositive = _APPOSITIVE.match(tail) or _OBJECT_NAME_AT_END.search(tail)
    if middle and appositive and (_bare_name(middle) or single):
        return _subject_name(middle)  # "..., Larry Summers, Treasury secretary under Obama, said"
    relative = re.match(r"(.+?)\s+(?:that|who|which)\s+\S.*$", tail)
    if relative and len(relative.group(1).split()) <= 5:
        tail = relative.group(1)  # "The retail company that introduced millions of Americans to ... said"
    role = re.fullmatch(r"(?:the|The)\s+([A-Z][a-z]+)", tail)
    if role and role.group(1).lower() in _PERSON_HEADS:
        tail = f"the {role.group(1).lower()}"  # "The President has told advisers": a description to resolve
    modified = _MODIFIED.match(tail)
    if modified and (modified.group(1).split()[-1].islower() or modified.group(1).lower() in _DOCUMENT_HEADS):
        author = _LEADING_NAME.match(modified.group(3))
        if modified.group(2) in ("released", "published", "filed", "issued") and author:
            return _clean_name(author.group(1))  # "Official figures released by Customs and Border Protection show"
        tail = modified.group(1)  # "the lawsuit obtained by NBC News states": the lawsuit speaks
    if len(parts) > 1 and _bare_name(head) and re.search(r"\b[a-z]", tail):
        return _subject_name(head)  # "Satyendra Prasad, Fiji's ambassador to the United Nations, said"
    described = _description(tail) if tail.split()[-1][:1].islower() else None
    head_names = _names_in(head)
    if len(parts) > 1 and head_names and re.match(r"(?:the|a|an)\s", tail) and not _names_in(head[1:])[1:]:
        named = head_names[0]
        opener = re.sub(r"^(?:But|And|Yet|So|Now|Still)\s+", "", head)
        if head.endswith(named) and opener.startswith(named.split()[0]) and _personal(head, named):
            return named  # "But Holsether, the CEO of Yara, said"
    if described and len(parts) > 1 and head_names and _bare_name(head):
        return _subject_name(head)  # "Bill Franke, chair of Frontier's board, Frontier's majority shareholder, said"
    if described and (core or described.split()[-1] in _PERSON_HEADS | _SOURCE_HEADS | _DOCUMENT_HEADS):
        if described.startswith("the "):
            return described  # "the Labour leader added", "the suit claims": resolved in its article
        return _role(tail) or described  # "grocers said", "a Russian diplomat stated"
    tail_names = _names_in(tail)
    if tail_names and (tail[:1].isupper() or re.match(r"the\s+[A-Z]", tail)):
        return _subject_name(tail)  # "Kremlin spokesperson Dmitry Peskov", "the UN Secretary General António Guterres"
    # "Trump, currently on a tour of the Middle East, expressed"; "Former NBC sportscaster Bob Costas, who ..., says"
    named_head = head_names and head[:1].isupper() and not _function_word(head.split()[0])
    if len(parts) > 1 and tail[:1].islower() and named_head:
        return _subject_name(head)
    return _role(tail) or (tail_names[-1] if tail_names else None)


def _speaker_after(rest: str) -> str | None:
    """The speaker named right after a speech verb: "said Peskov", "told The Guardian" (none). A
    description before the name is skipped: "said Paix Bouche native Emerline Anselm" and "said
    shopper Kathy Hinkle" name the last capitalised run of the phrase (up to its comma, full stop
    or a preposition: "said David Hytner in The Guardian"). "said the BBC" names the BBC, and
    "said the paper" gives the description, for :func:`attribute_sentences` to resolve."""
    phrase = re.match(r"\s+([^,;:!?“”\"()]{0,80})", rest)
    if not phrase:
        return None
    words = whole = _to_full_stop(phrase.group(1))
    complement = re.match(rf"(?:the\s+)?{_NAME}\s+(\w+)", words)
    if complement and complement.group(1).islower() and _AUX_OR_PAST.fullmatch(complement.group(1)):
        return None  # "said Harris was particularly interested": Harris is what was said, not who said it
    for cut in _PHRASE_END.finditer(words):
        before = words[: cut.start()].split()
        if cut.group(0).strip() == "of" and before and before[-1].lower() in _TITLES:
            continue  # "Chief of Staff Don Stewart", "Secretary of State Antony Blinken"
        if cut.start() > 0:
            words = words[: cut.start()]
            break
    words = words.strip(" .")
    runs = re.findall(r"(?:[A-Z][\w’'.\-]*\s+)*[A-Z][\w’'\-]*", words)
    if not runs:  # "said the paper," but not "said the cost and availability of housing was"
        return _description(words, after=True) if words == whole.strip(" .") else None
    if words[:1].isupper():
        if len(runs) > 1 and len(runs[-1].split()) >= 2:
            return _clean_name(runs[-1])
        return _clean_name(runs[0])
    if re.match(r"(?:the|a|an)\s", words) and words.endswith(runs[-1]):
        return _clean_name(runs[-1])  # "said the BBC", "reports the Evening Standard"
    described = words[: len(words) - len(runs[-1])].split()
    if (
        words.endswith(runs[-1])
        and 1 <= len(described) <= 5
        and all(re.fullmatch(r"[a-z][\w\-]*", w) for w in described)
        and not any((w in STOPWORDS and w != "and") or _VERB_RE.fullmatch(w) for w in described)
    ):
        return _clean_name(runs[-1])  # "said shopper Kathy Hinkle", "said pediatrician Dr. David Hill"
    return None


def sentence_speaker(sentence: str, *, inside: bool = False, nested: bool = False) -> str | None:
    """The speaker a sentence names (a name, a role, a description or a pronoun), or None.

    Verbs inside quotation marks and passive forms ("was mentioned") do not count, unless
    ``nested`` asks for speakers that a quotation itself reports ("Trump recently claimed
    ..." inside Dymov's words); ``inside`` says the sentence starts within a quotation.
    """
    speaker = _sentence_speaker(sentence, inside=inside, nested=nested)
    if speaker and speaker.lower() in _GROUPS:
        return speaker.lower()  # "Authorities said": a description, capitalised only as the sentence opens
    return speaker


def _sentence_speaker(sentence: str, *, inside: bool, nested: bool) -> str | None:
    mask = [False] * len(sentence) if nested else _quoted_mask(sentence, inside)
    trailing = _trailing_attribution(sentence, mask)
    if trailing:
        return trailing
    for match in _VERB_RE.finditer(sentence):
        if mask[match.start()]:
            continue
        before = sentence[: match.start()]
        if re.search(r"\b(?:was|were|been|being|is|are|be)\s+(?:\w+ly\s+)?$", before) and "quoted" not in match.group(
            0
        ):
            continue  # passive: "was mentioned"
        comma = sentence.find(",", match.end())
        if _OPENING_CLAUSE.match(before) and comma > 0 and _VERB_RE.search(sentence, comma):
            continue  # "Just days after Waffle House announced ..., Cracker Barrel announced": the main clause
        if _NOUN_FORM.fullmatch(match.group(0)) and (_NOUN_BEFORE.search(before) or _AFTER_PREPOSITION.search(before)):
            continue  # "Trump's false claims", "the reports": a noun
        after = sentence[match.end() :]
        if (
            _MODIFIER_BEFORE.search(before)
            or re.match(r"\s+by\b", after)
            or (re.match(r"\s+as\b", after) and _AS_PARTICIPLE.fullmatch(match.group(0)))
        ):  # "regarded as a companion"
            continue  # "over alleged garden parties", "the suspension recommended by the committee"
        # "..., said Peskov", "“...,” said Peskov", "So says Madonna"
        inverted = before.rstrip().endswith((",", "”", '"')) or before.strip() in ("", "So", "Thus")
        if (
            inverted
            and _INVERTS.fullmatch(match.group(0))
            and re.match(r"\s+(?:[A-Z]|the\s|an?\s|(?:[a-z][\w\-]*\s+){1,4}[A-Z])", after)
            and not _PRONOUN.search(before)
        ):
            speaker = _speaker_after(after)  # "..., said Tom Coleman", "..., reports the Evening Standard"
            if speaker:
                return speaker
        speaker = _speaker_before(before, core=bool(_CORE_VERB.fullmatch(match.group(0))))
        owner = _OWNED.match(speaker or "")
        if owner and owner.group(2).lower() in _DOCUMENT_HEADS:
            speaker = _clean_name(owner.group(1)) or speaker  # "Gatto’s statement continued"
        if speaker and _BASE_FORM.fullmatch(match.group(0)) and not _plural(speaker):
            continue  # "officials warn", "they add"; not "Read this and tell me", "Moe's first estimate"
        if speaker and _LOOSE_VERB.fullmatch(match.group(0)) and not _speech_use(match.group(0), before, after):
            continue
        if speaker and speaker[:1].islower() and speaker not in ("he", "she", "they") and _PARTICIPLE.match(after):
            continue  # "The cases reported in Arizona are ...": a participle, not a speech verb
        if speaker:
            return speaker
    if inside and all(mask):
        return None
    for joined in _JOINED_SPEECH.finditer(sentence):
        if not mask[joined.start()]:
            subject = _clause_subject(sentence[: joined.start()])
            if subject:
                return subject  # "Bullard dissented, saying ...", "Authorities will allow ... but said ..."
    for according in re.finditer(r"\b[Aa]ccording to\s+", sentence):
        if not mask[according.start()]:
            return _according(sentence[according.end() :])
    per = re.search(rf",\s+per\s+(?:the\s+)?({_NAME})[.;]?\s*$", sentence)
    if per and not mask[per.start()]:
        return _clean_name(per.group(1))  # "..., per the Bureau of Labor Statistics."
    return None


def _speech_use(verb: str, before: str, after: str) -> bool:
    """Whether a verb of :data:`_LOOSE_VERB` reports speech, from the words ``before`` and ``after`` it."""
    if verb.startswith("continue"):
        return bool(re.match(r"\s*(?:[,.:;”\"]|$|\s+that\b)", after))
    if verb.startswith("add"):  # "he added that", "she added:", not "added a $1 surcharge"
        return not re.match(r"\s+(?:a|an|the|its|his|her|their|another|more|new|to|\$|\d)\b", after)
    if verb in ("shared", "read", "reads"):  # "..., Nouchi shared.", "the statement read"; not "shared a photo"
        return bool(re.match(r"\s*(?:[,.:;”\"]|$)", after)) and (verb == "shared" or _document_subject(before, 4))
    if verb == "states":  # "the lawsuit states:", not "Eleven states have"
        return bool(re.match(r"\s*(?:[,.:;”“\"]|$|\s+that\b)", after))
    if re.match(r"\s+that\b", after):
        return True
    if verb == "found" and re.match(r"\s*[.;]?\s*$", after):
        return True  # "..., Pew found."
    return verb.startswith(("show", "found", "find")) and _document_subject(before, 8)


def _document_subject(before: str, reach: int) -> bool:
    """Whether one of the last ``reach`` words of the clause before a verb is a document's noun."""
    subject = re.split(r"[,;:—–]", before)[-1].split()
    return any(w.lower().strip(".,’'") in _DOCUMENT_HEADS for w in subject[-reach:])


def _trailing_attribution(sentence: str, mask: list[bool]) -> str | None:
    """The speaker of an attribution that closes a sentence ("Polls suggest Labour could win, the
    news site added."): it names who reports everything before it, whatever verbs that holds."""
    last = None
    for match in _CORE_VERB_RE.finditer(sentence):
        last = match
    if last is None or mask[last.start()]:
        return None
    before, after = sentence[: last.start()], sentence[last.end() :]
    if len(after.split()) > 6 or re.search(r"[,;:“\"]", after) or not _INVERTS.fullmatch(last.group(0)):
        return None
    short = re.search(r"[,”\"]\s*((?:[\w’'.\-]+\s+){1,5})$", before)
    if not short or _PRONOUN.search(short.group(1)):
        return None
    phrase = short.group(1).strip()
    described = _description(phrase)
    if described and described.startswith("the "):
        return described  # "the news site added"
    name = _LEADING_NAME.fullmatch(phrase)
    return _subject_name(phrase) if name else None


def _clause_subject(clause: str) -> str | None:
    """The subject of a clause, up to its first finite verb, when it is a name, a pronoun or a
    description: "St. Louis Fed bank chief James Bullard (dissented ...)", "Authorities (will ...)"."""
    clause = _OPENER.sub("", clause.strip(), count=1)
    if re.search(r"[“”\"]", clause):
        return None
    words = clause.split()
    if not words or not (words[0][:1].isupper() or re.fullmatch(_DETERMINER, words[0], re.IGNORECASE)):
        return None
    for i, word in enumerate(words[:9]):
        plural_noun = word.endswith("s") and not words[i - 1][:1].isupper()  # "days", not "Biden says"
        if i and word.islower() and _FINITE.fullmatch(word) and not plural_noun:
            phrase = " ".join(words[:i])
            break
    else:
        return None
    phrase = _AUXILIARY.sub("", phrase).strip()  # "Public health experts also (slammed ...)"
    if not phrase:
        return None
    if re.fullmatch(r"(?i:he|she|they)", phrase):
        return phrase.lower()
    if phrase.split()[0].lower() in _GROUPS:
        return _description(phrase)  # "Authorities will let ... but said"
    if phrase[:1].isupper() and _names_in(phrase) and not phrase.split()[-1].islower():
        return _subject_name(phrase)
    return _description(phrase)


def _according(rest: str) -> str | None:
    """The source of "according to ...": a name ("TASS", "the Arizona Department of Health
    Services", "the CDEMA report"), the author of a document ("a study from Iowa State
    University", "data published by the US Department of Health"), or a description ("an
    official", "one company active in the market", "the report")."""
    phrase = _to_full_stop(re.split(r"[,;:!?“”\"()]", rest)[0]).strip()
    if not phrase:
        return None
    described = re.match(rf"(?:the\s+)?{_NAME}\s+((?:[a-z][\w\-]*\s+){{1,3}})({_NAME})\s*$", phrase)
    if described and not set(described.group(1).split()) & {"of", "for", "at", "in", "from", "with", "and", "on"}:
        return _clean_name(described.group(2))  # "according to LIV chief Greg Norman"
    name = _LEADING_NAME.match(phrase)
    if name:
        return _clean_name(re.split(_PHRASE_END, name.group(1))[0]) or None
    role = re.match(rf"((?:[a-z][\w\-]*\s+){{1,3}})({_NAME})\s*$", phrase)
    if role and not set(role.group(1).split()) & (STOPWORDS - {"and"}):
        return _clean_name(role.group(2))  # "according to police spokeswoman Sheila Miller"
    owned = re.match(r"((?:[\w\-]+\s+){0,3}?[\w\-]+)[’']s?\s+(\w+)$", phrase)
    if owned and owned.group(2).lower() in _DOCUMENT_HEADS and owned.group(1).lower() not in ("its", "their"):
        return _description(owned.group(1)) or _clean_name(owned.group(1))  # "emergency planners' estimates"
    if re.fullmatch(r"(?:its|their)\s+\w+", phrase) and phrase.split()[-1] in _DOCUMENT_HEADS:
        return "it"  # "according to its website": the organisation the sentence is about
    words = phrase.split()
    for i, word in enumerate(words[:6]):
        if word.lower().strip(".") in _DOCUMENT_HEADS:
            owner = [w for w in words[1:i] if w[:1].isupper() and not _function_word(w)]
            if owner:
                return _clean_name(" ".join(owner)) or None  # "a CDEMA report", "a NASA statement"
            author = re.search(
                rf"\b(?:from|by|of)\s+(?:the\s+)?(?:[a-z][\w\-]*\s+){{0,3}}({_NAME})", " ".join(words[i + 1 : i + 10])
            )
            if author:
                return _clean_name(author.group(1)) or None  # "a survey from market research company NPD Group"
            break
    cut = _PHRASE_END.search(" " + phrase)
    head = phrase[: cut.start() - 1] if cut and cut.start() > 1 else phrase
    found = _description(head, after=True) or _description(" ".join(head.split()[:4]), after=True)
    return found or (_description(head) if _plural(head) else None)  # "according to officials"
