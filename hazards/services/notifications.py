"""Who is told (站内通知, e-mail after commit when configured); marking as read."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hazards.choices import HazardStatus, NotificationKind
from hazards.models import Hazard, Notification
from hazards.services.base import S
from portal.choices import RegionLevel, Role
from portal.models import User

# What the holder of each status is asked to do (the notification text).
NEXT_STEP = {
    S.DRAFT: "请企业主要负责人确认签字上报",
    S.PENDING_TOWN: "请镇应急管理中心确认",
    S.PENDING_COUNTY: "请县局确认",
    S.CONFIRMED: "请落实“五落实”并开始整改",
    S.REPORTED: "请制定整改措施并开始整改",
    S.RECTIFYING: "请按期完成整改",
    S.CLOSURE_REQUESTED: "请县局审核销号",
    S.RECTIFIED: "请镇应急管理中心验收",
    S.CLOSED: "已销号",
    S.VERIFIED: "已验收",
}


def _active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def enterprise_users(hazard: Hazard, roles: Iterable[str] | None = None) -> QuerySet[User]:
    return _active_users().filter(
        enterprise_id=hazard.enterprise_id,
        role__in=list(roles or (Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL)),
    )


def town_staff(hazard: Hazard) -> QuerySet[User]:
    return _active_users().filter(role=Role.TOWN_STAFF, region_id=hazard.enterprise.town_id)


def county_staff(hazard: Hazard) -> QuerySet[User]:
    codes = [code for code in hazard.enterprise.town.path.split("/") if code]
    return _active_users().filter(role=Role.COUNTY_STAFF, region__level=RegionLevel.COUNTY, region__code__in=codes)


def holders(hazard: Hazard) -> QuerySet[User]:
    """Whoever must act next on a hazard in its current status."""
    status = hazard.status
    if status == S.DRAFT:
        return enterprise_users(hazard, [Role.ENTERPRISE_PRINCIPAL])
    if status in {S.PENDING_TOWN, S.RECTIFIED}:
        return town_staff(hazard)
    if status in {S.PENDING_COUNTY, S.CLOSURE_REQUESTED}:
        return county_staff(hazard)
    return enterprise_users(hazard)


def email_configured() -> bool:
    backend = getattr(settings, "EMAIL_BACKEND", "")
    return bool(backend) and not backend.endswith(("console.EmailBackend", "dummy.EmailBackend"))


def _send_emails_later(messages: dict[int, list[str]], subject: str) -> None:
    """E-mail each recipient one message after the transaction commits (never for a rolled-back step)."""
    if not messages or not email_configured():
        return

    def send() -> None:
        for user in User.objects.filter(pk__in=list(messages)).exclude(email=""):
            send_mail(subject, "\n".join(messages[user.pk]), None, [user.email], fail_silently=True)

    transaction.on_commit(send)


def notify(
    *,
    recipients: Iterable[User],
    hazard: Hazard | None,
    message: str,
    kind: str = NotificationKind.ACTION,
    exclude: User | None = None,
    subject: str = "非煤矿山安全监管门户：隐患待办",
) -> list[Notification]:
    """站内通知 to each recipient (but `exclude`), and an e-mail after the commit when a server is configured."""
    users = [user for user in recipients if exclude is None or user.pk != exclude.pk]
    rows = Notification.objects.bulk_create(
        [Notification(recipient=user, hazard=hazard, kind=kind, message=message[:500]) for user in users]
    )
    _send_emails_later({user.pk: [message] for user in users}, subject)
    return rows


def _describe(hazard: Hazard) -> str:
    text = hazard.description.strip().replace("\n", " ")
    short = text if len(text) <= 30 else f"{text[:30]}…"
    return f"{hazard.enterprise.name}的{hazard.get_level_display()}“{short}”"


def _notify_holders(hazard: Hazard, actor: User | None, what: str) -> None:
    kind = NotificationKind.INFO if hazard.status in S.finished() else NotificationKind.ACTION
    notify(
        recipients=holders(hazard),
        hazard=hazard,
        message=f"{_describe(hazard)}{what}，{NEXT_STEP[HazardStatus(hazard.status)]}。",
        kind=kind,
        exclude=actor,
    )


# --- notifications and the daily deadline job -------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given)."""
    queryset = Notification.objects.filter(recipient=actor, is_read=False)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(is_read=True, read_at=timezone.now())
