"""Where sources differ: figures, dates and titles that the answering sentences give differently.

Read from the hits of one answer only, never from a list written for any article. Each hit's
answering sentence (its highlight) is read for

* **figures**: numbers, number words made digits by ``text2num`` ("a thousand" is 1000),
  with the words that follow them; years and day numbers of dates are not figures;
* **dates**: a month with a day ("June 23rd", "23 June", "July 23");
* **titles**: the capitalised role words right before a person's name ("Defense Minister
  Rustem Umerov", "Secretary of the National Security and Defense Council, Rustem Umerov").

Two sentences from different articles differ when they give different values for the same
thing: for "how many X" questions, figures in sentences about X (or, without an X, before the
same noun); for "when" questions, dates; for any question, titles of the same person with no
role word in common. Equal values written two ways ("1,000" and "a
thousand", "June 23" and "23 June") agree. The result is what a reader should check, not a
verdict: sources may differ because they tell of different moments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dates import MONTHS
from ..lexical import STOPWORDS, stem
from ..search.analysis import QueryAnalysis
from .answer import Hit

__all__ = ["Claim", "Disagreement", "find_disagreements"]

_MONTH = "(" + "|".join(MONTHS) + ")"
_DATE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b")
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w,]*\d)(%?)")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_TIME_UNITS = frozenset({"second", "minut", "hour", "day", "week", "month", "year", "decad"})
_ROLE = frozenset(
    "minister secretary president chairman chair head chief spokesman spokeswoman spokesperson aide adviser "
    "advisor envoy ambassador negotiator general commander director governor senator representative mayor "
    "premier chancellor deputy speaker leader".split()
)


@dataclass(frozen=True)
class Claim:
    """A value one hit's answering sentence gives: as written, normalised, and where."""

    value: str
    normal: str
    rank: int
    outlet: str
    doc_id: str
    citation: str


@dataclass(frozen=True)
class Disagreement:
    """Sources that give different values for one thing (``kind``: "figure", "date" or "title")."""

    kind: str
    about: str
    claims: tuple[Claim, ...]

    def describe(self) -> str:
        """One line: what differs, and who says what."""
        said = "; ".join(f"[{c.rank}] {c.outlet or 'outlet not stated'}: {c.value}" for c in self.claims)
        return f"{self.about}: {said}"


def _claim(hit: Hit, value: str, normal: str) -> Claim:
    p = hit.passage
    return Claim(value, normal, hit.rank, p.outlet, p.doc_id, hit.citation)


def _figures(text: str) -> list[tuple[str, str, list[str]]]:
    """(as written, normalised, stems of the next three content words) for each figure in a sentence.
    Years, and day numbers next to a month ("July 23 or 24"), are not figures."""
    from text_to_num import alpha2digit

    digits = alpha2digit(text, "en")
    months = [m.end() for m in re.finditer(_MONTH, digits)]
    out = []
    for m in _NUMBER.finditer(digits):
        number = m.group(1)
        if _YEAR.match(number) or any(0 <= m.start(1) - end <= 12 for end in months):
            continue
        if re.match(rf"\s*(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}", digits[m.end() :]):
            continue  # "23 June"
        following = re.findall(r"[A-Za-z][\w]*", digits[m.end() : m.end() + 60])
        nouns = [stem(w.lower()) for w in following if w.lower() not in STOPWORDS][:3]
        value = float(number.replace(",", ""))
        out.append((number + m.group(2), f"{value:g}{m.group(2)}", nouns))
    return out


