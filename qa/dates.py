"""Time words in a question, resolved to the days they point to, as a news reader means them.

A question is asked on a day (``as_of``: today, or the day a quiz was published). Its time
words name a span of days before it:

* "today", "yesterday", "on Thursday", "on May 16", "Sunday's vote": that day;
* "this week", "last week", "a week ago", "over the weekend": that week or weekend;
* "this month", "last month", "in May", "in March 2022": that month;
* "this year", "in 2023", "the 2022 World Cup": that year;
* "recently", "lately", "latest": the month before ``as_of``.

The common relative phrases ("this week", "last month", "yesterday") and weekdays are read
from a table; month names, explicit dates and years are parsed by ``dateparser`` (relative to
``as_of``, preferring the past), which is asked only when the question holds such a word (it
takes milliseconds a call). The spans are the rule here. Words that merely look like dates
("who may lead", "now") are not taken. Ordinal events ("the third round") are not dates: they
are matched as words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from .errors import FilterError

__all__ = ["MONTHS", "WEEKDAYS", "TimeWindow", "as_of_days", "closeness", "parse_day", "resolve_time"]

#: Month names, January first.
MONTHS = "January February March April May June July August September October November December".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
#: dateparser is asked (and its phrase taken) only where one of these is left once the table and
#: the patterns below have had their turn: a month or weekday name, a year, a relative time word.
_ANCHOR = re.compile(
    r"\b(?:" + "|".join(MONTHS + WEEKDAYS) + r")\b|\b(?:19|20)\d\d\b|"
    r"\b(?:ago|weeks?|months?|years?|days?|fortnight)\b|\d/\d",
)
#: Relative phrases read without dateparser (the common ones, and the slowest for it): the
#: period, and how many periods back.
_RELATIVE = {
    "today": ("day", 0),
    "yesterday": ("day", 1),
    "this week": ("week", 0),
    "last week": ("week", 1),
    "this month": ("month", 0),
    "last month": ("month", 1),
    "this year": ("year", 0),
    "last year": ("year", 1),
}
_RELATIVE_RE = re.compile(r"\b(" + "|".join(_RELATIVE) + r")\b", re.IGNORECASE)
_MONTH_RE = re.compile(
    r"\b(?:(?:in|on|early|late|mid|since|by)[- ])?(?:(\d{1,2})(?:st|nd|rd|th)? (?:of )?)?("
    + "|".join(MONTHS)
    + r")\b(?: (\d{1,2})(?:st|nd|rd|th)?\b)?(?:,? ((?:19|20)\d\d)\b)?"
)
_YEAR_RE = re.compile(r"\b(?:(?:in|since|the) )?((?:19|20)\d\d)\b")
_RECENT = re.compile(r"\b(?:recently|lately|latest|newly|in recent (?:days|weeks))\b", re.IGNORECASE)
_WEEKEND = re.compile(r"\b(?:(this|last|past|over the) weekend)\b", re.IGNORECASE)
_WEEKDAY_RE = re.compile(r"\b(?:on |last |this )?(" + "|".join(WEEKDAYS) + r")(?:['’]s)?\b")
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
    relative = _RELATIVE_RE.search(question)
    if relative:
        period, back = _RELATIVE[relative.group(1).lower()]
        return _span(relative.group(0), _periods_back(as_of, period, back), period, as_of)
    weekday = _WEEKDAY_RE.search(question)
    if weekday:  # the last such day, today included
        back = (as_of.weekday() - WEEKDAYS.index(weekday.group(1))) % 7
        return _span(weekday.group(0), as_of - timedelta(days=back), "day", as_of)
    month = _MONTH_RE.search(question)
    if month and not (
        month.group(2) == "May"
        and not (month.group(1) or month.group(3) or month.group(4))
        and not re.search(r"\b(?:in|early|late|mid|since|by)[- ]May\b", month.group(0))
    ):
        return _month_phrase(month, as_of)
    year = _YEAR_RE.search(question)
    if year:
        day = date(int(year.group(1)), 1, 1)
        return _span(year.group(0), day, "year", as_of) if day <= as_of else None
    if _ANCHOR.search(question):  # dateparser is slow: ask it only when a phrase may be a date
        found = _dateparser_phrase(question, as_of)
        if found is not None:
            return found
    recent = _RECENT.search(question)
    if recent:
        return TimeWindow(as_of - timedelta(days=30), as_of, recent.group(0))
    return None


def _month_phrase(found: re.Match, as_of: date) -> TimeWindow | None:
    """The day ("May 16", "16 May 2025") or month ("in May", "March 2022") a month name points to:
    in its year when given, else the last such day or month on or before ``as_of``."""
    month = MONTHS.index(found.group(2)) + 1
    day_text, year_text = found.group(1) or found.group(3), found.group(4)
    year = int(year_text) if year_text else as_of.year
    try:
        if day_text:
            day = date(year, month, int(day_text))
            if not year_text and day > as_of:
                day = day.replace(year=year - 1)
            return _span(found.group(0), day, "day", as_of)
        first = date(year, month, 1)
        if not year_text and first > as_of:
            first = first.replace(year=year - 1)
        return _span(found.group(0), first, "month", as_of)
    except ValueError:  # "February 30"
        return None


def _periods_back(day: date, period: str, back: int) -> date:
    """``day`` moved ``back`` days, weeks, months or years into the past (clamped to the month's end)."""
    if period == "day":
        return day - timedelta(days=back)
    if period == "week":
        return day - timedelta(days=7 * back)
    if period == "month":
        month = day.month - 1 - back
        year, month = day.year + month // 12, month % 12 + 1
        first = date(year, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first.replace(day=min(day.day, last.day))
    return day.replace(year=day.year - back, day=28 if (day.month, day.day) == (2, 29) else day.day)


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
