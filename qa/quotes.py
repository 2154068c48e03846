"""Who said what: attribute each sentence of an article to a speaker when the text says so.

Rules of news English, applied sentence by sentence in article order:

* ``NAME <speech verb>`` ("Lavrov stated that ...", "Kremlin spokesperson Dmitry Peskov
  downplayed ...") and ``<speech verb> NAME`` ("said Peskov", "according to TASS");
* ``"...," he/NAME/the ROLE <verb>`` after a quotation;
* a pronoun speaker ("he remarked") resolves to the last named speaker or subject;
* a line ending in a colon that names a speaker ("Dymov warned:") hands that speaker
  to the quotation paragraphs that follow, until another speaker is named;
* a common noun may speak ("grocers said", "the committee said", "a new report shows"), and a
  definite description stands for the name the article gave it ("the Labour leader" for
  "Labour leader Keir Starmer", "the paper" for the outlet last quoted);
* a document speaks for its author ("according to a study from X", "figures released by X");
* speech joined to a clause belongs to its subject ("Bullard dissented, saying ...");
* quoted words later in a source's paragraph are still that source's;
* in an interview transcript ("CNN: ...?", "Hill: ..."), answers belong to the one answering.

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
#: 8: common-noun speakers ("grocers said", "the committee said") and descriptions resolved to the
#: name they stand for ("the Labour leader", "the paper"); "said X in The Guardian"; the speaker
#: after an inverted verb first; a source's quoted words go on through its paragraph.
#: 9: the clause subject of "..., saying" and "... but said"; plural speakers of plural verbs ("officials
#: warn"); "he"/"she" as the last subject before any name; straight quotes counted per paragraph;
#: interview transcripts; headlines and photo credits skipped.
#: 10: an attribution closing the sentence first; the main clause's verb after an opening subordinate
#: clause; the subject right before the verb; "it" and "its website" for the organisation written
#: about; "per X"; "the statement read"; "said Harris was ..." is what was said.
ATTRIBUTION_VERSION = 10

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
    r"|reported|reports|considers|considered|regards|regarded|sees|views|viewed|made\s+(?:\w+\s+)?(?:statements?|remarks?|comments?)"
    r"|revealed|reveals|alleged|alleges|estimated|estimates|recommended|recommends|threatened|threatens|critici[sz]ed"
    r"|critici[sz]es|exclaimed|lamented|laments|advised|advises|testified|testifies|conceded|concedes|contended"
    r"|contends|quipped|joked|boasted|continued|continues|found|finds|show|shows|showed|maintained|maintains"
    r"|warn|tell|note|add|claim|argue|insist|confirm|explain|write|suggest|acknowledge|admit|deny|predict|urge"
    r"|estimate|allege|contend|forecast|forecasts|observed|observes|shared|read|reads"
    r"|(?:released|issued|put\s+out)\s+a\s+statement)"
)
#: Verbs that report speech only in some uses: "Campbell-Johnston continues," but not "the rain
#: continued"; "the study found that" or "data show", but not "police found the body".
_LOOSE_VERB = re.compile(
    r"continued|continues|found|finds|show|shows|showed|maintained|maintains|states|added|adds|shared|read|reads"
)
_VERB_RE = re.compile(rf"\b{_VERB}\b")
#: Verb forms that are also plural nouns, and what marks them as nouns: "Trump's false claims".
_NOUN_FORM = re.compile(
    r"claims|reports|calls|comments|remarks|notes|views|statements|tweets|posts|warns|states|estimates|forecasts"
)
_NOUN_BEFORE = re.compile(
    r"(?:[’']s|s[’']|\b(?:the|a|an|his|her|their|its|our|my|your|these|those|such|any|no|false|new|recent|earlier|"
    r"repeated|unfounded|baseless|similar|further|several|many|other|all|both|two|three|four|five|six|seven|eight|"
    r"nine|ten|\d+))\s+(?:(?:false|new|recent|earlier|repeated|"
    r"unfounded|baseless|similar|further)\s+)?$|(?-i:\w[”\"]\s+$|\b[a-z]+ed\s+$)",
    re.IGNORECASE,
)
#: Verbs that come before their speaker after a quotation ("..., said Tom Coleman"); "told
#: Bloomberg" names the listener, so "told" is not one.
_INVERTS = re.compile(
    r"said|says|added|adds|wrote|writes|noted|notes|reported|reports|explained|explains|stated|states|argued"
    r"|argues|insisted|insists|declared|declares|concluded|concludes|recalled|recalls|replied|replies|continued"
    r"|continues|observed|observes|estimated|estimates|admitted|admits|announced|announces|claimed|claims"
    r"|remarked|remarks|commented|comments|suggested|suggests|predicted|predicts|asked|asks"
)
#: A sentence opening with a subordinate clause that is still open where the verb is.
_OPENING_CLAUSE = re.compile(
    r"(?:[\w’']+\s+){0,3}?(?:after|before|when|while|since|although|though|because|if|once|until|as)\s+[^,]*$",
    re.IGNORECASE,
)
_PARTICIPLE = re.compile(r"\s+(?:in|by|to|from|at|as|across|among)\b")
_AS_PARTICIPLE = re.compile(r"regarded|considered|viewed|described|characteri[sz]ed|portrayed|framed")
#: A word right before a verb form that makes it an adjective or a noun ("over alleged parties").
_MODIFIER_BEFORE = re.compile(
    r"\b(?:the|a|an|over|of|for|about|his|her|their|its|our|into|on|with|amid|most|more|less|least|widely|to)\s+$",
    re.I,
)
_AFTER_PREPOSITION = re.compile(r"\b(?:on|of|about|against|over|with|despite|amid|by|to)\s+(?:[a-z]\w*\s+)?$")
#: Verbs whose subject is a speaker whatever it is: "grocers said", "the report adds".
_CORE_VERB = re.compile(
    r"said|says|say|stated|states|told|tells|noted|notes|added|adds|warned|warns|claimed|claims|announced"
    r"|announces|argued|argues|insisted|insists|confirmed|confirms|explained|explains|wrote|writes|reported"
    r"|reports|denied|denies|acknowledged|acknowledges|admitted|admits|predicted|predicts|replied|replies"
    r"|responded|responds|complained|complains|cautioned|cautions|urged|urges|stressed|stresses"
)
_AUXILIARY = re.compile(
    r"(?:\s+(?:has|have|had|did|does|will|would|not|never|also|now|then|later|once|repeatedly|publicly|recently|"
    r"reportedly|again|already|further|initially|previously|earlier|today|yesterday|firmly|clearly|first|last|"
    r"formally|officially|quickly|swiftly|subsequently|separately|jointly|privately|"
    r"(?:on|last|this|early|late)\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|week|month|year|"
    r"night|morning|afternoon|evening)))+\s*$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(he|she|they)\b(?:\s+\w+ly)?\s*$", re.IGNORECASE)
#: Lower-case words inside names ("Mohammed bin Salman", "Ursula von der Leyen").
_PARTICLES = ("al-", "bin", "von", "van", "de", "der")
_NAME_TOKEN = rf"(?:[A-Z\u00C0-\u024F][\w\u00C0-\u024F’'.\-]*|{'|'.join(_PARTICLES)}|of|the)"
_NAME_SEQ = re.compile(rf"(?<![\w’'])[A-Z\u00C0-\u024F][\w\u00C0-\u024F’'.\-]*(?:\s+{_NAME_TOKEN})*")
_OPEN = '“"«‘'
#: Quoted words inside a sentence (three words or more, so not a title or a scare-quoted term).
_QUOTED_WORDS = re.compile(r"[“\"«][^”\"»]*\w+\s+\w+\s+\w+[^”\"»]*[”\"»]")
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


#: Titles that end a description inside a capitalised run, before the person's name.
_STRONG_TITLES = frozenset(
    "president minister secretary director chief spokesperson spokesman spokeswoman commissioner chancellor "
    "governor senator ambassador dr. mr. mrs. ms. gen. general mayor chairman chairwoman chair ceo judge leader".split()
)


_DATE_TAIL = re.compile(
    r"\s+(?:for|on|of|in)\s+(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b.*$"
)


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


#: A noun phrase with a participle after it: "the lawsuit obtained by NBC News", "figures released by CBP".
_MODIFIED = re.compile(r"(.+?)\s+(obtained|cited|quoted|seen|reviewed|released|published|filed|issued)\s+by\s+(.+)$")


_ADVERBIAL = re.compile(
    r"(?:just\s+|shortly\s+|days\s+|weeks\s+)?(?:before|after|in|on|at|during|since|until|from|with|without|despite"
    r"|amid|like|unlike|following)\b"
)
_SUBORDINATOR = re.compile(r"\b(?:after|before|when|while|because|since|although|though|as|that|if|once|until)\s+")
#: A description after a name, between commas: "city manager of Naples", "the CEO of Yara".
_APPOSITIVE = re.compile(r"(?:a|an|the|[a-z][\w\-]*)\b")


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
    if len(parts) > 1 and tail[:1].islower():  # "Trump, currently on a tour of the Middle East, expressed"
        head_names = _names_in(head)
        if head_names and head[:1].isupper() and not _function_word(head.split()[0]):
            return _subject_name(head)  # "Former NBC sportscaster Bob Costas, who has covered ..., says"
    return _role(tail) or (tail_names[-1] if tail_names else None)


#: Words that end the phrase naming a speaker after its verb: "said David Hytner in The Guardian".
_PHRASE_END = re.compile(
    r"\s(?:in|on|at|of|from|for|with|within|to|during|after|before|about|that|who|when|while|as|cited|obtained)\b"
)


_ABBREVIATION = re.compile(r"(?:\b[A-Z]|Dr|Mr|Mrs|Ms|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Prof|Rev|Hon|No)$")


def _to_full_stop(text: str) -> str:
    """``text`` up to its first full stop that is not an abbreviation's ("Dr. David Hill")."""
    for match in re.finditer(r"\.(?=\s|$)", text):
        if not _ABBREVIATION.search(text[: match.start()]):
            return text[: match.start()]
    return text


