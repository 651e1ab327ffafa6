"""Real Chinese working days: official holidays off, 调休 make-up days (a Saturday or Sunday) on.

Backed by the `chinese_calendar` package (chinesecalendar==1.11.0), which knows the State Council's
arrangements for 2004–2026. For a year it does not know yet, Monday–Friday is used and
`calendar_known(year)` is False, so that pages can say so instead of pretending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=64)
def calendar_known(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: dt.date) -> bool:
    if calendar_known(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    current = start
    while current <= end:
        yield current
        current += dt.timedelta(days=1)


def workdays_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The working days from `start` to `end`, both included."""
    return [day for day in days(start, end) if is_workday(day)]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    first_of_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of the months that `start`..`end` touches."""
    months = []
    current = month_start(start)
    while current <= end:
        months.append(current)
        current = month_end(current) + dt.timedelta(days=1)
    return months


def clip(month: dt.date, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The part of `month` inside `start`..`end`, or None when they do not meet."""
    first, last = max(month_start(month), start), min(month_end(month), end)
    return (first, last) if first <= last else None
