"""The major- and general-hazard workflows: report, confirm, rectify, close, extend."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from hazards.choices import EvidenceKind, ExtensionStatus, HazardAction, HazardLevel, NotificationKind, SupervisionLevel
from hazards.fields import declared_fields, refused_fields, update_roles
from hazards.fingerprint import hazard_fingerprint
from hazards.models import ExtensionRequest, Hazard, MajorHazardCriterion, hazard_identity_key, local_today
from hazards.permissions import ADMIN, ENTERPRISE, REGION_STAFF, Rule, check_action, check_may_report
from hazards.services.base import A, HazardStateChanged, S, _lock, _record, _require_text
from hazards.services.notifications import (
    _describe,
    _notify_holders,
    county_staff,
    enterprise_users,
    notify,
    town_staff,
)
from portal.audit import snapshot
from portal.choices import AuditAction
from portal.models import Enterprise, User
from portal.validators import validate_plausible_date

# What the pages and the API may edit (hazard_update) and what an admin may correct (hazard_admin_amend),
# both read from the one declaration of who owns which field in which status (hazards.fields).
EDITABLE_FIELDS = declared_fields(ENTERPRISE | REGION_STAFF)
AMENDABLE_FIELDS = declared_fields(ADMIN)


def _transition(*, actor: User, hazard: Hazard, action: str) -> tuple[Hazard, Rule, dict[str, Any]]:
    """Lock, check, and move a hazard to the rule's target status (not yet saved or recorded)."""
    locked = _lock(actor=actor, hazard=hazard)
    rule = check_action(actor, locked, action)
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
    what: str | None = None,
    notify_next: bool = True,
) -> Hazard:
    hazard.save()
    _record(
        actor=actor, hazard=hazard, action=action, from_status=from_status, before=before, comment=comment, data=data
    )
    if notify_next:
        _notify_holders(hazard, actor, what or f"已{HazardAction(action).label}")
    return hazard


def _check_plausible(**dates: datetime.date | None) -> None:
    """Every date a step takes lies in the plausible range (portal.validators.validate_plausible_date)."""
    errors: dict[str, list[str]] = {}
    for name, value in dates.items():
        try:
            validate_plausible_date(value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


def _check_dates(*, found_on: datetime.date | None, deadline: datetime.date | None) -> None:
    errors: dict[str, Any] = {}
    if found_on is not None and found_on > local_today():
        errors["found_on"] = "发现日期不能晚于今天。"
    try:
        _check_plausible(found_on=found_on, deadline=deadline)
    except ValidationError as exc:
        errors = exc.message_dict | errors  # "not after today" wins over the range for a future 发现日期
    if found_on is not None and deadline is not None and deadline < found_on and "deadline" not in errors:
        errors["deadline"] = "整改时限不能早于发现日期。"
    if errors:
        raise ValidationError(errors)


def _check_criterion(*, level: str, criterion: MajorHazardCriterion | None, enterprise: Enterprise) -> None:
    if level == HazardLevel.MAJOR:
        if criterion is None:
            raise ValidationError({"criterion": "重大事故隐患必须选择判定依据（矿安〔2022〕88号的条目）。"})
        if not criterion.applies_at(enterprise.town.path):
            # A county's own item is cited only in that county (and is not confirmed to exist elsewhere).
            raise ValidationError({"criterion": "判定依据不存在或已停用。"})
        if not criterion.is_active:
            raise ValidationError({"criterion": f"判定依据“{criterion}”已停用，请选择有效条目。"})
    elif criterion is not None:
        raise ValidationError({"criterion": "一般事故隐患不填写重大事故隐患判定依据。"})


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
    check_may_report(actor, level)
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
        audit_action=AuditAction.CREATE,
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
        what="已由主要负责人签字上报",
    )  # fmt: skip


