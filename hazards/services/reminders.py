"""The daily job reminding holders of hazards due soon and overdue."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict

from django.db import transaction

from hazards.choices import NotificationKind, ReminderKind
from hazards.models import DUE_SOON_DAYS, Hazard, HazardReminder, Notification, local_today
from hazards.services.notifications import _active_users, _describe, _send_emails_later
from portal.choices import Role
from portal.models import User


def _reminder_message(hazard: Hazard, kind: str, today: datetime.date) -> str:
    deadline = hazard.current_deadline
    assert deadline is not None
    if kind == ReminderKind.OVERDUE:
        return f"{_describe(hazard)}已逾期{(today - deadline).days}天（整改时限{deadline:%Y-%m-%d}），请尽快整改。"
    days = (deadline - today).days
    when = "今天" if days == 0 else f"{days}天后"
    return f"{_describe(hazard)}的整改时限{deadline:%Y-%m-%d}将于{when}到期，请按期完成整改。"


def hazard_send_deadline_reminders(*, today: datetime.date | None = None) -> dict[str, int]:
    """The daily job: remind the responsible enterprise users of hazards due within 3 days and of overdue ones.

    Idempotent per day and safe with two workers: each (hazard, kind, day) gets one HazardReminder row
    (unique), and a worker only sends the rows it claimed with a conditional UPDATE.
    """
    today = today or local_today()
    candidates = [
        (ReminderKind.DUE_SOON, Hazard.objects.due_within(DUE_SOON_DAYS, today)),
        (ReminderKind.OVERDUE, Hazard.objects.overdue(today)),
    ]
    batch: list[HazardReminder] = []
    for kind, queryset in candidates:
        for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=2000):
            batch.append(HazardReminder(hazard_id=pk, kind=kind, date=today))
            if len(batch) >= 2000:
                HazardReminder.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
    if batch:
        HazardReminder.objects.bulk_create(batch, ignore_conflicts=True)

    token = uuid.uuid4().hex
    with transaction.atomic():
        claimed = HazardReminder.objects.filter(date=today, claim_token="").update(claim_token=token)  # nosec B106 # an unclaimed reminder's empty token, not a password
        if not claimed:
            return {"claimed": 0, "notifications": 0}
        reminders = list(
            HazardReminder.objects.filter(date=today, claim_token=token).select_related("hazard", "hazard__enterprise")
        )
        enterprise_ids = {reminder.hazard.enterprise_id for reminder in reminders}
        recipients: dict[int, list[User]] = defaultdict(list)
        for user in _active_users().filter(
            enterprise_id__in=enterprise_ids, role__in=[Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL]
        ):
            assert user.enterprise_id is not None
            recipients[user.enterprise_id].append(user)
        rows: list[Notification] = []
        emails: dict[int, list[str]] = defaultdict(list)
        for reminder in reminders:
            hazard = reminder.hazard
            message = _reminder_message(hazard, reminder.kind, today)
            notification_kind = (
                NotificationKind.OVERDUE if reminder.kind == ReminderKind.OVERDUE else NotificationKind.DUE_SOON
            )
            for user in recipients.get(hazard.enterprise_id, []):
                rows.append(Notification(recipient=user, hazard=hazard, kind=notification_kind, message=message[:500]))
                emails[user.pk].append(message)
        Notification.objects.bulk_create(rows, batch_size=1000)
        _send_emails_later(emails, f"非煤矿山安全监管门户：隐患整改到期提醒（{today:%Y-%m-%d}）")
    return {"claimed": claimed, "notifications": len(rows)}