#: Heads of descriptions that stand for a person named earlier ("the Labour leader added").
_PERSON_HEADS = frozenset(
    "leader president premier chancellor chairman chairwoman chair founder actor actress singer star player coach "
    "manager boss captain author writer novelist critic musician rapper comedian host presenter expatriate lawmaker "
    "senator congressman congresswoman governor mayor judge qc lawyer attorney general executive ceo billionaire "
    "businessman businesswoman entrepreneur candidate nominee incumbent monarch king queen prince princess pope "
    "pm minister secretary ambassador envoy director commissioner chief officer veteran former".split()
)
_TITLE_ABBREVIATIONS = {"governor": "Gov.", "senator": "Sen.", "general": "Gen.", "president": "Pres."}
#: Heads of descriptions that stand for an outlet or body named earlier ("the paper adds").
_ORGANISATION_HEADS = frozenset(
    "company firm airline retailer chain brand carrier manufacturer maker automaker carmaker publisher studio "
    "startup".split()
)
_SOURCE_HEADS = (
    frozenset(
        "paper newspaper site outlet magazine broadcaster network daily tabloid publication journal channel "
        "station agency".split()
    )
    | _ORGANISATION_HEADS
)
#: Written sources that speak for their authors: "a study from X found", "according to data from X".
_DOCUMENT_HEADS = frozenset(
    "study report survey poll analysis data figures statistics research review investigation lawsuit suit "
    "complaint filing statement letter memo document documents records order ruling website release "
    "assessment estimate estimates forecast audit census stats".split()
)
#: Modifiers that leave a description as general as its noun ("the news site", "the former president").
_GENERIC = frozenset("news online daily weekly sunday same former current local national".split())
_DETERMINER = (
    r"(?:the|a|an|some|many|most|several|other|few|two|three|four|five|both|all|one|another|each|every|[\w\-]+[’']s)"
)
_DESCRIPTION = re.compile(rf"^(?:{_DETERMINER}\s+)?((?:[\w\-’'.]+\s+){{0,3}})([a-z][a-z\-]*[a-z])$", re.IGNORECASE)
_CLAUSE_WORDS = frozenset(
    "that which who whom whose when where while if because as than since although though despite unless until "
    "after before but nor so yet is are was were be been has have had will would could should can may "
    "might must do does did not".split()
)
_NOT_HEADS = frozenset("who which that also who whom whose what where when there here it this these those".split())


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


