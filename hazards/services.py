"""Writes to hazards: the major- and general-hazard workflows, evidence, extensions, notifications.

Every step is one transaction that
  1. locks the hazard row (select_for_update) fetched through `visible_to(actor)` — out of scope is 404;
  2. refuses if the hazard changed since the caller read it ("该隐患状态已变更…"), so of two people
     confirming at once exactly one succeeds;
  3. checks the step against the rule table in `hazards.permissions` (role and current status);
  4. writes a HazardEvent (who, when, from, to, comment) AND a portal audit row;
  5. notifies whoever must act next (in the portal; by e-mail after commit when e-mail is configured).
Nothing here runs in save() or in signals.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from hazards import audit_events as hazard_events
from hazards.choices import (
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardLevel,
    HazardStatus,
    NotificationKind,
    ReminderKind,
    SupervisionLevel,
)
from hazards.fields import FIVE_IMPLEMENTATION_FIELDS, declared_fields, refused_fields, update_roles
from hazards.fingerprint import hazard_fingerprint
from hazards.models import (
    DUE_SOON_DAYS,
    ExtensionRequest,
    Hazard,
    HazardEvent,
    HazardEvidence,
    HazardReminder,
    MajorHazardCriterion,
    Notification,
    hazard_identity_key,
    local_today,
)
from hazards.permissions import (
    ADMIN,
    ENTERPRISE,
    REGION_STAFF,
    Rule,
    check_action,
)
from hazards.validation import criterion_errors, hazard_date_errors, plausible_date_errors, rectified_on_errors
from hazards.workflow import ENTERPRISE_USERS, EXTENSION_DECIDERS, HOLDERS, WORKFLOW, notice_text
from portal import audit_events, rules
from portal.audit import snapshot
from portal.bulk import bulk_insert
from portal.choices import RegionLevel, Role
from portal.images import is_raster, make_thumbnail, thumbnail_name
from portal.models import Enterprise, User
from portal.upload_types import DOCUMENTS, check_upload

A = HazardAction
S = HazardStatus

# What the pages and the API may edit (hazard_update) and what an admin may correct (hazard_admin_amend),
# both read from the one declaration of who owns which field in which status (hazards.fields).
EDITABLE_FIELDS = declared_fields(ENTERPRISE | REGION_STAFF)
AMENDABLE_FIELDS = declared_fields(ADMIN)

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


class HazardStateChanged(ValidationError):
    """Someone else moved the hazard on since the caller read it."""


# --- helpers --------------------------------------------------------------------------------------


def _name(user: User | None) -> str:
    if user is None:
        return "系统"
    return user.full_name or user.get_username()


def _lock(*, actor: User, hazard: Hazard, expect_status: bool = True) -> Hazard:
    """The hazard row, locked, as the actor may see it; 404 outside scope; refusal if it moved on."""
    try:
        locked = (
            Hazard.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("enterprise__town")
            .get(pk=hazard.pk)
        )
    except Hazard.DoesNotExist:
        raise Http404("未找到该隐患。") from None
    if expect_status and locked.status != hazard.status:
        raise HazardStateChanged(
            f"该隐患状态已变更为“{locked.get_status_display()}”（原为“{HazardStatus(hazard.status).label}”），"
            "请刷新页面后重试。"
        )
    return locked


def _require_text(value: str | None, message: str, field: str | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message} if field else message)
    return text


def _record(
    *,
    actor: User | None,
    hazard: Hazard,
    action: str,
    from_status: str,
    before: dict[str, Any] | None,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> HazardEvent:
    event = HazardEvent.objects.create(
        hazard=hazard,
        actor=actor,
        actor_name=_name(actor),
        action=action,
        from_status=from_status,
        to_status=hazard.status,
        comment=comment,
        data=data or {},
    )
    hazard_events.STEP_EVENTS[action](
        actor=actor, hazard=hazard, step=action, from_status=from_status, before=before, comment=comment
    )
    return event


def record_events_many(events: Iterable[Mapping[str, Any]], *, at: datetime.datetime | None = None) -> int:
    """Many timeline events at once (a ledger import's), inside the caller's transaction, with one timestamp.

    Each entry holds what `_record` gives one event: hazard, actor, action, from_status, comment, data, and
    to_status when it is not the hazard's status now (a step of an imported history); actor_name when the
    writer is not a user's own name (``manage.py import_ledger``). Their audit rows go to
    `portal.audit.audit_record_many`. One timestamp, ``at`` when the caller gives its own. Written by
    `portal.bulk.bulk_insert` (COPY on PostgreSQL).
    """
    now = at or timezone.now()
    rows = [
        {
            "hazard_id": event["hazard"].pk,
            "actor_id": event["actor"].pk if event["actor"] is not None else None,
            "actor_name": event.get("actor_name") or _name(event["actor"]),
            "created_at": now,
            "action": event["action"],
            "from_status": event["from_status"],
            "to_status": event.get("to_status", event["hazard"].status),
            "comment": event.get("comment", ""),
            "data": event.get("data") or {},
        }
        for event in events
    ]
    bulk_insert(HazardEvent, rows)
    return len(rows)


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
        sent = []
        for user in User.objects.filter(pk__in=list(messages)).exclude(email=""):
            if send_mail(subject, "\n".join(messages[user.pk]), None, [user.email], fail_silently=True):
                sent.append(user.pk)
        if sent:
            hazard_events.emails_sent(recipients=sent, subject=subject)

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
    if users:
        # `exclude` is the one whose step caused the notice (never told of their own step): the sender.
        hazard_events.notifications_sent(
            actor=exclude, recipients=[user.pk for user in users], kind=kind, message=message, hazard=hazard
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


def _notify_step(*, actor: User | None, hazard: Hazard, action: str, **values: Any) -> None:
    """The notification the step declares (hazards.workflow), filled in with the service's values."""
    step = WORKFLOW.step(action)
    if step.notice is None:
        return
    text = notice_text(step, hazard=_describe(hazard), **values)
    if step.notice.recipients == HOLDERS:
        _notify_holders(hazard, actor, text)
        return
    recipients = {ENTERPRISE_USERS: enterprise_users, EXTENSION_DECIDERS: _extension_deciders}
    notify(
        recipients=recipients[step.notice.recipients](hazard),
        hazard=hazard,
        message=text,
        kind=step.notice.kind,
        exclude=actor,
    )


def _transition(*, actor: User, hazard: Hazard, action: str) -> tuple[Hazard, Rule, dict[str, Any]]:
    """Lock, check, and move a hazard to the rule's target status (not yet saved or recorded)."""
    locked = _lock(actor=actor, hazard=hazard)
    rule = check_action(actor, locked, action)
    if action in WORKFLOW.not_rectifier:
        _check_not_rectifier(actor, locked, HazardAction(action).label)
    before = snapshot(locked)
    if rule.target is not None:
        locked.status = rule.target
    return locked, rule, before


def _finish(
    *,
    actor: User,
    hazard: Hazard,
    action: str,
    from_status: str,
    before: dict[str, Any],
    comment: str = "",
    data: dict[str, Any] | None = None,
    notice: dict[str, Any] | None = None,
    notify_next: bool = True,
) -> Hazard:
    hazard.save()
    _record(
        actor=actor, hazard=hazard, action=action, from_status=from_status, before=before, comment=comment, data=data
    )
    if notify_next:
        # The declared text may name the step's comment or any value the service adds in `notice`.
        _notify_step(actor=actor, hazard=hazard, action=action, **{"comment": comment, **(notice or {})})
    return hazard


def _check_plausible(**dates: datetime.date | None) -> None:
    """Every date a step takes lies in the plausible range (the rule of `hazards.validation`)."""
    errors = plausible_date_errors(**dates)
    if errors:
        raise ValidationError(errors)


def _check_dates(*, found_on: datetime.date | None, deadline: datetime.date | None) -> None:
    errors = hazard_date_errors(found_on=found_on, deadline=deadline, today=local_today())
    if errors:
        raise ValidationError(errors)


def _check_criterion(*, level: str, criterion: MajorHazardCriterion | None, enterprise: Enterprise) -> None:
    errors = criterion_errors(level=level, criterion=criterion, at_path=enterprise.town.path)
    if errors:
        raise ValidationError(errors)


def _validate_and_key(hazard: Hazard) -> None:
    """Recompute the ledger identity and validate fields and constraints (friendly duplicate message)."""
    hazard.identity_key = hazard_identity_key(
        ledger_number=hazard.ledger_number, found_on=hazard.found_on, description=hazard.description
    )
    hazard.full_clean()


def _save_unique(hazard: Hazard) -> None:
    try:
        with transaction.atomic():
            hazard.save()
    except IntegrityError as exc:  # a concurrent insert of the same ledger row
        raise ValidationError("该企业已有同一编号（或同一发现日期和内容）的隐患。") from exc


# --- reporting ---------------------------------------------------------------------------------


@transaction.atomic
def hazard_report(
    *,
    actor: User,
    enterprise: Enterprise,
    level: str,
    description: str,
    category: str,
    source: str,
    found_on: datetime.date,
    location: str = "",
    found_by: str = "",
    ledger_number: str = "",
    criterion: MajorHazardCriterion | None = None,
    criterion_text: str = "",
    measures: str = "",
    responsible_unit: str = "",
    responsible_person: str = "",
    funds_wan: Decimal | None = None,
    deadline: datetime.date | None = None,
    interim_measures: str = "",
    comment: str = "",
) -> Hazard:
    """上报. A general hazard is reported at once; a major one is a draft until the principal signs it."""
    if not Enterprise.objects.visible_to(actor).filter(pk=enterprise.pk).exists():
        raise Http404("未找到该企业。")
    rules.require(actor, "hazards.report", level)
    _require_text(description, "请填写隐患内容。", "description")
    _check_criterion(level=level, criterion=criterion, enterprise=enterprise)
    _check_dates(found_on=found_on, deadline=deadline)
    hazard = Hazard(
        enterprise=enterprise,
        level=level,
        description=description.strip(),
        category=category,
        source=source,
        found_on=found_on,
        location=location.strip(),
        found_by=found_by.strip(),
        ledger_number=ledger_number.strip(),
        criterion=criterion,
        criterion_text=criterion_text.strip(),
        measures=measures.strip(),
        responsible_unit=responsible_unit.strip(),
        responsible_person=responsible_person.strip(),
        funds_wan=funds_wan,
        deadline=deadline,
        current_deadline=deadline,
        interim_measures=interim_measures.strip(),
        status=S.DRAFT if level == HazardLevel.MAJOR else S.REPORTED,
        reported_by=actor,
    )
    _validate_and_key(hazard)
    _save_unique(hazard)
    _record(
        actor=actor,
        hazard=hazard,
        action=A.REPORT,
        from_status="",
        before=None,
        comment=comment,
    )
    _notify_holders(hazard, actor, "已填报" if level == HazardLevel.MAJOR else "已上报")
    return hazard


SIGN_CHANGED_MESSAGE = "打开页面后该隐患的内容或材料已有修改，未签字。请刷新页面核对后重新签字。"


@transaction.atomic
def hazard_sign_report(*, actor: User, hazard: Hazard, fingerprint: str, comment: str = "") -> Hazard:
    """主要负责人确认签字: the major hazard goes to the town.

    `fingerprint` is `hazards.fingerprint.hazard_fingerprint` of the hazard as the principal was shown it:
    refused (nothing signed) when the hazard, its evidence or its criterion's wording changed since."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.SIGN_REPORT)
    if fingerprint != hazard_fingerprint(locked):
        raise HazardStateChanged(SIGN_CHANGED_MESSAGE)
    locked.signed_by = actor
    locked.signed_at = timezone.now()
    return _finish(
        actor=actor, hazard=locked, action=A.SIGN_REPORT, from_status=S.DRAFT, before=before, comment=comment,
    )  # fmt: skip


@transaction.atomic
def hazard_town_confirm(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """镇确认 (first level of 两级确认)."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.TOWN_CONFIRM)
    return _finish(
        actor=actor, hazard=locked, action=A.TOWN_CONFIRM, from_status=S.PENDING_TOWN, before=before,
        comment=comment,
    )  # fmt: skip


@transaction.atomic
def hazard_county_confirm(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """县确认 (second level): the major hazard is confirmed and must be rectified."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.COUNTY_CONFIRM)
    return _finish(
        actor=actor, hazard=locked, action=A.COUNTY_CONFIRM, from_status=S.PENDING_COUNTY, before=before,
        comment=comment,
    )  # fmt: skip


@transaction.atomic
def hazard_send_back(*, actor: User, hazard: Hazard, reason: str) -> Hazard:
    """退回 with a reason, to whoever held the hazard before this confirmation."""
    reason = _require_text(reason, "退回必须填写理由。", "reason")
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.SEND_BACK)
    return _finish(
        actor=actor, hazard=locked, action=A.SEND_BACK, from_status=hazard.status, before=before, comment=reason,
        notice={"reason": reason},
    )  # fmt: skip


# --- supervision and rectification ------------------------------------------------------------


@transaction.atomic
def hazard_list_for_supervision(
    *,
    actor: User,
    hazard: Hazard,
    level: str,
    unit: str,
    doc_number: str,
    date: datetime.date,
    deadline: datetime.date,
    comment: str = "",
) -> Hazard:
    """挂牌督办 of a confirmed major hazard."""
    if level not in SupervisionLevel.values:
        raise ValidationError({"level": "请选择督办级别（省级、市级或县级）。"})
    unit = _require_text(unit, "请填写督办单位。", "unit")
    doc_number = _require_text(doc_number, "请填写督办文号。", "doc_number")
    if date is None or deadline is None:
        raise ValidationError("请填写督办日期和督办期限。")
    _check_plausible(date=date, deadline=deadline)
    if deadline < date:
        raise ValidationError({"deadline": "督办期限不能早于督办日期。"})
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.LIST_FOR_SUPERVISION)
    if locked.supervision_level:
        raise ValidationError("该隐患已挂牌督办。如需更正督办信息，请联系管理员。")
    locked.supervision_level = level
    locked.supervision_unit = unit
    locked.supervision_doc_number = doc_number
    locked.supervision_date = date
    locked.supervision_deadline = deadline
    data = {"level": level, "unit": unit, "doc_number": doc_number, "date": str(date), "deadline": str(deadline)}
    locked.save()
    _record(
        actor=actor, hazard=locked, action=A.LIST_FOR_SUPERVISION, from_status=locked.status, before=before,
        comment=comment, data=data,
    )  # fmt: skip
    _notify_step(
        actor=actor, hazard=locked, action=A.LIST_FOR_SUPERVISION, level_label=SupervisionLevel(level).label,
        doc_number=doc_number, deadline=deadline,
    )  # fmt: skip
    return locked


@transaction.atomic
def hazard_start_rectification(
    *,
    actor: User,
    hazard: Hazard,
    measures: str | None = None,
    responsible_unit: str | None = None,
    responsible_person: str | None = None,
    funds_wan: Decimal | None = None,
    deadline: datetime.date | None = None,
    interim_measures: str | None = None,
    comment: str = "",
) -> Hazard:
    """整改中. A major hazard needs all five 五落实 items; a general one needs measures and a deadline.

    The 五落实 may be completed in the same step (arguments left None keep what is recorded).
    """
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.START_RECTIFICATION)
    old_deadline = locked.deadline
    given = {
        "measures": measures,
        "responsible_unit": responsible_unit,
        "responsible_person": responsible_person,
        "funds_wan": funds_wan,
        "deadline": deadline,
        "interim_measures": interim_measures,
    }
    # Completing the 五落实 here follows the same ownership as editing it (a fixed deadline stays).
    _refuse_unowned(
        locked, [key for key, value in given.items() if value is not None and _differs(locked, key, value)],
        update_roles(actor),
    )  # fmt: skip
    for key, value in given.items():
        if value is not None and key != "deadline":
            setattr(locked, key, value.strip() if isinstance(value, str) else value)
    if deadline is not None:
        locked.deadline = deadline
        if locked.current_deadline is None or locked.current_deadline == old_deadline:
            locked.current_deadline = deadline
    if locked.is_major:
        missing = locked.missing_five_implementations()
        if missing:
            raise ValidationError(f"“五落实”不全，不能开始整改。尚缺：{'、'.join(missing)}。")
    else:
        missing = [
            name for name, ok in (("整改措施", locked.measures.strip()), ("整改时限", locked.deadline)) if not ok
        ]
        if missing:
            raise ValidationError(f"请先填写{'、'.join(missing)}，再开始整改。")
    _check_dates(found_on=locked.found_on, deadline=locked.deadline)
    locked.full_clean()
    return _finish(
        actor=actor, hazard=locked, action=A.START_RECTIFICATION, from_status=hazard.status, before=before,
        comment=comment,
    )  # fmt: skip


def _has_closure_evidence(hazard: Hazard) -> bool:
    return hazard.evidence.filter(kind__in=EvidenceKind.closure_evidence()).exists()


def _check_rectified_on(hazard: Hazard, rectified_on: datetime.date | None) -> datetime.date:
    if rectified_on is None:
        raise ValidationError({"rectified_on": "请填写整改完成日期。"})
    errors = rectified_on_errors(rectified_on=rectified_on, found_on=hazard.found_on, today=local_today())
    if errors:
        raise ValidationError(errors)
    return rectified_on


@transaction.atomic
def hazard_request_closure(
    *, actor: User, hazard: Hazard, rectified_on: datetime.date, rectification_note: str, comment: str = ""
) -> Hazard:
    """申请销号 of a rectified major hazard, with at least one rectification or closure file."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.REQUEST_CLOSURE)
    locked.rectified_on = _check_rectified_on(locked, rectified_on)
    locked.rectification_note = _require_text(rectification_note, "请填写整改情况。", "rectification_note")
    if not _has_closure_evidence(locked):
        raise ValidationError("申请销号前，请至少上传一份整改材料或销号材料。")
    locked.rectified_by = actor
    return _finish(
        actor=actor, hazard=locked, action=A.REQUEST_CLOSURE, from_status=S.RECTIFYING, before=before,
        comment=comment,
    )  # fmt: skip


def _check_not_rectifier(actor: User, hazard: Hazard, what: str) -> None:
    if hazard.rectified_by_id is not None and hazard.rectified_by_id == actor.pk:
        raise PermissionDenied(f"整改填报人不能{what}自己填报的整改，请由其他人员办理。")


@transaction.atomic
def hazard_close(*, actor: User, hazard: Hazard, closed_on: datetime.date | None = None, comment: str = "") -> Hazard:
    """销号 by the county. The person who rectified never verifies."""
    _check_plausible(closed_on=closed_on)
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.CLOSE)
    closed_on = closed_on or local_today()
    if locked.rectified_on is not None and closed_on < locked.rectified_on:
        raise ValidationError({"closed_on": "销号日期不能早于整改完成日期。"})
    locked.verified_by = actor
    locked.closed_on = closed_on
    return _finish(
        actor=actor, hazard=locked, action=A.CLOSE, from_status=S.CLOSURE_REQUESTED, before=before, comment=comment,
    )  # fmt: skip


@transaction.atomic
def hazard_mark_rectified(
    *,
    actor: User,
    hazard: Hazard,
    rectified_on: datetime.date,
    rectification_note: str = "",
    comment: str = "",
) -> Hazard:
    """已整改 (general hazard), with the date and a note or a rectification file."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.MARK_RECTIFIED)
    locked.rectified_on = _check_rectified_on(locked, rectified_on)
    locked.rectification_note = (rectification_note or "").strip()
    if not locked.rectification_note and not _has_closure_evidence(locked):
        raise ValidationError("请填写整改情况或上传整改材料。")
    locked.rectified_by = actor
    return _finish(
        actor=actor, hazard=locked, action=A.MARK_RECTIFIED, from_status=S.RECTIFYING, before=before,
        comment=comment,
    )  # fmt: skip


@transaction.atomic
def hazard_verify(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """已验收 (general hazard) by the town. The person who rectified never verifies."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.VERIFY)
    locked.verified_by = actor
    locked.closed_on = local_today()
    return _finish(
        actor=actor, hazard=locked, action=A.VERIFY, from_status=S.RECTIFIED, before=before, comment=comment,
    )  # fmt: skip


# --- extensions, re-checks, corrections ---------------------------------------------------------


def _extension_deciders(hazard: Hazard) -> QuerySet[User]:
    return county_staff(hazard) if hazard.is_major else town_staff(hazard)


@transaction.atomic
def hazard_request_extension(
    *, actor: User, hazard: Hazard, requested_deadline: datetime.date, reason: str
) -> ExtensionRequest:
    """申请延期. The hazard keeps its deadline until the request is approved."""
    _check_plausible(requested_deadline=requested_deadline)
    reason = _require_text(reason, "请填写延期理由。", "reason")
    locked = _lock(actor=actor, hazard=hazard, expect_status=False)
    rules.require(actor, "hazards.request_extension", locked)
    if locked.current_deadline is None:
        raise ValidationError("该隐患尚未确定整改时限，无需申请延期。")
    if requested_deadline is None or requested_deadline <= locked.current_deadline:
        raise ValidationError(
            {"requested_deadline": f"申请的整改时限须晚于现整改时限（{locked.current_deadline:%Y-%m-%d}）。"}
        )
    if locked.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise ValidationError("该隐患已有待审批的延期申请，请等待审批结果。")
    before = snapshot(locked)
    extension = ExtensionRequest.objects.create(
        hazard=locked,
        requested_by=actor,
        old_deadline=locked.current_deadline,
        requested_deadline=requested_deadline,
        reason=reason,
    )
    _record(
        actor=actor, hazard=locked, action=A.REQUEST_EXTENSION, from_status=locked.status, before=before,
        comment=reason, data={"extension": extension.pk, "requested_deadline": str(requested_deadline)},
    )  # fmt: skip
    _notify_step(
        actor=actor, hazard=locked, action=A.REQUEST_EXTENSION, old_deadline=extension.old_deadline,
        requested_deadline=requested_deadline,
    )  # fmt: skip
    return extension


@transaction.atomic
def hazard_decide_extension(
    *, actor: User, extension: ExtensionRequest, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """审批延期. Approval moves the current deadline; the original deadline and the old one are kept."""
    locked_hazard = _lock(actor=actor, hazard=extension.hazard, expect_status=False)
    rules.require(actor, "hazards.decide_extension", locked_hazard)
    locked = ExtensionRequest.objects.select_for_update().get(pk=extension.pk, hazard=locked_hazard)
    if locked.status != ExtensionStatus.PENDING:
        raise HazardStateChanged(f"该延期申请已{locked.get_status_display().removeprefix('已')}，请刷新页面后重试。")
    if not approve:
        comment = _require_text(comment, "驳回延期申请必须填写理由。", "comment")
    before = snapshot(locked_hazard)
    locked.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_comment = comment.strip()
    locked.save()
    if approve:
        locked_hazard.current_deadline = locked.requested_deadline
        locked_hazard.save()
    _record(
        actor=actor, hazard=locked_hazard, action=A.DECIDE_EXTENSION, from_status=locked_hazard.status,
        before=before, comment=comment.strip(),
        data={
            "extension": locked.pk, "approved": approve, "old_deadline": str(locked.old_deadline),
            "requested_deadline": str(locked.requested_deadline),
        },
    )  # fmt: skip
    outcome = (
        f"已批准，整改时限延至{locked.requested_deadline:%Y-%m-%d}" if approve else f"被驳回（理由：{comment.strip()}）"
    )
    _notify_step(actor=actor, hazard=locked_hazard, action=A.DECIDE_EXTENSION, outcome=outcome)
    return locked


@transaction.atomic
def hazard_recheck(
    *,
    actor: User,
    hazard: Hazard,
    passed: bool,
    comment: str = "",
    new_deadline: datetime.date | None = None,
) -> Hazard:
    """回头看 of a closed hazard. A failed re-check reopens it (整改中) with the reason.

    The enterprise then rectifies again; the previous rectification and closure stay in the timeline.
    """
    _check_plausible(new_deadline=new_deadline)
    if not passed:
        comment = _require_text(comment, "回头看不合格必须填写理由。", "comment")
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.RECHECK)
    from_status = locked.status
    data: dict[str, Any] = {"passed": passed}
    if passed:
        _record(
            actor=actor, hazard=locked, action=A.RECHECK, from_status=from_status, before=before,
            comment=comment.strip(), data=data,
        )  # fmt: skip
        return locked
    if new_deadline is not None:
        if new_deadline < local_today():
            raise ValidationError({"new_deadline": "新的整改时限不能早于今天。"})
        locked.current_deadline = new_deadline
        data["new_deadline"] = str(new_deadline)
    data["closed_on"] = str(locked.closed_on) if locked.closed_on else None
    locked.status = S.RECTIFYING
    locked.closed_on = None
    locked.verified_by = None
    locked.rectified_on = None
    locked.rectified_by = None
    return _finish(
        actor=actor, hazard=locked, action=A.RECHECK, from_status=from_status, before=before, comment=comment,
        data=data,
    )  # fmt: skip


def _differs(hazard: Hazard, name: str, value: Any) -> bool:
    current = getattr(hazard, name)
    if isinstance(value, str):
        return value.strip() != (current or "")
    return bool(value != current)


def _refuse_unowned(hazard: Hazard, names: Iterable[str], roles: frozenset[str]) -> None:
    """Refuse (by field, in Chinese) a change the declaration in hazards.fields does not give these roles."""
    refused = refused_fields(hazard, names, roles=roles)
    if refused:
        raise PermissionDenied("；".join(refused.values()))


def _apply_changes(hazard: Hazard, data: dict[str, Any], allowed: frozenset[str], roles: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(unknown)}。")
    _refuse_unowned(hazard, [key for key, value in data.items() if _differs(hazard, key, value)], roles)
    old_deadline = hazard.deadline
    for key, value in data.items():
        setattr(hazard, key, value.strip() if isinstance(value, str) else value)
    if "deadline" in data and "current_deadline" not in data and hazard.current_deadline in (None, old_deadline):
        hazard.current_deadline = hazard.deadline


@transaction.atomic
def hazard_update(*, actor: User, hazard: Hazard, data: dict[str, Any], comment: str = "") -> Hazard:
    """Edit an open hazard's details (not its status or level). A closed hazard changes only by an admin."""
    locked = _lock(actor=actor, hazard=hazard, expect_status=False)
    if locked.is_finished:
        raise ValidationError("该隐患已销号（或已验收），只能由管理员更正并说明理由。")
    rules.require(actor, "hazards.update", locked)
    before = snapshot(locked)
    # Who may change which field in which status (a signed major hazard's details, a fixed deadline…).
    _apply_changes(locked, data, EDITABLE_FIELDS, update_roles(actor))
    _check_criterion(level=locked.level, criterion=locked.criterion, enterprise=locked.enterprise)
    _check_dates(found_on=locked.found_on, deadline=locked.deadline)
    _validate_and_key(locked)
    if snapshot(locked) == before:
        return locked
    _save_unique(locked)
    changed = sorted(k for k, v in snapshot(locked).items() if before.get(k) != v and k != "updated_at")
    _record(
        actor=actor, hazard=locked, action=A.UPDATE, from_status=locked.status, before=before, comment=comment,
        data={"fields": changed},
    )  # fmt: skip
    return locked


@transaction.atomic
def hazard_admin_amend(*, actor: User, hazard: Hazard, data: dict[str, Any], reason: str) -> Hazard:
    """管理员更正: the only way a closed hazard changes. The reason is mandatory and recorded."""
    reason = _require_text(reason, "管理员更正必须填写理由。", "reason")
    locked = _lock(actor=actor, hazard=hazard, expect_status=False)
    rules.require(actor, "hazards.admin_amend", locked)
    before = snapshot(locked)
    _apply_changes(locked, data, AMENDABLE_FIELDS, ADMIN)
    _check_criterion(level=locked.level, criterion=locked.criterion, enterprise=locked.enterprise)
    _validate_and_key(locked)
    _save_unique(locked)
    changed = sorted(k for k, v in snapshot(locked).items() if before.get(k) != v and k != "updated_at")
    _record(
        actor=actor, hazard=locked, action=A.ADMIN_AMEND, from_status=locked.status, before=before, comment=reason,
        data={"fields": changed},
    )  # fmt: skip
    return locked


# --- evidence -----------------------------------------------------------------------------------


@transaction.atomic
def hazard_add_evidence(
    *,
    actor: User,
    hazard: Hazard,
    file: IO[bytes] | File,
    original_name: str,
    kind: str,
    description: str = "",
) -> HazardEvidence:
    """Attach a photo or document (portal.upload_types.DOCUMENTS) to an open hazard."""
    if kind not in EvidenceKind.values:
        raise ValidationError({"kind": "请选择材料类型。"})
    locked = _lock(actor=actor, hazard=hazard, expect_status=False)
    rules.require(actor, "hazards.add_evidence", locked)
    # The one upload check (portal.upload_types): size, type by content, pixel bounds.
    extension = check_upload(file, name=original_name, purpose=DOCUMENTS).extension
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    while chunk := file.read(1024 * 1024):
        size += len(chunk)
        digest.update(chunk)
    file.seek(0)
    thumbnail = b""
    if is_raster(extension):  # pixel bounds from the header, before anything decodes it
        thumbnail = make_thumbnail(file)
    evidence = HazardEvidence(
        hazard=locked,
        kind=kind,
        original_name=PurePath(original_name.replace("\\", "/")).name[:255] or f"file{extension}",
        size=size,
        sha256=digest.hexdigest(),
        description=description.strip()[:200],
        uploaded_by=actor,
    )
    evidence.file.save(f"{uuid.uuid4().hex}{extension}", file if isinstance(file, File) else File(file), save=False)
    stored_name = evidence.file.name
    if thumbnail:
        evidence.thumbnail.save(thumbnail_name(stored_name), ContentFile(thumbnail), save=False)
    try:
        evidence.save()
        before = snapshot(locked)
        _record(
            actor=actor, hazard=locked, action=A.ADD_EVIDENCE, from_status=locked.status, before=before,
            comment=evidence.original_name,
            data={"evidence": evidence.pk, "kind": kind, "sha256": evidence.sha256, "size": size},
        )  # fmt: skip
    except Exception:
        evidence.file.storage.delete(stored_name)
        if evidence.thumbnail:
            evidence.thumbnail.storage.delete(evidence.thumbnail.name)
        raise
    return evidence


@transaction.atomic
def evidence_make_thumbnail(*, evidence: HazardEvidence) -> bool:
    """For a photo stored before thumbnails existed (manage.py make_thumbnails): made from the original when
    it is within the pixel bounds. False when it is not a photo, already has one, or cannot have one."""
    if evidence.thumbnail or not is_raster(evidence.file.name or ""):
        return False
    try:
        with evidence.file.open("rb") as handle:
            content = make_thumbnail(handle)
    except (OSError, ValidationError):
        return False
    evidence.thumbnail.save(thumbnail_name(evidence.file.name), ContentFile(content), save=False)
    HazardEvidence.objects.filter(pk=evidence.pk).update(thumbnail=evidence.thumbnail.name)
    audit_events.thumbnail_made(instance=evidence)
    return True


# --- notifications and the daily deadline job -------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given)."""
    queryset = Notification.objects.filter(recipient=actor, is_read=False)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(is_read=True, read_at=timezone.now())


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
        hazard_events.reminders_sent(
            claimed=claimed, notifications=len(rows), recipients=sorted(emails), day=today.isoformat()
        )
        _send_emails_later(emails, f"非煤矿山安全监管门户：隐患整改到期提醒（{today:%Y-%m-%d}）")
    return {"claimed": claimed, "notifications": len(rows)}


# --- the 判定依据 catalogue (admins extend it) ------------------------------------------------------

CRITERION_FIELDS = frozenset({"document", "mine_type", "number", "label", "text", "sub_items", "note", "is_active"})


def _check_catalogue_admin(actor: User) -> None:
    rules.require(actor, "hazards.keep_catalogue")


def may_edit_criterion(user: Any, criterion: MajorHazardCriterion) -> bool:
    """The national catalogue only by a superuser; a county's own items by the county's 管理员 (or a superuser)."""
    return rules.may(user, "hazards.edit_criterion", criterion)


def _require_criterion_owner(actor: User, criterion: MajorHazardCriterion) -> None:
    rules.require(actor, "hazards.edit_criterion", criterion)


def _criterion_region(actor: User, data: dict[str, Any]) -> Any:
    """The region a new item belongs to: the superuser chooses (none: national); a county admin's county."""
    if actor.is_superuser:
        return data.pop("region", None)
    chosen = data.pop("region", actor.region)
    if actor.region is None or chosen != actor.region:
        raise PermissionDenied("县（市、区）新增的判定依据只属于本辖区；全国性条目只能由超级管理员新增。")
    return actor.region


@transaction.atomic
def criterion_create(*, actor: User, data: dict[str, Any]) -> MajorHazardCriterion:
    """Add an item to the 判定依据 catalogue: national (superuser) or the county's own (its 管理员); audited."""
    _check_catalogue_admin(actor)
    data = dict(data)
    region = _criterion_region(actor, data)
    unknown = sorted(set(data) - CRITERION_FIELDS)
    if unknown:
        raise ValidationError(f"不能设置这些字段：{'、'.join(unknown)}。")
    document = str(data.get("document", "")).strip()
    if region is not None and MajorHazardCriterion.objects.filter(document=document, region__isnull=True).exists():
        # A county does not add items under a national document's number (they would pass for national ones).
        raise PermissionDenied(
            f"{document}是全国性判定依据，只有超级管理员可以新增其条目；本辖区的补充条目请填写本地文件文号。"
        )
    criterion = MajorHazardCriterion(region=region, **data)
    criterion.full_clean()
    criterion.save()
    audit_events.record_created(
        actor=actor, instance=criterion, after=snapshot(criterion),
        detail=f"新增判定依据 {criterion}",
    )  # fmt: skip
    return criterion


@transaction.atomic
def criterion_update(*, actor: User, criterion: MajorHazardCriterion, data: dict[str, Any]) -> MajorHazardCriterion:
    """Correct or deactivate a catalogue item (items cited by hazards are deactivated, never deleted).

    National items (矿安〔2022〕88号) change only by a superuser; a county's own items by its 管理员."""
    _check_catalogue_admin(actor)
    allowed = CRITERION_FIELDS | {"region"} if actor.is_superuser else CRITERION_FIELDS
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(unknown)}。")
    locked = MajorHazardCriterion.objects.select_for_update().get(pk=criterion.pk)
    _require_criterion_owner(actor, locked)
    before = snapshot(locked)
    for key, value in data.items():
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    if (
        locked.region_id is not None
        and "document" in data
        and MajorHazardCriterion.objects.filter(document=locked.document, region__isnull=True).exists()
    ):
        raise PermissionDenied(f"{locked.document}是全国性判定依据，县（市、区）的补充条目请填写本地文件文号。")
    locked.full_clean()
    if snapshot(locked) == before:
        return locked
    locked.save()
    audit_events.record_updated(
        actor=actor, instance=locked, before=before, after=snapshot(locked),
        detail=f"修改判定依据 {locked}",
    )  # fmt: skip
    return locked


__all__ = [
    "AMENDABLE_FIELDS",
    "CRITERION_FIELDS",
    "EDITABLE_FIELDS",
    "FIVE_IMPLEMENTATION_FIELDS",
    "HazardStateChanged",
    "criterion_create",
    "criterion_update",
    "evidence_make_thumbnail",
    "hazard_add_evidence",
    "hazard_admin_amend",
    "hazard_close",
    "hazard_county_confirm",
    "hazard_decide_extension",
    "hazard_list_for_supervision",
    "hazard_mark_rectified",
    "hazard_recheck",
    "hazard_report",
    "hazard_request_closure",
    "hazard_request_extension",
    "hazard_send_back",
    "hazard_send_deadline_reminders",
    "hazard_sign_report",
    "hazard_start_rectification",
    "hazard_town_confirm",
    "hazard_update",
    "hazard_verify",
    "may_edit_criterion",
    "notification_mark_read",
    "record_events_many",
]
