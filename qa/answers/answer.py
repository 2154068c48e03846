"""What ``Assistant.ask`` returns: ranked, cited passages and whether the corpus answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..ingest.passages import Passage
from .speakers import shown

__all__ = ["Answer", "Hit"]


@dataclass(frozen=True)
class Hit:
    """A passage that answers, with its rank (1 = best), score and highlighted sentence.

    ``highlight`` is the ``(start, end)`` of the answering sentence in the same source
    offsets as ``passage.char_start`` / ``passage.char_end``. ``copies`` are near-copies of
    the passage (the same wire story in other articles, :mod:`qa.search.copies`) that this hit
    stands for, best first: each is cited by :attr:`carried_by`.
    """

    rank: int
    score: float
    passage: Passage
    highlight: tuple[int, int]
    signals: dict[str, float] = field(default_factory=dict, compare=False, repr=False)
    copies: tuple[Passage, ...] = ()

    @property
    def carried_by(self) -> list[str]:
        """One short citation per copy: outlet, date, file and character span."""
        return [
            f"{p.outlet or 'outlet not stated'}, {p.date or 'undated'} — {p.doc_id}, chars {p.char_start}–{p.char_end}"
            for p in self.copies
        ]

    @property
    def highlight_text(self) -> str:
        """The highlighted sentence."""
        start = self.highlight[0] - self.passage.char_start
        return self.passage.text[start : start + self.highlight[1] - self.highlight[0]]

    @property
    def citation(self) -> str:
        """One-line citation: outlet, title, date, file and character span."""
        p = self.passage
        parts = [p.outlet or "outlet not stated", f"“{p.title}”" if p.title else "untitled", p.date or "undated"]
        return f"{', '.join(parts)} — {p.doc_id}, chars {p.char_start}–{p.char_end}"

    @property
    def reference(self) -> str:
        """The numbered citation, with the article's kind when known:
        ``[1] outlet, “title”, date — file, chars a–b · opinion``."""
        kind = f" · {self.passage.kind}" if self.passage.kind else ""
        return f"[{self.rank}] {self.citation}{kind}"

    @property
    def speakers(self) -> tuple[str, ...]:
        """Who speaks the highlighted sentence: the speakers of the passage's quotes of speech that
        overlap it, with confidence (:data:`~qa.ingest.quotes.kinds.CONFIDENT`), in order of
        appearance (empty when it is nobody's words)."""
        start, end = self.highlight
        found = (
            q.speaker
            for q in self.passage.quotes
            if q.char_start < end and start < q.char_end and shown(q.kind, q.confidence)
        )
        return tuple(dict.fromkeys(found))

    def to_dict(self) -> dict:
        """Plain JSON-ready fields."""
        p = asdict(self.passage)
        p["quotes"] = [asdict(q) for q in self.passage.quotes]
        p["sentences"] = [list(s) for s in self.passage.sentences]
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "highlight": list(self.highlight),
            "highlight_text": self.highlight_text,
            "citation": self.citation,
            "speakers": list(self.speakers),
            "passage": p,
            "copies": [
                {
                    "doc_id": c.doc_id,
                    "outlet": c.outlet,
                    "title": c.title,
                    "date": c.date,
                    "url": c.url,
                    "char_start": c.char_start,
                    "char_end": c.char_end,
                }
                for c in self.copies
            ],
            "signals": {k: round(v, 6) for k, v in self.signals.items()},
        }


@dataclass(frozen=True)
class Answer:
    """The passages that answer a question, best first.

    Attributes:
        question: the question as asked.
        query: the text that was searched (the question, rewritten from the conversation
            when it depends on earlier turns).
        hits: ranked passages.
        answerable: False when nothing in the corpus answers; ``hits`` then holds the
            closest passages, which do not answer.
        confidence: how sure the answerability decision is, 0-1.
        notes: things the user should know (question truncated, filter matched nothing...).
        disagreements: figures, dates or titles that the hits' answering sentences give
            differently (:mod:`qa.answers.disagree`), each claim with its outlet and citation.
    """

    question: str
    query: str
    hits: tuple[Hit, ...]
    answerable: bool
    confidence: float = 0.0
    notes: tuple[str, ...] = ()
    truncated: bool = False
    disagreements: tuple = ()  # of qa.answers.disagree.Disagreement: where the hits' sources differ

    @property
    def outlets(self) -> list[str]:
        """Distinct outlets of the hits and of their copies, in rank order (empty string for an unnamed outlet)."""
        return list(dict.fromkeys(p.outlet for h in self.hits for p in (h.passage, *h.copies)))

    def by_outlet(self) -> list[tuple[str, list[Hit]]]:
        """The hits grouped by outlet (empty string for an unnamed outlet), outlets in order of their
        best hit, hits in rank order within each."""
        groups: dict[str, list[Hit]] = {}
        for hit in self.hits:
            groups.setdefault(hit.passage.outlet, []).append(hit)
        return list(groups.items())

    def to_dict(self) -> dict:
        """Plain JSON-ready fields."""
        return {
            "question": self.question,
            "query": self.query,
            "answerable": self.answerable,
            "confidence": round(self.confidence, 4),
            "truncated": self.truncated,
            "notes": list(self.notes),
            "hits": [h.to_dict() for h in self.hits],
            "disagreements": [
                {
                    "kind": d.kind,
                    "about": d.about,
                    "claims": [
                        {"value": c.value, "rank": c.rank, "outlet": c.outlet, "citation": c.citation} for c in d.claims
                    ],
                }
                for d in self.disagreements
            ],
            "by_outlet": [{"outlet": outlet, "ranks": [h.rank for h in hits]} for outlet, hits in self.by_outlet()],
        }
