"""Attributions of any text: who said (or wrote, believes, reported) each sentence, named in full.

:func:`attribute` is the public entry point (``qa.attribute(text)``). It cuts the text as an
indexed article is cut, so its attributions are exactly those the index stores on passages and
the quotes view, ``quotes()``, ``speakers()`` and citations show: one record per attributed
sentence, with the speaker as the article names them in full (:func:`~qa.ingest.names.resolve_article`),
how the sentence names them (``said_as``: "he", "the senator"), the cue words, the kind of
attribution, and a confidence.

The kinds (``direct``, ``reported``, ``carried``, ``belief``, ``document``) are
:mod:`qa.ingest.quotes.kinds`'s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ..errors import ModelError
from ..lexical import STOPWORDS
from ..text import fold_accents
from .documents import document_from_text
from .names import AliasTable, name_key, resolve_article
from .passages import Chunking, Passage, Quote, holds_quotation, make_passages
from .quotes.kinds import KINDS, RULES_PRECISION, cue_and_kind

__all__ = [
    "COMBINE",
    "KINDS",
    "VOTE_CASES",
    "Attribution",
    "attribute",
    "cue_and_kind",
    "learned_sentences",
    "same_source",
    "vote_case",
    "vote_passages",
]


@dataclass(frozen=True)
class Attribution:
    """One attributed sentence of a text (``text[char_start:char_end]``).

    ``speaker`` is the fullest name the text gives the source; ``said_as`` how this sentence
    names it; ``cue`` the words that attribute it ("said", "according to"), None where the
    sentence carries on a quotation; ``kind`` one of :data:`KINDS`; ``confidence`` between 0 and 1;
    ``basis`` what named the speaker: ``rules``, ``tagger``, both (``agree``), or the tagger against
    the rules (``differ``).
    """

    speaker: str
    char_start: int
    char_end: int
    cue: str | None
    kind: str
    confidence: float
    said_as: str
    basis: str = "rules"

    def to_dict(self) -> dict:
        """The record as plain data (JSON-ready)."""
        return asdict(self)


_PRONOUNS = frozenset("he she they i we it him her them his its their you".split())


@dataclass(frozen=True)
class _Learned:
    source: tuple[int, int] | None
    cue: tuple[int, int]
    confidence: float


def learned_sentences(
    sentences: list[tuple[int, int]], spans: list, *, contents: bool = True
) -> dict[tuple[int, int], _Learned]:
    """The tagger's attribution of each sentence it covers: its cue, its source, and a confidence.

    Each cue is an attribution; its source is the source span nearest to it in the same sentence
    (None when the sentence has none), and each content span belongs to the nearest cue. An
    attribution covers the sentence holding its cue and those its contents overlap (by 15
    characters, or half the content or the sentence, as PolNeAR's scorer counts it). The
    confidence is the least of its cue's and source's."""
    cues = [sp for sp in spans if sp.kind == "cue"]
    sources = [sp for sp in spans if sp.kind == "source"]
    content_spans = [sp for sp in spans if sp.kind == "content"] if contents else []
    if not cues:
        return {}

    def sentence_of(pos: int) -> tuple[int, int] | None:
        return next(((a, b) for a, b in sentences if a <= pos < b), None)

    def gap(x, y) -> int:
        return max(0, max(x.char_start, y.char_start) - min(x.char_end, y.char_end))

    out: dict[tuple[int, int], _Learned] = {}
    covered: dict[int, list[tuple[int, int]]] = {}
    for c in content_spans:
        owner = min(range(len(cues)), key=lambda i: gap(c, cues[i]))
        for a, b in sentences:
            overlap = max(0, min(b, c.char_end) - max(a, c.char_start))
            if overlap and overlap >= min(15, (c.char_end - c.char_start) / 2, (b - a) / 2):
                covered.setdefault(owner, []).append((a, b))
    for i, cue in enumerate(cues):
        home = sentence_of(cue.char_start)
        near = [sp for sp in sources if home and home[0] <= sp.char_start < home[1]]
        source = min(near, key=lambda sp: gap(sp, cue)) if near else None
        confidence = min(cue.confidence, source.confidence) if source else cue.confidence
        learned = _Learned(
            (source.char_start, source.char_end) if source else None, (cue.char_start, cue.char_end), confidence
        )
        for sentence in {*([home] if home else []), *covered.get(i, [])}:
            if sentence not in out or out[sentence].confidence < confidence:
                out[sentence] = learned
    return out


#: How a tagger's attributions join the rules' (see :func:`attribute`).
COMBINE = ("vote", "fill", "prefer", "tagger")

#: The cases of ``combine="vote"``, whose confidence is how often each is right on PolNeAR's dev
#: split, as measured for each model (``config.json``'s ``confidence``; ``bench/bench_polnear.py
#: --calibrate``): the rules and the tagger name the same speaker ("agree"); they name different ones
#: and the tagger's is taken ("differ"); the rules alone name one (by kind); the tagger alone does
#: (by its own confidence, in tenths).
VOTE_CASES = (
    "agree",
    "differ",
    *(f"rules {kind}" for kind in KINDS),
    *(f"tagger {tenth / 10:.1f}" for tenth in range(10)),
)


def vote_case(basis: str, kind: str, tagger_confidence: float | None) -> str:
    """The :data:`VOTE_CASES` entry of a vote."""
    if basis == "rules":
        return f"rules {kind}"
    if basis == "tagger":
        return f"tagger {min(int(tagger_confidence * 10), 9) / 10:.1f}"
    return basis


def same_source(a: str, b: str) -> bool:
    """Whether two names of a source are the same: they share a capitalised name word ("Clinton",
    "Hillary Clinton"), or, where either has none, are the same words ("the campaign")."""

    def capitalised(name: str) -> set[str]:
        words = (w.strip(".,;:()").replace("’", "'").removesuffix("'s") for w in name.split())
        return {fold_accents(w).lower() for w in words if w[:1].isupper()} - STOPWORDS

    names_a, names_b = capitalised(a), capitalised(b)
    if names_a and names_b:
        return bool(names_a & names_b)
    return name_key(a) == name_key(b)


def attribute(
    text: str,
    *,
    aliases: AliasTable | None = None,
    tagger=None,
    combine: str = "vote",
    threshold: float | None = None,
    fill_threshold: float | None = None,
    contents: bool = False,
) -> list[Attribution]:
    """The attributions of one article's text, in text order.

    Without a tagger these are the rules' (as the index stores them today). With one (a
    :class:`~qa.ingest.quotes.tagger.Tagger`), its attributions join them:

    * ``combine="vote"``: where both name a speaker and agree, theirs; where they differ, the
      tagger's; else whichever names one (the tagger at ``threshold`` or more); the confidence is
      how often each case is right on PolNeAR dev (:data:`VOTE_CASES`);
    * ``combine="fill"``: the rules' speaker where they give one; the tagger's where they give
      none and its confidence is at least ``threshold``;
    * ``combine="prefer"``: the tagger's speaker where its confidence is at least ``threshold``
      (a pronoun it finds takes the rules' speaker), else the rules', else the tagger's at
      ``fill_threshold`` or more;
    * ``combine="tagger"``: the tagger's alone, at ``threshold`` or more.

    A tagger's attribution covers the sentence that holds its cue, and with ``contents`` also the
    sentences its content spans overlap. bench/bench_polnear.py and bench/bench_quotes.py measure
    each choice (bench/RESULTS.md).

    Args:
        text: the article: a title line, then paragraphs (as a ``.txt`` article file holds it).
        aliases: other spellings of names (``aliases.toml``), joined to one speaker.
        tagger: a trained attribution tagger, or None for the rules alone.
        combine: one of :data:`COMBINE`.
        threshold: the least confidence at which the tagger's speaker is taken; None: 0.8, or with
            ``combine="vote"`` the one the tagger's confidence table was measured at (as the index
            takes it).
        fill_threshold: with ``combine="prefer"``, the least confidence at which the tagger's
            speaker fills a sentence the rules leave; None: never.
        contents: whether a tagger's attribution covers the sentences of its content spans.

    Returns:
        One :class:`Attribution` per attributed sentence; an empty list for a text with none.

    Raises:
        ValueError: ``combine`` is not one of :data:`COMBINE`.
        ModelError: ``combine="vote"`` with a tagger that has no confidence table.

    Example:
        >>> import qa
        >>> [(a.speaker, a.kind) for a in qa.attribute("Talks\\n\\nThe deal is done, Sergey Lavrov said.")]
        [('Sergey Lavrov', 'reported')]
    """
    if combine not in COMBINE:
        raise ValueError(f"combine is {combine!r}; use one of {', '.join(COMBINE)}")
    if not text.strip():
        return []
    document = document_from_text(text)
    passages = make_passages(document, Chunking())
    ruled = (
        {}
        if tagger is not None and combine == "tagger"
        else {(q.char_start, q.char_end): q for p in passages for q in p.quotes}
    )
    sentences = [s for p in passages for s in p.sentences]
    if combine == "vote" and tagger is not None and not tagger.confidence:
        raise ModelError(
            f"the attribution model at {tagger.folder} has no confidence table for combine='vote'; "
            "make it with `make train-attribution` (or bench/bench_polnear.py --calibrate --model DIR)"
        )
    learned = learned_sentences(sentences, tagger.tag(text), contents=contents) if tagger is not None else {}
    if combine == "vote" and tagger is not None:
        floor = _floor(tagger) if threshold is None else threshold
        aliases = aliases or AliasTable()
        return _vote(text, passages, sentences, ruled, learned, aliases, floor=floor, table=tagger.confidence)
    threshold = 0.8 if threshold is None else threshold
    first = threshold if combine == "prefer" else 2.0  # the tagger before the rules
    last = threshold if combine in ("fill", "tagger") else (2.0 if fill_threshold is None else fill_threshold)
    # (span, said_as, direct, confidence (None: the rules'), cue) of each attributed sentence
    chosen: list[tuple[tuple[int, int], str, bool, float | None, str | None]] = []
    last_named = None
    for span in sentences:
        rule, guess = ruled.get(span), learned.get(span)
        confidence = guess.confidence if guess is not None and guess.source is not None else -1.0
        if rule is not None and confidence < first:
            chosen.append((span, rule.speaker, rule.direct, None, None))
        elif confidence >= min(first, last):
            said_as = _tagger_said_as(text, guess, rule, last_named)
            if said_as:
                cue = text[guess.cue[0] : guess.cue[1]]
                chosen.append((span, said_as, holds_quotation(text[span[0] : span[1]]), confidence, cue))
        if chosen and chosen[-1][0] == span and chosen[-1][1][:1].isupper():
            last_named = chosen[-1][1]
    names = resolve_article({c[1] for c in chosen}, "\n".join(p.text for p in passages), aliases or AliasTable())
    out = []
    for (start, end), said_as, direct, confidence, cue in chosen:
        found_cue, kind = cue_and_kind(text[start:end], direct=direct, speaker=said_as)
        out.append(
            Attribution(
                speaker=names.get(said_as, said_as),
                char_start=start,
                char_end=end,
                cue=cue or found_cue,
                kind=kind,
                confidence=RULES_PRECISION[kind] if confidence is None else round(confidence, 3),
                said_as=said_as,
                basis="rules" if confidence is None else "tagger",
            )
        )
    return out


def _tagger_said_as(text: str, guess: _Learned, rule, last_named: str | None) -> str | None:
    """How the tagger's source names the speaker; a pronoun takes the rules' speaker, else the last
    name given (the rules follow "he" and "she" better)."""
    said_as = text[guess.source[0] : guess.source[1]].strip()
    if said_as.lower() in _PRONOUNS:
        said_as = rule.speaker if rule is not None else last_named
    return said_as or None


def _vote(
    text, passages, sentences, ruled, learned, aliases: AliasTable, *, floor: float, table: dict[str, float]
) -> list[Attribution]:
    """``combine="vote"``: where the rules and the tagger agree, their speaker with high confidence;
    where they differ, the tagger's; where one alone speaks, its speaker; each with the confidence
    ``table`` gives its case (:func:`vote_case`). The tagger counts at ``floor`` or more."""
    votes = []  # (span, rule, tagger's said_as, tagger's confidence, cue)
    last_named = None
    for span in sentences:
        rule, guess = ruled.get(span), learned.get(span)
        said_as = None
        if guess is not None and guess.source is not None and guess.confidence >= floor:
            own = text[guess.source[0] : guess.source[1]].strip()
            # a pronoun the tagger finds takes a speaker from the rules: no second opinion
            if own.lower() not in _PRONOUNS or rule is None:
                said_as = _tagger_said_as(text, guess, rule, last_named)
        if rule is None and said_as is None:
            continue
        votes.append((span, rule, said_as, guess.confidence if said_as else None, guess.cue if said_as else None))
        named = rule.speaker if rule is not None else said_as
        if named[:1].isupper():
            last_named = named
    body = "\n".join(p.text for p in passages)
    by_rules = resolve_article({v[1].speaker for v in votes if v[1] is not None}, body, aliases)
    by_tagger = resolve_article({v[2] for v in votes if v[2]}, body, aliases)
    out = []
    for (start, end), rule, said_as, confidence, cue in votes:
        direct = rule.direct if rule is not None else holds_quotation(text[start:end])
        named = rule.speaker if rule is not None and (said_as is None or rule.speaker == said_as) else said_as
        found_cue, kind = cue_and_kind(text[start:end], direct=direct, speaker=named)
        if rule is not None and said_as is not None:
            agree = same_source(by_rules[rule.speaker], by_tagger[said_as])
            chosen, names = (rule.speaker, by_rules) if agree else (said_as, by_tagger)
            basis = "agree" if agree else "differ"
        elif rule is not None:
            chosen, names, basis = rule.speaker, by_rules, "rules"
        else:
            chosen, names, basis = said_as, by_tagger, "tagger"
        out.append(
            Attribution(
                speaker=names[chosen],
                char_start=start,
                char_end=end,
                cue=text[cue[0] : cue[1]] if cue is not None and chosen == said_as else found_cue,
                kind=kind,
                confidence=table.get(vote_case(basis, kind, confidence), 0.0),
                said_as=chosen,
                basis=basis,
            )
        )
    return out


def _floor(tagger) -> float:
    """The least confidence at which a tagger's votes count: the one its table was measured at."""
    return float(getattr(tagger, "settings", {}).get("calibration", {}).get("floor", 0.5))


