"""逾期 computed from the current deadline and today in Asia/Shanghai, and the daily reminder job."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from hazards import services
from hazards.choices import HazardLevel, HazardStatus, NotificationKind, ReminderKind
from hazards.models import Hazard, HazardReminder, Notification
from hazards.selectors import hazard_list
from hazards.tasks import send_deadline_reminders
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

S = HazardStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime.date(2024, 6, 30)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def overdue_ids(today: datetime.date | None = None) -> set[int]:
    return set(Hazard.objects.overdue(today).values_list("pk", flat=True))


def test_overdue_starts_the_day_after_the_deadline_in_shanghai(world: World, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=DEADLINE)
    with time_machine.travel(at(2024, 6, 30, 23, 59), tick=False):
        assert not hazard.is_overdue
        assert overdue_ids() == set()
    # 2024-06-30 16:30 UTC is already 2024-07-01 00:30 in Shanghai.
    with time_machine.travel(datetime.datetime(2024, 6, 30, 16, 30, tzinfo=datetime.UTC), tick=False):
        assert hazard.is_overdue
        assert overdue_ids() == {hazard.pk}
        annotated = Hazard.objects.with_overdue().get(pk=hazard.pk)
        assert annotated.overdue_flag is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "overdue"),
    [
        (S.DRAFT, True),
        (S.PENDING_TOWN, True),
        (S.PENDING_COUNTY, True),
        (S.CONFIRMED, True),
        (S.RECTIFYING, True),
        (S.CLOSURE_REQUESTED, False),  # rectified, waiting for 销号
        (S.CLOSED, False),
    ],
)
def test_overdue_only_while_the_rectification_is_owed(
    world: World, catalogue: None, status: str, overdue: bool
) -> None:
    hazard = make_hazard(world.enterprise_a, status=status, deadline=DEADLINE)
    with time_machine.travel(at(2024, 7, 2, 9), tick=False):
        assert hazard.is_overdue is overdue
        assert (hazard.pk in overdue_ids()) is overdue


def test_general_hazards_waiting_for_verification_are_not_overdue(world: World, catalogue: None) -> None:
    rectified = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFIED, deadline=DEADLINE)
    reported = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.REPORTED, deadline=DEADLINE)
    with time_machine.travel(at(2024, 7, 2, 9), tick=False):
        assert overdue_ids() == {reported.pk}
        assert not rectified.is_overdue


def test_an_approved_extension_ends_the_overdue(world: World, cast: Cast, catalogue: None) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=DEADLINE)
    with time_machine.travel(at(2024, 7, 2, 9), tick=False):
        assert hazard.is_overdue
        extension = services.hazard_request_extension(
            actor=cast.clerk, hazard=hazard, requested_deadline=datetime.date(2024, 7, 31), reason="设备"
        )
        services.hazard_decide_extension(actor=cast.county_staff, extension=extension, approve=True)
        hazard.refresh_from_db()
        assert not hazard.is_overdue
        assert hazard.deadline == DEADLINE  # the original stays on record
        assert overdue_ids() == set()


def test_the_list_filter_uses_the_same_rule(world: World, cast: Cast, catalogue: None) -> None:
    late = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=DEADLINE)
    on_time = make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 7, 31))
    with time_machine.travel(at(2024, 7, 2, 9), tick=False):
        assert {h.pk for h in hazard_list(user=cast.county_staff, params={"overdue": "true"})} == {late.pk}
        assert {h.pk for h in hazard_list(user=cast.county_staff, params={"overdue": "false"})} == {on_time.pk}


# --- the daily reminder job -------------------------------------------------------------------


@pytest.fixture
def due_world(world: World, cast: Cast, catalogue: None) -> dict[str, Hazard]:
    return {
        "due_in_3": make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 6, 30)),
        "due_today": make_hazard(world.enterprise_b, status=S.CONFIRMED, deadline=datetime.date(2024, 6, 27)),
        "overdue": make_hazard(
            world.enterprise_a, level=HazardLevel.GENERAL, status=S.REPORTED, deadline=datetime.date(2024, 6, 20)
        ),
        "later": make_hazard(world.enterprise_a, status=S.RECTIFYING, deadline=datetime.date(2024, 7, 10)),
        "closed_late": make_hazard(world.enterprise_a, status=S.CLOSED, deadline=datetime.date(2024, 6, 1)),
        "waiting_close": make_hazard(
            world.enterprise_a, status=S.CLOSURE_REQUESTED, deadline=datetime.date(2024, 6, 28)
        ),
    }


def sent(kind: str | None = None) -> list[tuple[str, int]]:
    rows = Notification.objects.exclude(kind__in=[NotificationKind.ACTION, NotificationKind.INFO])
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("recipient__username", "hazard_id"))


def test_daily_reminders_list_due_and_overdue_and_are_idempotent(
    due_world: dict[str, Hazard], cast: Cast, world: World
) -> None:
    with time_machine.travel(at(2024, 6, 27, 7, 30), tick=False):
        result = send_deadline_reminders()
        assert result == {"claimed": 3, "notifications": 4}
        a = due_world
        assert sent(NotificationKind.DUE_SOON) == sorted(
            [("clerk", a["due_in_3"].pk), ("principal", a["due_in_3"].pk)]
        )  # enterprise_b has no users in the cast: its hazard is claimed but nobody to tell
        assert sent(NotificationKind.OVERDUE) == sorted([("clerk", a["overdue"].pk), ("principal", a["overdue"].pk)])
        message = Notification.objects.get(recipient=cast.clerk, hazard=a["overdue"]).message
        assert "已逾期7天" in message and "2024-06-20" in message
        # The same day again (a retried task, a second beat): nothing new.
        assert send_deadline_reminders() == {"claimed": 0, "notifications": 0}
        assert len(sent()) == 4
        assert HazardReminder.objects.count() == 3
    # The next day they are reminded again.
    with time_machine.travel(at(2024, 6, 28, 7, 30), tick=False):
        assert send_deadline_reminders()["notifications"] == 4
        assert HazardReminder.objects.filter(date=datetime.date(2024, 6, 28)).count() == 3


def test_a_row_claimed_by_another_worker_is_not_sent_again(due_world: dict[str, Hazard]) -> None:
    day = datetime.date(2024, 6, 27)
    # Another worker has already inserted and claimed the overdue reminder.
    HazardReminder.objects.create(hazard=due_world["overdue"], kind=ReminderKind.OVERDUE, date=day, claim_token="x")
    result = services.hazard_send_deadline_reminders(today=day)
    assert result["claimed"] == 2
    assert {hazard for _, hazard in sent()} == {due_world["due_in_3"].pk}


def test_the_task_takes_a_day_argument(due_world: dict[str, Hazard]) -> None:
    assert send_deadline_reminders.run("2024-07-15")["claimed"] == 4  # every open one is overdue by then
    assert HazardReminder.objects.filter(date=datetime.date(2024, 7, 15)).count() == 4


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_reminders_are_emailed_once_per_person_when_email_is_configured(
    due_world: dict[str, Hazard], cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.clerk.pk).update(email="clerk@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        services.hazard_send_deadline_reminders(today=datetime.date(2024, 6, 27))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["clerk@example.cn"]
    assert "已逾期" in mail.outbox[0].body and "将于3天后到期" in mail.outbox[0].body


def test_beat_schedules_the_job_daily() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["hazard-deadline-reminders"]
    assert entry["task"] == send_deadline_reminders.name
    assert entry["schedule"].hour == {7}  # type: ignore[attr-defined]
