"""Time words in a question, resolved to the days they point to, as a news reader means them.

A question is asked on a day (``as_of``: today, or the day a quiz was published). Its time
words name a span of days before it:

* "today", "yesterday", "on Thursday", "on May 16", "Sunday's vote": that day;
* "this week", "last week", "a week ago", "over the weekend": that week or weekend;
* "this month", "last month", "in May", "in March 2022": that month;
* "this year", "in 2023", "the 2022 World Cup": that year;
* "recently", "lately", "latest": the month before ``as_of``.

Dates are parsed by ``dateparser`` (relative to ``as_of``, preferring the past); the spans are
the rule here. Words that merely look like dates ("who may lead", "now") are not taken.
Ordinal events ("the third round") are not dates: they are matched as words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from .errors import FilterError

__all__ = ["TimeWindow", "as_of_days", "closeness", "parse_day", "resolve_time"]

_MONTHS = "January February March April May June July August September October November December".split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
#: A phrase is taken only if it holds one of these: a month or weekday name written as a name,
#: a year, or a relative time word.
_ANCHOR = re.compile(
    r"\b(?:" + "|".join(_MONTHS + _WEEKDAYS) + r")\b|\b(?:19|20)\d\d\b|"
    r"\b(?:today|yesterday|week|month|year|ago|last|this)\b",
)
_RECENT = re.compile(r"\b(?:recently|lately|latest|newly|in recent (?:days|weeks))\b", re.IGNORECASE)
_WEEKEND = re.compile(r"\b(?:(this|last|past|over the) weekend)\b", re.IGNORECASE)
_POSSESSIVE_DAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")['’]s\b")
#: Days a report may trail the day it tells of.
_REPORT_LAG = 2


@dataclass(frozen=True)
class TimeWindow:
    """The days a question's time words point to (both ends inclusive), and the words."""

    start: date
    end: date
    phrase: str

    @property
    def days(self) -> int:
        """How many days it spans."""
        return (self.end - self.start).days + 1


def parse_day(value: str | date | None) -> date | None:
    """A YYYY-MM-DD string (or a date) as a date; None for None or "".

    Raises:
        ValueError: ``value`` is a string that is not a YYYY-MM-DD date.
    """
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-06-14") from exc


def resolve_time(question: str, as_of: date) -> TimeWindow | None:
    """The span of days the time words of ``question`` point to, asked on ``as_of``; None without any."""
    return _resolve(question, as_of)


@lru_cache(maxsize=4096)
def _resolve(question: str, as_of: date) -> TimeWindow | None:
    weekend = _WEEKEND.search(question)
    if weekend:
        saturday = as_of - timedelta(days=(as_of.weekday() - 5) % 7)
        if weekend.group(1).lower() in ("last", "past") and saturday + timedelta(days=1) >= as_of:
            saturday -= timedelta(days=7)
        return TimeWindow(saturday, min(as_of, saturday + timedelta(days=1 + _REPORT_LAG)), weekend.group(0))
    found = _dateparser_phrase(_POSSESSIVE_DAY.sub(r"on \1", question), as_of)
    if found is not None:
        return found
    recent = _RECENT.search(question)
    if recent:
        return TimeWindow(as_of - timedelta(days=30), as_of, recent.group(0))
    return None


def _dateparser_phrase(question: str, as_of: date) -> TimeWindow | None:
    from dateparser.search import search_dates

    base = datetime(as_of.year, as_of.month, as_of.day)
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}
    for phrase, _ in search_dates(question, languages=["en"], settings=settings) or ():
        if not _ANCHOR.search(phrase):
            continue
        data = _parser(base).get_date_data(phrase)
        if data.date_obj is None:
            continue
        window = _span(phrase, data.date_obj.date(), data.period, as_of)
        if window is not None:
            return window
    return None


@lru_cache(maxsize=64)
def _parser(base: datetime):
    from dateparser.date import DateDataParser

    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}
    return DateDataParser(languages=["en"], settings=settings)


def _span(phrase: str, day: date, period: str, as_of: date) -> TimeWindow | None:
    if period == "day":
        return TimeWindow(day, min(day + timedelta(days=_REPORT_LAG), max(day, as_of)), phrase)
    if period == "week":
        return TimeWindow(day - timedelta(days=6), min(day + timedelta(days=1), max(day, as_of)), phrase)
    if period == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return TimeWindow(first, min(last + timedelta(days=_REPORT_LAG), max(first, as_of)), phrase)
    if period == "year":
        return TimeWindow(date(day.year, 1, 1), min(date(day.year, 12, 31), max(date(day.year, 1, 1), as_of)), phrase)
    return None


def closeness(window: TimeWindow, days: np.ndarray) -> np.ndarray:
    """Per article day (``date.toordinal()``, 0 when undated): 1 inside ``window``, falling to 0 at a
    window's length (at least a week) outside it; 0 when undated."""
    spread = max(window.days, 7)
    start, end = window.start.toordinal(), window.end.toordinal()
    out = np.clip(spread - np.maximum(start - days, days - end), 0, spread) / spread
    return np.where(days > 0, out, 0.0).astype(np.float32)


def as_of_days(as_of: str | date | Sequence[str | date | None] | None, n: int) -> list[date]:
    """``as_of`` as one day per question (today where it is None).

    Raises:
        FilterError: a day is not a YYYY-MM-DD date, or the number of days is not ``n``.
    """
    many = as_of if isinstance(as_of, (list, tuple)) else [as_of] * n
    if len(many) != n:
        raise FilterError(f"as_of gives {len(many)} days for {n} questions; give one day, or one per question")
    today = date.today()
    out = []
    for day in many:
        try:
            out.append(parse_day(day) or today)
        except ValueError as exc:
            raise FilterError(f"as_of: {exc}") from exc
    return out