def _dates(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _DATE.finditer(text):
        month, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        out.append((m.group(0), f"{MONTHS.index(month) + 1:02d}-{int(day):02d}"))
    return out


def _titles(text: str) -> list[tuple[str, str, frozenset[str]]]:
    """(person, title as written, role words) for each titled name in a sentence: a run of
    capitalised words whose last role word ends the title and whose rest is the name ("Defense
    Minister Rustem Umerov"), or a title run and a name run with a comma between them
    ("Secretary of the National Security and Defense Council, Rustem Umerov")."""
    runs: list[tuple[list[str], bool]] = []  # capitalised runs, and whether a comma closed each
    current: list[str] = []
    for token in re.findall(r"[\w’'.\-]+|[^\w\s’'.\-]", text):
        if token.endswith(".") and "." not in token[:-1]:
            token = token[:-1]  # a sentence's full stop, not "U.S."
        capital = token[:1].isupper()
        if capital or (current and token in ("of", "the", "for", "and")):
            current.append(token)
            continue
        if current:
            runs.append((current, token == ","))
        current = []
    if current:
        runs.append((current, False))
    out = []
    for i, (run, _) in enumerate(runs):
        roles = [j for j, w in enumerate(run) if w.lower() in _ROLE]
        if roles and roles[-1] < len(run) - 1:
            title, name = run[: roles[-1] + 1], run[roles[-1] + 1 :]
        elif not roles and i and runs[i - 1][1] and runs[i - 1][0][-1].lower() not in ("of", "the", "for", "and"):
            title, name = runs[i - 1][0], run
            if not any(w.lower() in _ROLE for w in title):
                continue
        else:
            continue
        while name and name[0] in ("of", "the", "for", "and"):
            name = name[1:]
        if name and name[-1][:1].isupper():
            roles_found = frozenset(w.lower() for w in title) & _ROLE
            out.append((" ".join(name), " ".join(title), roles_found))
    return out


def find_disagreements(query: QueryAnalysis, hits: tuple[Hit, ...]) -> tuple[Disagreement, ...]:
    """The figures, dates and titles that the hits' answering sentences give differently (see the
    module docstring); empty when the hits agree or come from one article."""
    if len({h.passage.doc_id for h in hits}) < 2:
        return ()
    texts = [(h, h.highlight_text) for h in hits]
    found: list[Disagreement] = []
    focus = query.focus if query.focus and not query.focus.startswith("@") else None
    if query.wants == "number":  # "how many X": figures about X; a time unit must count the same thing
        groups: dict[str, list[tuple[Hit, str, str]]] = {}
        for h, t in texts:
            stems = {stem(w) for w in re.findall(r"\w+", t.lower())}
            for value, normal, nouns in _figures(t):
                unit = nouns[0] if nouns else ""
                if unit in _TIME_UNITS:
                    key = f"{unit} {nouns[1]}" if len(nouns) > 1 and (focus in (None, unit)) else None
                elif focus:
                    key = focus if focus in stems else None
                else:
                    key = unit or None
                if key:
                    groups.setdefault(key, []).append((h, value, normal))
        for key, claims in groups.items():
            _differ(found, "figure", f"how many: {key}", claims)
    if query.wants == "date":
        _differ(found, "date", "dates", [(h, v, n) for h, t in texts for v, n in _dates(t)])
    people: dict[str, list[tuple[Hit, str, str, frozenset[str]]]] = {}
    for h, t in texts:
        for person, title, roles in _titles(t):
            people.setdefault(person.split()[-1].lower(), []).append((h, title, person, roles))
    for claims in people.values():
        docs = {c[0].passage.doc_id for c in claims}
        if len(docs) < 2:
            continue
        pairs = [(a, b) for a in claims for b in claims if a[0].passage.doc_id < b[0].passage.doc_id]
        if any(not (a[3] & b[3]) for a, b in pairs):
            person = max((c[2] for c in claims), key=len)
            chosen = {c[0].passage.doc_id: c for c in claims}
            found.append(
                Disagreement(
                    "title",
                    f"{person}'s title",
                    tuple(_claim(h, title, title.lower()) for h, title, _, _ in chosen.values()),
                )
            )
    return tuple(found)


def _differ(found: list[Disagreement], kind: str, about: str, claims: list[tuple[Hit, str, str]]) -> None:
    """Add a disagreement when claims from different articles give different normalised values."""
    by_doc: dict[str, tuple[Hit, str, str]] = {}
    for claim in claims:
        by_doc.setdefault(claim[0].passage.doc_id, claim)
    values = {n for _, _, n in by_doc.values()}
    if len(by_doc) >= 2 and len(values) >= 2:
        found.append(Disagreement(kind, about, tuple(_claim(h, v, n) for h, v, n in by_doc.values())))
