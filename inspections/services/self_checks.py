"""Writes of self-check reports: start, answer, evidence, signature."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from hazards.models import Hazard
from inspections import audit_events as inspection_events
from inspections import notices, permissions
from inspections.answered import checklist_snapshot, self_check_fingerprint
from inspections.choices import Answer, ChecklistSubject, ReportStatus
from inspections.files import validate_upload
from inspections.models import Campaign, ChecklistItem, SelfCheckAnswer, SelfCheckEvidence, SelfCheckReport
from inspections.services.common import _checked_hazards
from inspections.services.enforcement import _with_hazards
from portal import audit_events, reauth, rules
from portal.audit import snapshot
from portal.choices import PersonRole
from portal.models import Enterprise, User
from portal.scoping import path_within

# --- 自查自改报告 ------------------------------------------------------------------------------

SUBMITTED_READ_ONLY = "报告已由主要负责人签字报送，不能再修改。"


def _require_filer(actor: User, enterprise: Enterprise) -> None:
    rules.require(actor, "inspections.file_self_check", enterprise)


def _require_draft(report: SelfCheckReport) -> None:
    if report.status != ReportStatus.DRAFT:
        raise ValidationError(SUBMITTED_READ_ONLY)


@transaction.atomic
def self_check_start(*, actor: User, campaign: Campaign, enterprise: Enterprise) -> SelfCheckReport:
    """The enterprise's draft for the campaign (created on first use, with one empty answer per item)."""
    _require_filer(actor, enterprise)
    if not Campaign.objects.visible_to(actor).filter(pk=campaign.pk).exists():
        raise ValidationError({"campaign": "专项行动不存在或不在您的辖区内。"})
    if not campaign.issuing_region.path or not path_within(enterprise.town.path, campaign.issuing_region.path):
        raise ValidationError({"campaign": "该专项行动不适用于此企业。"})
    existing = SelfCheckReport.objects.select_for_update().filter(campaign=campaign, enterprise=enterprise).first()
    if existing is not None:
        return existing
    items = list(ChecklistItem.objects.filter(area__campaign=campaign))
    if not items:
        raise ValidationError({"campaign": "该专项行动没有检查内容，无需填写自查自改报告。"})
    on_behalf = actor.enterprise_id is None
    report = SelfCheckReport.objects.create(
        campaign=campaign,
        enterprise=enterprise,
        created_by=actor,
        filed_by_unit=permissions.acting_unit(actor) if on_behalf else None,
    )
    no_parent = enterprise.parent_company_id is None
    SelfCheckAnswer.objects.bulk_create(
        [
            SelfCheckAnswer(
                report=report,
                item=item,
                answer=Answer.NOT_APPLICABLE if no_parent and item.subject == ChecklistSubject.PARENT_COMPANY else "",
                note="无上级企业（主体公司）" if no_parent and item.subject == ChecklistSubject.PARENT_COMPANY else "",
            )
            for item in items
        ]
    )
    inspection_events.self_check_started(actor=actor, report=report, after=snapshot(report), on_behalf=on_behalf)
    return report


def _locked_draft(actor: User, report: SelfCheckReport) -> SelfCheckReport:
    _require_filer(actor, report.enterprise)
    locked = SelfCheckReport.objects.select_for_update().get(pk=report.pk)
    _require_draft(locked)
    return locked


@transaction.atomic
def self_check_answer(
    *, actor: User, report: SelfCheckReport, item: ChecklistItem, answer: str, note: str = ""
) -> SelfCheckAnswer:
    """Saves one item as the filer goes (a draft saves as you type)."""
    locked = _locked_draft(actor, report)
    if answer not in ("", *Answer.values):
        raise ValidationError({"answer": "回答只能是“是”“否”或“不适用”。"})
    row = SelfCheckAnswer.objects.select_for_update().get(report=locked, item=item)
    before = snapshot(row)
    row.answer, row.note = answer, note.strip()
    row.full_clean(exclude=["report", "item"])
    if snapshot(row) != before:
        row.save()
        audit_events.record_updated(actor=actor, instance=row, before=before, after=snapshot(row))
        SelfCheckReport.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        if before["answer"] == "" and row.answer and not locked.answers.filter(answer="").exists():
            notices.self_check_ready(report=locked, actor=actor)  # the last item answered: the principal signs
    return row


@transaction.atomic
def self_check_update(
    *, actor: User, report: SelfCheckReport, summary: str | None = None, hazards: Iterable[Hazard] | None = None
) -> SelfCheckReport:
    locked = _locked_draft(actor, report)
    before = _with_hazards(snapshot(locked), locked.hazards.all())
    if summary is not None:
        locked.summary = summary.strip()
    linked = list(locked.hazards.all()) if hazards is None else _checked_hazards(actor, locked.enterprise, hazards)
    after = _with_hazards(snapshot(locked), linked)
    if after != before:
        locked.save()
        locked.hazards.set(linked)
        audit_events.record_updated(actor=actor, instance=locked, before=before, after=after)
    return locked


