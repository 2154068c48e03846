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

The result is stored on passages as ``Quote`` records, one per attributed sentence, with
``direct`` set when the sentence holds quotation marks, its kind and a confidence (``kinds``).

Layout, in the order the pieces build on each other: ``lexicon`` (the words and patterns),
``phrases`` (names, roles and descriptions in a phrase), ``sentence`` (one sentence's
speaker), ``article`` (speakers across an article) and ``kinds`` (what kind of attribution a
sentence is, and how sure). ``tagger`` and ``training`` are the optional trained model.
"""

from __future__ import annotations

from .article import attribute_sentences
from .lexicon import _VERB as SPEECH_VERBS  # the verbs that attribute a sentence, as a regular expression
from .phrases import is_unnamed
from .sentence import sentence_speaker

__all__ = ["ATTRIBUTION_VERSION", "SPEECH_VERBS", "attribute_sentences", "is_unnamed", "sentence_speaker"]

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
#: 11: each quote stores its kind (direct, reported, carried, belief, document), a confidence and
#: what named its speaker (the rules, or a trained tagger voting with them).
ATTRIBUTION_VERSION = 11