_AUX_OR_PAST = re.compile(r"was|were|is|are|had|has|have|would|will|could|should|can|may|might|did|does|[a-z]+ed")


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
        if (
            _MODIFIER_BEFORE.search(before)
            or re.match(r"\s+by\b", sentence[match.end() :])
            or (re.match(r"\s+as\b", sentence[match.end() :]) and _AS_PARTICIPLE.fullmatch(match.group(0)))
        ):  # "regarded as a companion"
            continue  # "over alleged garden parties", "the suspension recommended by the committee"
        after = sentence[match.end() :]
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


_BASE_FORM = re.compile(
    r"warn|tell|note|add|claim|argue|insist|confirm|explain|write|suggest|acknowledge|admit|deny|predict|urge"
    r"|estimate|allege|contend|forecast"
)


#: Plural nouns for groups of sources, capitalised where they open a sentence.
_GROUPS = frozenset(
    "officials critics experts analysts authorities residents officers investigators researchers scientists "
    "economists lawmakers advocates sources police organizers organisers doctors witnesses protesters "
    "republicans democrats conservatives supporters opponents prosecutors lawyers polls studies reports".split()
)


def _plural(speaker: str) -> bool:
    """Whether a speaker is several people or a pronoun for them ("they", "officials", "critics")."""
    if not speaker.split():
        return False
    last = speaker.split()[-1]
    common = last.islower() or speaker.lower() in _GROUPS  # "officials", "Critics" opening a sentence; not "Gillanders"
    return speaker == "they" or (common and last.endswith("s") and not last.endswith("ss"))


