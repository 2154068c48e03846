"""Documents -> sentences -> passages of about 60-150 words, with offsets into the source text."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from .documents import Document
from .quotes import ATTRIBUTION_VERSION, attribute_sentences
from .quotes.kinds import RULES_PRECISION, cue_and_kind

__all__ = ["Chunking", "Passage", "Quote", "holds_quotation", "make_passages", "split_sentences"]

_QUOTE_MARKS = '“”"«»'


def holds_quotation(text: str) -> bool:
    """Whether ``text`` holds a quotation mark: a quote in it is direct speech."""
    return any(c in text for c in _QUOTE_MARKS)


@dataclass(frozen=True)
class Quote:
    """Words attributed to a speaker inside a passage, in source-text offsets.

    ``direct`` is True for text inside quotation marks, False for reported speech
    ("Lavrov stated that ..."). ``kind`` is one of :data:`qa.ingest.quotes.kinds.KINDS`;
    ``confidence`` how often such an attribution is right (PolNeAR dev); ``basis`` what named
    the speaker (``rules``, or a trained tagger: ``tagger``, ``agree``, ``differ``).
    """

    speaker: str
    char_start: int
    char_end: int
    direct: bool = True
    kind: str = ""
    confidence: float = 1.0
    basis: str = "rules"

    @classmethod
    def of_rules(cls, speaker: str, char_start: int, char_end: int, sentence: str) -> Quote:
        """The rules' quote of ``sentence`` (its text), its kind read from the sentence."""
        direct = holds_quotation(sentence)
        kind = cue_and_kind(sentence, direct=direct, speaker=speaker)[1]
        return cls(speaker, char_start, char_end, direct, kind, RULES_PRECISION[kind])

    def to_row(self) -> list:
        """The quote as stored (JSON): speaker, start, end, direct, kind, confidence, basis."""
        return [self.speaker, self.char_start, self.char_end, self.direct, self.kind, self.confidence, self.basis]

    @classmethod
    def from_row(cls, row: list) -> Quote:
        """A stored quote; rows of indexes made before kinds (four fields) read as the rules' speech."""
        speaker, start, end, direct, *rest = row
        if not rest:
            kind = "direct" if direct else "reported"
            rest = [kind, RULES_PRECISION[kind], "rules"]
        return cls(speaker, int(start), int(end), bool(direct), str(rest[0]), float(rest[1]), str(rest[2]))


@dataclass(frozen=True)
class Passage:
    """A verbatim slice of an article: ``source_text[char_start:char_end] == text``.

    ``sentences`` holds the ``(start, end)`` source offsets of each sentence, in order.
    """

    doc_id: str
    title: str
    outlet: str
    date: str
    text: str
    char_start: int
    char_end: int
    url: str = ""
    kind: str = ""
    sentences: tuple[tuple[int, int], ...] = ()
    quotes: tuple[Quote, ...] = field(default=(), repr=False)

    @property
    def words(self) -> int:
        """Number of words in the passage."""
        return len(self.text.split())

    def sentence_text(self, i: int) -> str:
        """Text of the passage's ``i``-th sentence."""
        start, end = self.sentences[i]
        return self.text[start - self.char_start : end - self.char_start]


@dataclass(frozen=True)
class Chunking:
    """How passages are cut: sentences are never split; paragraphs are kept whole when they fit."""

    min_words: int = 60
    max_words: int = 150
    splitter: str = "vote(pysbd,nupunkt,blingfire)"
    attribution: int = ATTRIBUTION_VERSION
    rules: int = 2  # bump when the cutting rules change
    #: a trained attribution model's folder, voting with the rules at ingest
    #: (:func:`qa.ingest.attribution.vote_passages`), and what identifies its content
    #: (:func:`qa.ingest.quotes.tagger.model_id`); "" for the rules alone
    tagger: str = ""
    tagger_id: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.min_words <= self.max_words:
            raise ValueError(f"need 0 < min_words <= max_words, got {self.min_words} and {self.max_words}")


@lru_cache(maxsize=1)
def _pysbd():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _pysbd_starts(piece: str) -> set[int]:
    starts, cursor = set(), 0
    for sentence in _pysbd().segment(piece):
        sentence = sentence.strip()
        found = piece.find(sentence, cursor) if sentence else -1
        if found >= 0:
            starts.add(found)
            cursor = found + len(sentence)
    return starts


def _nupunkt_starts(piece: str) -> set[int]:
    import nupunkt

    return {start for start, _ in nupunkt.sent_spans(piece)}


def _blingfire_starts(piece: str) -> set[int]:
    import blingfire

    _, offsets = blingfire.text_to_sentences_and_offsets(piece)
    return {start for start, _ in offsets}


