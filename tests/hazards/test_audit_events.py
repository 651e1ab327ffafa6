"""A hazard's steps are audited by kind (hazard.reported, hazard.report_signed, …) with the step's data,
and every notification it sends — in-app and, with a mail server, e-mail — is one audit row of its own,
filed under the hazard's town and never counted as a row of the hazard itself."""

from __future__ import annotations

import datetime
from typing import Any

from django.core import mail
from django.test import override_settings

from hazards import services
from hazards.choices import HazardLevel, HazardStatus
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Notification
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard
from tests.hazards.test_workflow import report_major


def test_each_step_is_audited_by_its_kind_with_the_statuses(world: World, cast: Cast, catalogue: None) -> None:
    hazard = report_major(world, cast.clerk)
    services.hazard_sign_report(actor=cast.principal, hazard=hazard, fingerprint=hazard_fingerprint(hazard))
    rows = AuditEvent.objects.filter(object_type="事故隐患", object_id=str(hazard.pk)).order_by("id")
    assert [(row.kind, row.action) for row in rows] == [
        (AuditKind.HAZARD_REPORTED, AuditAction.CREATE),
        (AuditKind.HAZARD_REPORT_SIGNED, AuditAction.UPDATE),
    ]
    signed = rows[1]
    assert signed.extra == {
        "hazard_id": hazard.pk, "step": "sign_report", "from_status": HazardStatus.DRAFT,
        "to_status": HazardStatus.PENDING_TOWN, "comment": "",
    }  # fmt: skip
    assert signed.detail == "隐患主要负责人签字上报" and signed.get_kind_display() == "隐患主要负责人签字上报"


def test_notifications_sent_are_audited_once_per_sending(world: World, cast: Cast, catalogue: None) -> None:
    hazard = report_major(world, cast.clerk)
    told = AuditEvent.objects.get(kind=AuditKind.NOTIFICATION_SENT)
    assert (told.action, told.actor, told.object_id) == (AuditAction.NOTIFY, cast.clerk, "")
    assert told.extra["recipients"] == [cast.principal.pk] and told.extra["hazard_id"] == hazard.pk
    assert told.region_path == world.town_a.path
    assert told.detail.startswith("发送站内通知（1 人）：") and "请企业主要负责人确认签字上报" in told.detail
    assert Notification.objects.filter(recipient=cast.principal).count() == 1


def test_nobody_to_tell_writes_no_notification_row(world: World, cast: Cast, catalogue: None) -> None:
    User.objects.filter(pk=cast.principal.pk).update(is_active=False)
    report_major(world, cast.clerk)
    assert not AuditEvent.objects.filter(kind=AuditKind.NOTIFICATION_SENT).exists()


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_emails_sent_are_audited_after_the_commit(
    world: World, cast: Cast, catalogue: None, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.principal.pk).update(email="principal@example.cn")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report_major(world, cast.clerk)
    assert not AuditEvent.objects.filter(kind=AuditKind.EMAIL_SENT).exists()  # nothing sent before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    emailed = AuditEvent.objects.get(kind=AuditKind.EMAIL_SENT)
    assert emailed.extra == {"recipients": [cast.principal.pk], "subject": "非煤矿山安全监管门户：隐患待办"}
    assert emailed.actor is None and emailed.actor_name == "系统"


def test_the_daily_reminders_are_one_audit_row(world: World, cast: Cast, catalogue: None) -> None:
    make_hazard(world.enterprise_a, status=HazardStatus.RECTIFYING, deadline=datetime.date(2024, 6, 28))
    make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, deadline=datetime.date(2024, 6, 20))
    result = services.hazard_send_deadline_reminders(today=datetime.date(2024, 6, 27))
    row = AuditEvent.objects.get(kind=AuditKind.REMINDERS_SENT)
    assert row.extra["reminders"] == result["claimed"] == 2
    assert set(row.extra["recipients"]) == {cast.clerk.pk, cast.principal.pk}
    assert row.detail == f"发送隐患整改到期提醒：2 条隐患，{result['notifications']} 条站内通知"
    # The same day again claims nothing and audits nothing.
    services.hazard_send_deadline_reminders(today=datetime.date(2024, 6, 27))
    assert AuditEvent.objects.filter(kind=AuditKind.REMINDERS_SENT).count() == 1