def vote_passages(text: str, passages: list[Passage], tagger) -> list[Passage]:
    """The passages of one article (cut from ``text``, quoted by the rules) with the quotes of a
    trained ``tagger`` voting with the rules (``combine="vote"``, the tagger counting from the
    confidence its table was measured at): what the index stores when made with a model.

    Raises:
        ModelError: the tagger has no confidence table.
    """
    if not tagger.confidence:
        raise ModelError(
            f"the attribution model at {tagger.folder} has no confidence table; "
            "make it with `make train-attribution` (or bench/bench_polnear.py --calibrate --model DIR)"
        )
    floor = _floor(tagger)
    ruled = {(q.char_start, q.char_end): q for p in passages for q in p.quotes}
    sentences = [s for p in passages for s in p.sentences]
    learned = learned_sentences(sentences, tagger.tag(text), contents=False)
    found = _vote(text, passages, sentences, ruled, learned, AliasTable(), floor=floor, table=tagger.confidence)
    quotes = {
        (a.char_start, a.char_end): Quote(
            a.said_as,
            a.char_start,
            a.char_end,
            holds_quotation(text[a.char_start : a.char_end]),
            a.kind,
            a.confidence,
            a.basis,
        )
        for a in found
    }
    return [replace(p, quotes=tuple(quotes[s] for s in p.sentences if s in quotes)) for p in passages]
