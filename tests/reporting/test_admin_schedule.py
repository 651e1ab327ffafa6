"""The beat entries exist, and admins see the state and errors of the jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from reporting.choices import JobStatus, ReportKind, ScheduleStep
from reporting.models import ScheduledRun
from tests.otp_helpers import force_login_verified

pytestmark = pytest.mark.django_db


def test_beat_schedule_has_the_reporting_jobs() -> None:
    from portal.celery import app

    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("reporting.tasks.run_monthly_schedule", "reporting.tasks.check_amendments"):
        assert name in tasks
        assert name in app.tasks
    assert "reporting.tasks.run_export" in app.tasks


def test_admin_sees_failed_steps_with_their_errors_and_can_allow_them_again(scenario, cast, client) -> None:
    run = ScheduledRun.objects.create(
        step=ScheduleStep.DRAFT_EARLY, kind=ReportKind.WINTER, campaign=scenario.winter, region=scenario.world.town_a,
        month=dt.date(2023, 12, 1), run_on=dt.date(2023, 12, 23), status=JobStatus.FAILED, attempts=5,
        error="OperationalError: database is locked",
    )  # fmt: skip
    ScheduledRun.objects.create(
        step=ScheduleStep.DRAFT_EARLY, kind=ReportKind.WINTER, campaign=scenario.winter,
        region=scenario.world.other_county, month=dt.date(2023, 12, 1), run_on=dt.date(2023, 12, 23),
        status=JobStatus.FAILED, error="外县的错误",
    )  # fmt: skip
    url = reverse("admin:reporting_scheduledrun_changelist")
    force_login_verified(client, cast.admin)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "OperationalError: database is locked" in body and "外县的错误" not in body
    client.post(url, {"action": "allow_again", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.attempts == 0
    client.force_login(cast.town_a_staff)
    assert client.get(url).status_code in (302, 403)
