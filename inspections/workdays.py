"""Real Chinese working days: official holidays off, 调休 make-up days (a Saturday or Sunday) on.

The calendar is data (`inspections.Holiday`, `inspections.HolidayYear`): seeded from the
`chinese_calendar` package (the State Council's arrangements for 2004–2026) by a migration, and
extended by an admin each year from the State Council's notice (admin site → 节假日与调休, through
`inspections.calendar_services`). A year is known once its HolidayYear row exists. For a year not
entered, `is_workday` falls back to Monday–Friday and `calendar_known(year)` is False: quota checks
then say 节假日安排未录入 instead of counting on the guess, and admins are warned 60 days before the
known calendar ends (`calendar_warning`).

Each process keeps a year's days for CACHE_SECONDS; the calendar services clear it at once in the
process that writes, other processes (worker, other web workers) see a change within that time. The end
of the known calendar (`known_until`, asked on every admin page) is kept in the shared cache instead, which
the calendar services clear for every process.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
KNOWN_UNTIL_KEY = "inspections:calendar-known-until"  # (year asked for, last known day), shared by processes
WARN_DAYS = 60
_cache: dict[int, tuple[float, dict[dt.date, bool] | None]] = {}


def _year(year: int) -> dict[dt.date, bool] | None:
    """The year's days that differ from Monday–Friday (date → is a working day); None when not entered."""
    now = time.monotonic()
    hit = _cache.get(year)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    from inspections.models import Holiday, HolidayYear

    days: dict[dt.date, bool] | None = None
    if HolidayYear.objects.filter(year=year).exists():
        days = {
            day: kind == Holiday.Kind.WORK
            for day, kind in Holiday.objects.filter(date__year=year).values_list("date", "kind")
        }
    _cache[year] = (now, days)
    return days


def forget() -> None:
    """Drop the cached calendar (after a change, or between tests): this process's years, and the shared
    `known_until` for every process, now and again once the caller's transaction commits (a page read in
    between would otherwise cache the calendar from before the change)."""
    from django.core.cache import cache
    from django.db import transaction

    _cache.clear()
    cache.delete(KNOWN_UNTIL_KEY)
    if transaction.get_connection().in_atomic_block:  # an attribute: no connection is opened for it
        transaction.on_commit(lambda: cache.delete(KNOWN_UNTIL_KEY))


def calendar_known(year: int) -> bool:
    return _year(year) is not None


def missing_years(start: dt.date, end: dt.date) -> list[int]:
    """The years from `start` to `end` whose holiday arrangement is not entered."""
    return [year for year in range(start.year, end.year + 1) if not calendar_known(year)]


def is_workday(day: dt.date) -> bool:
    days = _year(day.year)
    if days is not None and day in days:
        return days[day]
    return day.weekday() < 5


def known_until(today: dt.date) -> dt.date:
    """The last day of the calendar known without a gap from `today`'s year (before `today` if that year is not).

    Every admin page asks (the banner of `calendar_warning`), so the answer is kept in the cache shared by
    every process for CACHE_SECONDS (the calendar services forget it at once): one query per CACHE_SECONDS,
    not one more on every admin page than on the same page for county staff (bench/lists.py, ≤ 10 queries).
    """
    from django.core.cache import cache

    from inspections.models import HolidayYear

    try:
        cached = cache.get(KNOWN_UNTIL_KEY)
    except Exception:  # a cache server down must not take the admins' pages with it
        logger.warning("calendar: shared cache unreadable, asking the database", exc_info=True)
        cached = None
    if isinstance(cached, tuple) and cached[0] == today.year:
        return cached[1]  # type: ignore[no-any-return]
    entered = set(HolidayYear.objects.filter(year__gte=today.year).values_list("year", flat=True))
    year = today.year
    while year in entered:
        year += 1
    last = dt.date(year - 1, 12, 31)
    try:
        cache.set(KNOWN_UNTIL_KEY, (today.year, last), CACHE_SECONDS)
    except Exception:  # as above: the answer stands without the cache
        logger.warning("calendar: shared cache unwritable", exc_info=True)
    return last


def calendar_warning(today: dt.date) -> str | None:
    """What admins are told from WARN_DAYS days before the known calendar ends (None: nothing to say)."""
    last = known_until(today)
    left = (last - today).days
    if left > WARN_DAYS:
        return None
    year = last.year + 1
    lead = f"{year}年的节假日安排尚未录入" if left < 0 else f"节假日安排只录入到 {last:%Y-%m-%d}（还有 {left} 天）"
    return (
        f"{lead}：请在管理后台“节假日与调休”中按国务院办公厅通知录入 {year} 年的放假和调休日期，"
        f"再在“节假日安排年份”中登记 {year} 年。录入前，{year} 年的履职指标核算显示“节假日安排未录入”。"
    )


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
