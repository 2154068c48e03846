"""The words of news English that attribution reads: speech verbs and their uses, titles,
nouns that head descriptions of people, outlets and documents, and the patterns built on them."""

from __future__ import annotations

import re

from ...dates import MONTHS, WEEKDAYS

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


#: Sentence openers that are not names and not in the stopword list.
_INDEFINITE = frozenset("one someone everyone anyone nobody everybody somebody many several".split())


#: Titles that end a description inside a capitalised run, before the person's name.
_STRONG_TITLES = frozenset(
    "president minister secretary director chief spokesperson spokesman spokeswoman commissioner chancellor "
    "governor senator ambassador dr. mr. mrs. ms. gen. general mayor chairman chairwoman chair ceo judge leader".split()
)


_DATE_TAIL = re.compile(rf"\s+(?:for|on|of|in)\s+(?:{'|'.join(MONTHS + WEEKDAYS)})\b.*$")


#: Nouns that make a role a speaker ("a Russian diplomat", "according to an official"), singular or plural.
_ROLE_NOUN = r"(?:official|source|diplomat|spokes\w+|analyst|expert|correspondent|minister|negotiator)s?"


_BARE_ROLE = re.compile(
    rf"^\s*((?:[A-Z][\w.\-]*\s+){{1,3}}(?:{_ROLE_NOUN}|ministry|leaders?|delegation|media|authorities|side))\s*$"
)


_PREPOSITION = re.compile(r"\b(?:in|at|from|for|with|on|near|by|of|outside|inside)\b", re.IGNORECASE)


#: A noun phrase with a participle after it: "the lawsuit obtained by NBC News", "figures released by CBP".
_MODIFIED = re.compile(r"(.+?)\s+(obtained|cited|quoted|seen|reviewed|released|published|filed|issued)\s+by\s+(.+)$")


_ADVERBIAL = re.compile(
    r"(?:just\s+|shortly\s+|days\s+|weeks\s+)?(?:before|after|in|on|at|during|since|until|from|with|without|despite"
    r"|amid|like|unlike|following)\b"
)


_SUBORDINATOR = re.compile(r"\b(?:after|before|when|while|because|since|although|though|as|that|if|once|until)\s+")


#: A description after a name, between commas: "city manager of Naples", "the CEO of Yara".
_APPOSITIVE = re.compile(r"(?:a|an|the|[a-z][\w\-]*)\b")


#: Words that end the phrase naming a speaker after its verb: "said David Hytner in The Guardian".
_PHRASE_END = re.compile(
    r"\s(?:in|on|at|of|from|for|with|within|to|during|after|before|about|that|who|when|while|as|cited|obtained)\b"
)


_ABBREVIATION = re.compile(r"(?:\b[A-Z]|Dr|Mr|Mrs|Ms|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Prof|Rev|Hon|No)$")


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


_AUX_OR_PAST = re.compile(r"was|were|is|are|had|has|have|would|will|could|should|can|may|might|did|does|[a-z]+ed")


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


#: Words that make a name an organisation's or a work's, never what "he" or "she" stands for.
_NOT_A_PERSON = frozenset(
    "organization organisation institute programme program club party association agency department ministry "
    "council committee commission company corporation inc ltd university college school times post news journal "
    "fund bank foundation society union league service services group network office court board center centre "
    "museum church games prize award awards cup championship festival act bill report list day eve week team crew "
    "staff airport airline airlines city county river island park street road hospital hotel station america "
    "africa europe asia".split()
)


#: A phrase before a sentence's subject: "Speaking after the match, Southgate ...".
_OPENER = re.compile(r"(?:[A-Z][a-z]+ing|After|Before|When|While|As|In|At|On|Asked)\b[^,“”\"]{0,100},\s+")


_NAME = r"[A-Z][\w’'\-.]*(?:\s+(?:[A-Z][\w’'\-.]*|of|the|and|on|for)){0,5}"


_ROLE_PLURAL = re.compile(rf"\b{_ROLE_NOUN[:-3]})s\b")


_ENDS = re.compile(r"[.!?:;…”\"’')]\s*$")


#: A paragraph opened by a speaker's name and a colon, as interview transcripts are written.
_LABEL = re.compile(r"([A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3}):\s+\S")


_VERB_AFTER = re.compile(rf"\s+{_VERB}\b")


_RELATIVE_AFTER_NAME = re.compile(rf"({_NAME}),\s+(?:which|who)\s+(?:\w+ly\s+)?$")


_OBJECT_NAME_AT_END = re.compile(rf"\s(?:under|of|for|at|to|with)\s+(?:the\s+)?{_NAME}$")


_LEADING_NAME = re.compile(rf"(?:the\s+)?({_NAME})")


_OWNED = re.compile(rf"^({_NAME})[’']s\s+(?:\w+\s+)?(\w+)$")