def _first_char(piece: str, pos: int) -> int:
    while pos < len(piece) and piece[pos].isspace():
        pos += 1
    return pos


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as offsets into ``text``, whitespace trimmed.

    Three maintained splitters vote on each boundary and a boundary needs two votes:
    pysbd never splits inside quotation marks, nupunkt splits after "U.S." before a
    capitalised title, blingfire after "Mr."; each is outvoted where it alone errs.
    pysbd, by far the slowest, is only asked where the other two disagree: where they agree,
    its vote cannot change the outcome.
    """
    end = len(text) if end is None else end
    piece = text[start:end]

    def inner(splitter) -> set[int]:
        return {q for q in (_first_char(piece, p) for p in splitter(piece)) if 0 < q < len(piece)}

    nupunkt, blingfire = inner(_nupunkt_starts), inner(_blingfire_starts)
    if nupunkt == blingfire:
        cuts = sorted(nupunkt)
    else:
        pysbd = inner(_pysbd_starts)
        cuts = sorted(q for q in nupunkt | blingfire | pysbd if (q in nupunkt) + (q in blingfire) + (q in pysbd) >= 2)
    bounds = [0, *cuts, len(piece)]
    spans = [(start + a, start + b) for a, b in pairwise(bounds)]
    return _trim(text, spans)


def _trim(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


@dataclass
class _Unit:
    start: int
    end: int
    words: int
    block: int
    heading: bool


def make_passages(doc: Document, chunking: Chunking = Chunking()) -> list[Passage]:
    """Cut a document into passages of whole sentences.

    A passage closes at a paragraph boundary once it holds ``min_words`` (or half that,
    when the whole next paragraph would not fit), and before a sentence that would take
    it past ``max_words``. A passage never spans page debris that cleaning removed, and a
    heading or a lead-in line ending in ":" always goes with the text it introduces.
    """
    units: list[_Unit] = []
    for i, block in enumerate(doc.blocks):
        for s, e in split_sentences(doc.text, block.start, block.end):
            units.append(_Unit(s, e, len(doc.text[s:e].split()), i, block.heading))
    breaks = _hard_breaks(doc)
    block_words = [0] * len(doc.blocks)
    for unit in units:
        block_words[unit.block] += unit.words
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    words = 0
    for unit in units:
        if current:
            new_block = unit.block != current[-1].block
            leads = 0  # words of the headings and lead-ins ending the passage, which go with what follows
            for u in reversed(current):
                if not _introduces(doc, u):
                    break
                leads += u.words
            body = words - leads
            close = (
                (new_block and unit.block in breaks)
                or words + unit.words > chunking.max_words
                or (new_block and body >= chunking.min_words)
                or (
                    new_block
                    and body >= chunking.min_words // 2
                    and words + block_words[unit.block] > chunking.max_words
                )
            )
            if close:
                carried = []
                while current and unit.block not in breaks and _introduces(doc, current[-1]):
                    carried.insert(0, current.pop())
                if current:
                    groups.append(current)
                current = carried
                words = sum(u.words for u in current)
        current.append(unit)
        words += unit.words
    if current:
        groups.append(current)
    groups = _merge_short(groups, chunking, breaks)
    speakers = attribute_sentences(
        [doc.text[u.start : u.end] for u in units],
        [i == 0 or u.block != units[i - 1].block for i, u in enumerate(units)],
    )
    said = {(u.start, u.end): who for u, who in zip(units, speakers) if who}
    return [_passage(doc, group, said) for group in groups]


def _introduces(doc: Document, unit: _Unit) -> bool:
    """A heading, or a lead-in line ending in ":" ("Dymov warned:")."""
    return unit.heading or doc.text[unit.start : unit.end].endswith(":")


def _hard_breaks(doc: Document) -> set[int]:
    """Indices of blocks preceded by removed debris: no passage may span that gap."""
    breaks = set()
    for i in range(1, len(doc.blocks)):
        gap_start, gap_end = doc.blocks[i - 1].end, doc.blocks[i].start
        if any(gap_start <= s and e <= gap_end for s, e, _ in doc.dropped):
            breaks.add(i)
    return breaks


def _merge_short(groups: list[list[_Unit]], chunking: Chunking, breaks: set[int]) -> list[list[_Unit]]:
    """Fold passages under ``min_words`` into a neighbour when the result still fits."""
    out: list[list[_Unit]] = []
    for group in groups:
        size = sum(u.words for u in group)
        if out:
            prev = out[-1]
            prev_size = sum(u.words for u in prev)
            joinable = group[0].block not in breaks or group[0].block == prev[-1].block
            short = size < chunking.min_words or prev_size < chunking.min_words
            if joinable and short and prev_size + size <= chunking.max_words:
                out[-1] = prev + group
                continue
        out.append(group)
    return out


def _passage(doc: Document, group: list[_Unit], said: dict[tuple[int, int], str]) -> Passage:
    start, end = group[0].start, group[-1].end
    quotes = tuple(
        Quote.of_rules(said[u.start, u.end], u.start, u.end, doc.text[u.start : u.end])
        for u in group
        if (u.start, u.end) in said
    )
    meta = doc.meta
    return Passage(
        doc_id=doc.doc_id,
        title=meta.title,
        outlet=meta.outlet,
        date=meta.date,
        text=doc.text[start:end],
        char_start=start,
        char_end=end,
        url=meta.url,
        kind=meta.kind,
        sentences=tuple((u.start, u.end) for u in group),
        quotes=quotes,
    )
