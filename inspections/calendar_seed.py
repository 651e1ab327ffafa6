"""The calendar as the chinesecalendar package knows it (2004–2026): what migration 0005 seeds.

Also used by the tests to re-seed after a transactional test flushed the tables.
"""

from __future__ import annotations

from typing import Any

FIRST_YEAR, LAST_YEAR = 2004, 2026
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
NOTICE = "国务院办公厅关于部分节假日安排的通知（据 chinesecalendar 1.11.0 导入）"


def seed_calendar(holiday_model: Any, year_model: Any) -> None:
    """Insert the package's days and years (models passed in: the migration's historical ones, or the real ones)."""
    import chinese_calendar

    rows = [
        holiday_model(date=day, kind=kind, name=NAMES.get(name, name))
        for kind, source in (("off", chinese_calendar.holidays), ("work", chinese_calendar.workdays))
        for day, name in source.items()
        if FIRST_YEAR <= day.year <= LAST_YEAR
    ]
    holiday_model.objects.bulk_create(sorted(rows, key=lambda row: row.date), batch_size=500)
    year_model.objects.bulk_create(year_model(year=year, notice=NOTICE) for year in range(FIRST_YEAR, LAST_YEAR + 1))


def ensure_seeded() -> None:
    """Seed when the calendar is empty (a test database flushed by a transactional test)."""
    from inspections import workdays
    from inspections.models import Holiday, HolidayYear

    workdays.forget()
    if not HolidayYear.objects.exists():
        seed_calendar(Holiday, HolidayYear)
