"""Seed the working-day calendar from the chinesecalendar package (the State Council's notices 2004–2026).

Deterministic: only the years 2004–2026 are seeded, whatever a newer package knows; later years are
entered by an admin (节假日安排 in the admin site) from the State Council's notice.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

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


def seed(apps: Any, schema_editor: Any) -> None:
    import chinese_calendar

    Holiday = apps.get_model("inspections", "Holiday")
    HolidayYear = apps.get_model("inspections", "HolidayYear")
    rows = [
        Holiday(date=day, kind=kind, name=NAMES.get(name, name))
        for kind, source in (("off", chinese_calendar.holidays), ("work", chinese_calendar.workdays))
        for day, name in source.items()
        if FIRST_YEAR <= day.year <= LAST_YEAR
    ]
    Holiday.objects.bulk_create(sorted(rows, key=lambda row: row.date), batch_size=500)
    HolidayYear.objects.bulk_create(
        HolidayYear(year=year, notice="国务院办公厅关于部分节假日安排的通知（据 chinesecalendar 1.11.0 导入）")
        for year in range(FIRST_YEAR, LAST_YEAR + 1)
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("inspections", "Holiday").objects.filter(date__year__lte=LAST_YEAR).delete()
    apps.get_model("inspections", "HolidayYear").objects.filter(year__lte=LAST_YEAR).delete()


class Migration(migrations.Migration):
    dependencies = [("inspections", "0004_holiday_calendar")]

    operations = [migrations.RunPython(seed, unseed)]
