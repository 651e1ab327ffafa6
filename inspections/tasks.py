"""Periodic jobs of campaigns. Tasks receive ids or nothing, never model instances."""

from __future__ import annotations

import datetime

from celery import shared_task

from inspections.services import deliverable_send_reminders
from portal import limits


@shared_task(name="inspections.tasks.send_deliverable_reminders", **limits.PERIODIC_JOB)
def send_deliverable_reminders(day: str | None = None) -> dict[str, int]:
    """Daily (beat): remind the towns and enterprises that have not filed, 3 days and 1 day before each
    due date. Running it twice the same day sends nothing more."""
    today = datetime.date.fromisoformat(day) if day else None
    return deliverable_send_reminders(today=today)