@transaction.atomic
def self_check_add_evidence(*, actor: User, answer: SelfCheckAnswer, upload: UploadedFile) -> SelfCheckEvidence:
    _locked_draft(actor, answer.report)
    original = validate_upload(upload)
    evidence = SelfCheckEvidence(answer=answer, original_name=original, uploaded_by=actor)
    evidence.file.save(original, upload, save=False)
    evidence.save()
    audit_events.record_created(actor=actor, instance=evidence, after=snapshot(evidence))
    return evidence


@transaction.atomic
def self_check_delete_evidence(*, actor: User, evidence: SelfCheckEvidence) -> None:
    _locked_draft(actor, evidence.answer.report)
    audit_events.record_deleted(actor=actor, instance=evidence, before=snapshot(evidence))
    stored = evidence.file
    evidence.delete()
    transaction.on_commit(lambda: stored.storage.delete(stored.name) if stored.name else None)


def unanswered_items(report: SelfCheckReport) -> list[ChecklistItem]:
    return [a.item for a in report.answers.select_related("item").filter(answer="")]


SIGNER_REFUSED = "账号、密码或动态口令不正确，未签字。"


def self_check_unexplained(report: SelfCheckReport) -> list[SelfCheckAnswer]:
    """The 不符合 answers that say nothing of what follows: no 说明, and no hazard attached to the report.
    The sign page lists them and asks the signer to confirm (inspections.forms.SignForm), as it asks to
    confirm the report as a whole."""
    if report.hazards.exists():
        return []
    answers = report.answers.select_related("item", "item__area").order_by("item__area__order", "item__order")
    return [a for a in answers if a.is_compliant is False and not a.note.strip()]


@transaction.atomic
def self_check_authenticate_signer(
    *, request: Any, actor: User, report: SelfCheckReport, username: str, password: str, otp_code: str = ""
) -> User | None:
    """The principal's credentials for a signature (page and API), or None — one answer whatever went wrong.

    A password is checked only for the account of this enterprise's principal (or the signed-in user's own,
    whose refusal the service explains): for any other user name the
    answer is the same refusal without a password check, so the signature form tells nobody whether another
    account's password is right. Every refusal is in the audit log (a wrong password through the login
    signal, as 登录失败; another account's name here).
    """
    from django.contrib.auth import authenticate

    candidate = User.objects.filter(username=username).first() if username else None
    # One's own account may be checked (the service then says why it cannot sign): no one else's password.
    if candidate is None or (
        candidate.pk != actor.pk and not rules.may(candidate, "inspections.sign_self_check", report.enterprise)
    ):
        inspection_events.self_check_sign_refused(actor=actor, report=report, username=username)
        return None
    signer = authenticate(request, username=username, password=password)
    # With 两步验证 enrolled the signer's code (or a backup code) is required too (portal/reauth.py).
    if signer is not None and not reauth.second_factor_passes(user=signer, otp_code=otp_code, purpose="自查报告签字"):
        return None
    return signer  # type: ignore[return-value]


SELF_CHECK_CHANGED_MESSAGE = (
    "打开页面后报告内容已有变化（检查内容、回答、说明、佐证材料、综述或所附隐患），未签字。请刷新页面核对后重新签字。"
)


@transaction.atomic
def self_check_sign(*, actor: User, report: SelfCheckReport, signer: User, fingerprint: str) -> SelfCheckReport:
    """主要负责人签字 and 报送 to the town and the county. `signer` is the principal's account, already
    authenticated by the caller (their own session plus their password, or their credentials entered
    in person on the town's device); `actor` is whoever is signed in.

    `fingerprint` is `answered.self_check_fingerprint` of the report as the sign form showed it: refused
    (nothing signed) when anything shown has changed since. The checklist as answered is stored on the
    report (`checklist_snapshot`): later edits of the checklist do not change what was signed."""
    locked = _locked_draft(actor, report)
    enterprise = locked.enterprise
    if not signer.is_active:
        raise PermissionDenied("签字账号已停用，未签字。")
    rules.require(signer, "inspections.sign_self_check", enterprise)
    person = signer.person
    if person is None or person.enterprise_id != enterprise.pk or person.role != PersonRole.PRINCIPAL:
        raise PermissionDenied("签字账号未关联本企业登记的主要负责人，请联系管理员。")
    if actor.pk != signer.pk and not rules.may(actor, "inspections.file_self_check", enterprise):
        raise PermissionDenied("只能在本企业或所在镇应急管理中心的设备上当面签字。")
    missing = unanswered_items(locked)
    if missing:
        listing = "；".join(item.text[:30] for item in missing[:5])
        raise ValidationError(f"还有 {len(missing)} 项未回答，不能签字报送：{listing}")
    checklist = checklist_snapshot(locked)
    if fingerprint != self_check_fingerprint(locked, checklist):
        raise ValidationError(SELF_CHECK_CHANGED_MESSAGE)
    before = snapshot(locked)
    locked.checklist_snapshot = checklist
    now = timezone.now()
    locked.status = ReportStatus.SUBMITTED
    locked.signed_by_person = person
    locked.signed_name = person.name
    locked.signed_by_account = signer
    locked.signed_on_device_of = actor if actor.pk != signer.pk else None
    locked.signed_at = now
    locked.submitted_at = now
    locked.save()
    inspection_events.self_check_signed(
        actor=actor, signer=signer, report=locked, before=before, after=snapshot(locked)
    )
    notices.self_check_submitted(report=locked, actor=actor)
    return locked