@transaction.atomic
def hazard_town_confirm(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """镇确认 (first level of 两级确认)."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.TOWN_CONFIRM)
    return _finish(
        actor=actor, hazard=locked, action=A.TOWN_CONFIRM, from_status=S.PENDING_TOWN, before=before,
        comment=comment, what="已经镇应急管理中心确认",
    )  # fmt: skip


@transaction.atomic
def hazard_county_confirm(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """县确认 (second level): the major hazard is confirmed and must be rectified."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.COUNTY_CONFIRM)
    return _finish(
        actor=actor, hazard=locked, action=A.COUNTY_CONFIRM, from_status=S.PENDING_COUNTY, before=before,
        comment=comment, what="已经县局确认为重大事故隐患",
    )  # fmt: skip


@transaction.atomic
def hazard_send_back(*, actor: User, hazard: Hazard, reason: str) -> Hazard:
    """退回 with a reason, to whoever held the hazard before this confirmation."""
    reason = _require_text(reason, "退回必须填写理由。", "reason")
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.SEND_BACK)
    return _finish(
        actor=actor, hazard=locked, action=A.SEND_BACK, from_status=hazard.status, before=before, comment=reason,
        what=f"被退回（理由：{reason}）",
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
    notify(
        recipients=enterprise_users(locked),
        hazard=locked,
        message=f"{_describe(locked)}已被{SupervisionLevel(level).label}挂牌督办（{doc_number}），"
        f"督办期限{deadline:%Y-%m-%d}。",
        exclude=actor,
    )
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
        comment=comment, what="已开始整改",
    )  # fmt: skip


def _has_closure_evidence(hazard: Hazard) -> bool:
    return hazard.evidence.filter(kind__in=EvidenceKind.closure_evidence()).exists()


def _check_rectified_on(hazard: Hazard, rectified_on: datetime.date | None) -> datetime.date:
    if rectified_on is None:
        raise ValidationError({"rectified_on": "请填写整改完成日期。"})
    _check_plausible(rectified_on=rectified_on)
    if rectified_on > local_today():
        raise ValidationError({"rectified_on": "整改完成日期不能晚于今天。"})
    if rectified_on < hazard.found_on:
        raise ValidationError({"rectified_on": "整改完成日期不能早于发现日期。"})
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
        comment=comment, what="已整改完成并申请销号",
    )  # fmt: skip


def _check_not_rectifier(actor: User, hazard: Hazard, what: str) -> None:
    if hazard.rectified_by_id is not None and hazard.rectified_by_id == actor.pk:
        raise PermissionDenied(f"整改填报人不能{what}自己填报的整改，请由其他人员办理。")


@transaction.atomic
def hazard_close(*, actor: User, hazard: Hazard, closed_on: datetime.date | None = None, comment: str = "") -> Hazard:
    """销号 by the county. The person who rectified never verifies."""
    _check_plausible(closed_on=closed_on)
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.CLOSE)
    _check_not_rectifier(actor, locked, "销号")
    closed_on = closed_on or local_today()
    if locked.rectified_on is not None and closed_on < locked.rectified_on:
        raise ValidationError({"closed_on": "销号日期不能早于整改完成日期。"})
    locked.verified_by = actor
    locked.closed_on = closed_on
    return _finish(
        actor=actor, hazard=locked, action=A.CLOSE, from_status=S.CLOSURE_REQUESTED, before=before, comment=comment,
        what="已经县局验收销号",
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
        comment=comment, what="已整改完成",
    )  # fmt: skip


@transaction.atomic
def hazard_verify(*, actor: User, hazard: Hazard, comment: str = "") -> Hazard:
    """已验收 (general hazard) by the town. The person who rectified never verifies."""
    locked, _rule, before = _transition(actor=actor, hazard=hazard, action=A.VERIFY)
    _check_not_rectifier(actor, locked, "验收")
    locked.verified_by = actor
    locked.closed_on = local_today()
    return _finish(
        actor=actor, hazard=locked, action=A.VERIFY, from_status=S.RECTIFIED, before=before, comment=comment,
        what="已经镇应急管理中心验收",
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
    check_action(actor, locked, A.REQUEST_EXTENSION)
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
    notify(
        recipients=_extension_deciders(locked),
        hazard=locked,
        message=f"{_describe(locked)}申请将整改时限由{extension.old_deadline:%Y-%m-%d}延至"
        f"{requested_deadline:%Y-%m-%d}，请审批。",
        exclude=actor,
    )
    return extension


@transaction.atomic
def hazard_decide_extension(
    *, actor: User, extension: ExtensionRequest, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """审批延期. Approval moves the current deadline; the original deadline and the old one are kept."""
    locked_hazard = _lock(actor=actor, hazard=extension.hazard, expect_status=False)
    check_action(actor, locked_hazard, A.DECIDE_EXTENSION)
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
    notify(
        recipients=enterprise_users(locked_hazard),
        hazard=locked_hazard,
        message=f"{_describe(locked_hazard)}的延期申请{outcome}。",
        kind=NotificationKind.INFO,
        exclude=actor,
    )
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
        data=data, what=f"回头看不合格，已重新打开（理由：{comment}）",
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
    check_action(actor, locked, A.UPDATE)
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
    check_action(actor, locked, A.ADMIN_AMEND)
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