def _speech_use(verb: str, before: str, after: str) -> bool:
    """Whether a verb of :data:`_LOOSE_VERB` reports speech, from the words ``before`` and ``after`` it."""
    if verb.startswith("continue"):
        return bool(re.match(r"\s*(?:[,.:;”\"]|$|\s+that\b)", after))
    if verb.startswith("add"):  # "he added that", "she added:", not "added a $1 surcharge"
        return not re.match(r"\s+(?:a|an|the|its|his|her|their|another|more|new|to|\$|\d)\b", after)
    if verb in ("shared", "read", "reads"):  # "..., Nouchi shared.", "the statement read"; not "shared a photo"
        subject = re.split(r"[,;:—–]", before)[-1].split()
        document = any(w.lower().strip(".,’'") in _DOCUMENT_HEADS for w in subject[-4:])
        return bool(re.match(r"\s*(?:[,.:;”\"]|$)", after)) and (verb == "shared" or document)
    if verb == "states":  # "the lawsuit states:", not "Eleven states have"
        return bool(re.match(r"\s*(?:[,.:;”“\"]|$|\s+that\b)", after))
    if re.match(r"\s+that\b", after):
        return True
    if verb == "found" and re.match(r"\s*[.;]?\s*$", after):
        return True  # "..., Pew found."
    subject = re.split(r"[,;:—–]", before)[-1].split()
    document = any(w.lower().strip(".,’'") in _DOCUMENT_HEADS for w in subject[-8:])
    return (verb.startswith("show") or verb.startswith("found") or verb.startswith("find")) and document


#: Speech joined to a clause whose subject speaks: "..., saying he preferred", "... but said".
_JOINED_SPEECH = re.compile(
    r",\s+(?:saying|adding|noting|telling|warning|arguing|insisting|stating|claiming|explaining|writing|urging"
    r"|admitting|acknowledging|vowing|promising|accusing|calling)\b"
    r"|\s(?:saying|writing)[,:]?\s+[“\"]"
    r"|\s(?:but|and)\s+(?:also\s+)?(?:said|says|told|added|noted|warned|argued|insisted|wrote)\b"
)
_FINITE = re.compile(
    r"(?:will|would|has|have|had|is|are|was|were|can|could|may|might|did|does|do|must|should|[a-z]+ed|[a-z]+[^s’']s)"
)


_CORE_VERB_RE = re.compile(rf"\b(?:{_CORE_VERB.pattern})\b")


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


#: Words that make a name an organisation's or a work's, never what "he" or "she" stands for.
_NOT_A_PERSON = frozenset(
    "organization organisation institute programme program club party association agency department ministry "
    "council committee commission company corporation inc ltd university college school times post news journal "
    "fund bank foundation society union league service services group network office court board center centre "
    "museum church games prize award awards cup championship festival act bill report list day eve week team crew "
    "staff airport airline airlines city county river island park street road hospital hotel station america "
    "africa europe asia".split()
)


def _personal(sentence: str, name: str) -> bool:
    """Whether ``name`` may be a person: not an acronym, an organisation or a title ("The Casual Vacancy")."""
    tokens = name.replace("-", " ").split()
    if any(t.lower().strip(".,’'") in _NOT_A_PERSON for t in tokens) or (name.isupper() and len(name) > 1):
        return False
    at = sentence.find(name)
    return not (at >= 4 and sentence[max(0, at - 4) : at] == "The ")


