"""Seed the working-day calendar from the chinesecalendar package (the State Council's notices 2004–2026).

Deterministic: only the years 2004–2026 are seeded, whatever a newer package knows; later years are
entered by an admin (节假日与调休 in the admin site) from the State Council's notice.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from inspections.calendar_seed import LAST_YEAR, seed_calendar


def seed(apps: Any, schema_editor: Any) -> None:
    seed_calendar(apps.get_model("inspections", "Holiday"), apps.get_model("inspections", "HolidayYear"))


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("inspections", "Holiday").objects.filter(date__year__lte=LAST_YEAR).delete()
    apps.get_model("inspections", "HolidayYear").objects.filter(year__lte=LAST_YEAR).delete()


class Migration(migrations.Migration):
    dependencies = [("inspections", "0004_holiday_calendar")]

    operations = [migrations.RunPython(seed, unseed)]
