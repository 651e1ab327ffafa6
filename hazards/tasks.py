"""Periodic jobs of the hazards app. Tasks receive ids or nothing, never model instances."""

from __future__ import annotations

import datetime

from celery import shared_task

from hazards.services import hazard_send_deadline_reminders
from portal import limits


@shared_task(name="hazards.tasks.send_deadline_reminders", **limits.PERIODIC_JOB)
def send_deadline_reminders(day: str | None = None) -> dict[str, int]:
    """Daily (beat): notify enterprises of hazards due within 3 days and of overdue ones. Safe to run twice."""
    today = datetime.date.fromisoformat(day) if day else None
    return hazard_send_deadline_reminders(today=today)