def _person(sentence: str, speaker: str | None, surnames: frozenset[str] = frozenset()) -> str | None:
    """Who a later "he"/"she" most likely means: the speaker, a full name, or the subject. A full
    name counts when the article also calls it by its last word alone ("Peter Sokolowski" ...
    "Sokolowski said"), as news writes people and not places ("Los Angeles") or credits."""
    if speaker and speaker not in ("he", "she", "they"):
        return speaker if _personal(sentence, speaker) and not _plural(speaker) else None
    names = [n for n in _names_in(sentence) if f"{n}/" not in sentence]  # not "Joe Raedle/Getty Images"
    full = [n for n in names if len(n.split()) >= 2 and not _mask_at(sentence, n) and _personal(sentence, n)]
    people = [n for n in full if n.split()[-1] in surnames]
    subject = _subject(sentence)
    if subject:
        return subject
    if people or full:
        return (people or full)[-1] if people or not surnames else None
    return None


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


def _mask_at(sentence: str, name: str) -> bool:
    at = sentence.find(name)
    return at >= 0 and _quoted_mask(sentence)[at]


#: A phrase before a sentence's subject: "Speaking after the match, Southgate ...".
_OPENER = re.compile(r"(?:[A-Z][a-z]+ing|After|Before|When|While|As|In|At|On|Asked)\b[^,“”\"]{0,100},\s+")


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
    labels = _transcript_labels(sentences, paragraph_starts)
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
        if speaker == "they":
            speaker = last_group or last_person  # "Dutch officials ... they said"
        elif speaker == "it":  # "according to its website": the organisation the sentence is about
            subject = _as_named(_clause_subject(stripped), stripped, named_inside)
            if subject and subject[:1].islower():
                subject = _antecedent(subject, " ".join([*earlier, stripped]), last_person, last_source)
            speaker = subject or (last_source if last_source and last_source.split()[-1][:1].isupper() else None)
        elif speaker in ("he", "she"):
            subject = None if opens_quote else _subject(stripped)  # "Abo “wouldn’t be surprised”, he told CNN"
            known = subject and _given_name_before(subject, earlier)
            speaker = subject if known and len(subject.split()) == 1 else last_person
        elif speaker and speaker[:1].islower():
            earlier.append(stripped)
            subject = _subject(stripped) if not opens_quote else None  # "Hy-Vee won't ..., the company said"
            organisation = speaker.split()[-1] in _ORGANISATION_HEADS  # "the company": a name, not "a newspaper"
            named_source = last_source if last_source and last_source.split()[-1][:1].isupper() else None
            source = (subject or named_source) if organisation else last_source
            speaker = _antecedent(speaker, " ".join(earlier), last_person, source)
            earlier.pop()
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


_NAME = r"[A-Z][\w’'\-.]*(?:\s+(?:[A-Z][\w’'\-.]*|of|the|and|on|for)){0,5}"


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
        named_source = last_source and last_source.split()[-1][:1].isupper()
        if head == "statement" and phrase == "the statement" and named_source:
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


_ROLE_PLURAL = re.compile(rf"\b{_ROLE_NOUN[:-3]})s\b")


_ENDS = re.compile(r"[.!?:;…”\"’')]\s*$")
#: A paragraph opened by a speaker's name and a colon, as interview transcripts are written.
_LABEL = re.compile(r"([A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3}):\s+\S")


def _label_key(label: str) -> str:
    return label.split()[-1].lower()


def _transcript_labels(sentences: Sequence[str], paragraph_starts: Sequence[bool]) -> dict[str, str | None]:
    """The speakers of an interview transcript ("CNN: ...?", "Dr. David Hill: ...", "Hill: ..."):
    names that open two paragraphs or more with a colon, each with its fullest form."""
    named = _capitalised_inside(sentences)
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


_VERB_AFTER = re.compile(rf"\s+{_VERB}\b")
_RELATIVE_AFTER_NAME = re.compile(rf"({_NAME}),\s+(?:which|who)\s+(?:\w+ly\s+)?$")
_OBJECT_NAME_AT_END = re.compile(rf"\s(?:under|of|for|at|to|with)\s+(?:the\s+)?{_NAME}$")
_LEADING_NAME = re.compile(rf"(?:the\s+)?({_NAME})")
_OWNED = re.compile(rf"^({_NAME})[’']s\s+(?:\w+\s+)?(\w+)$")


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


def _inside_quote_after(sentence: str, inside: bool) -> bool:
    for ch in sentence:
        if ch in "“«":
            inside = True
        elif ch in "”»":
            inside = False
        elif ch == '"':
            inside = not inside
    return inside
