"""Writes of town progress reports and deliverable submissions, and reminders."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from inspections import audit_events as inspection_events
from inspections import permissions
from inspections.choices import DeliverableKind, DeliverableSubmitter, ProgressStatus
from inspections.files import validate_upload
from inspections.models import (
    Campaign,
    CampaignPhase,
    Deliverable,
    DeliverableReminder,
    DeliverableSubmission,
    TownProgressReport,
)
from inspections.rules import recording_unit
from portal import audit_events, rules
from portal.audit import snapshot
from portal.choices import RegionLevel, Role
from portal.models import Enterprise, Region, User
from portal.scoping import in_subtree

# --- 镇阶段性进展 ------------------------------------------------------------------------------


@transaction.atomic
def progress_save(
    *, actor: User, phase: CampaignPhase, progress: str, problems: str, measures: str, submit: bool = False
) -> TownProgressReport:
    unit = recording_unit(actor)
    if not rules.may(actor, "inspections.act_for_town"):
        raise PermissionDenied("阶段性进展由镇应急管理中心填报。")
    if not Campaign.objects.visible_to(actor).filter(pk=phase.campaign_id).exists():
        raise ValidationError({"phase": "专项行动不存在或不在您的辖区内。"})
    report = TownProgressReport.objects.select_for_update().filter(phase=phase, town=unit).first()
    if report is not None and report.status == ProgressStatus.SUBMITTED:
        raise ValidationError("本阶段进展已报送，不能再修改。")
    before = snapshot(report) if report is not None else None
    if report is None:
        report = TownProgressReport(campaign_id=phase.campaign_id, phase=phase, town=unit, created_by=actor)
    report.progress, report.problems, report.measures = progress.strip(), problems.strip(), measures.strip()
    if submit:
        if not report.progress:
            raise ValidationError({"progress": "报送前请填写工作进展。"})
        report.status = ProgressStatus.SUBMITTED
        report.submitted_by = actor
        report.submitted_at = timezone.now()
    report.save()
    if submit:
        inspection_events.progress_submitted(actor=actor, report=report, before=before, after=snapshot(report))
    elif before is None:
        audit_events.record_created(actor=actor, instance=report, after=snapshot(report))
    else:
        audit_events.record_updated(actor=actor, instance=report, before=before, after=snapshot(report))
    return report


# --- Deliverables -----------------------------------------------------------------------------

SUBMITTABLE_KINDS = frozenset({DeliverableKind.UPLOAD, DeliverableKind.FORM, DeliverableKind.MONTHLY_TABLE})


@transaction.atomic
def submission_create(
    *,
    actor: User,
    deliverable: Deliverable,
    due_date: dt.date,
    title: str = "",
    content: str = "",
    file: UploadedFile | None = None,
) -> DeliverableSubmission:
    """A town's (or an enterprise's) filing of a deliverable for one of its due dates."""
    if deliverable.kind not in SUBMITTABLE_KINDS:
        raise ValidationError("该材料由系统根据记录自动统计，无需上传。")
    if not Campaign.objects.visible_to(actor).filter(pk=deliverable.campaign_id).exists():
        raise ValidationError("专项行动不存在或不在您的辖区内。")
    town: Region | None = None
    enterprise: Enterprise | None = None
    if deliverable.submitter == DeliverableSubmitter.TOWN:
        if not rules.may(actor, "inspections.act_for_town"):
            raise PermissionDenied("该材料由镇应急管理中心报送。")
        town = permissions.acting_unit(actor)
    else:
        if actor.enterprise_id is None or actor.enterprise is None:
            raise PermissionDenied("该材料由企业报送。")
        enterprise = actor.enterprise
    if due_date not in deliverable.due_dates():
        raise ValidationError({"due_date": "截止日期不在该材料的报送安排中。"})
    if deliverable.kind == DeliverableKind.UPLOAD and file is None:
        raise ValidationError({"file": "请上传文件。"})
    if file is None and not content.strip():
        raise ValidationError("请上传附件或填写内容。")
    submission = DeliverableSubmission(
        deliverable=deliverable, town=town, enterprise=enterprise, due_date=due_date, title=title.strip(),
        content=content.strip(), submitted_by=actor, submitted_at=timezone.now(),
    )  # fmt: skip
    if file is not None:
        submission.original_name = validate_upload(file)
        submission.file.save(submission.original_name, file, save=False)
    submission.save()
    inspection_events.deliverable_submitted(actor=actor, submission=submission, after=snapshot(submission))
    return submission


@transaction.atomic
def submission_record_table(
    *, actor: User, deliverable: Deliverable, town: Region, due_date: dt.date, title: str
) -> DeliverableSubmission | None:
    """A town submitted the monthly table this deliverable is (`Deliverable.table`): the filing is
    recorded once per due date, so the 材料报送情况 grid, the reminders and the warnings see it.
    Called by reporting.services.report_submit; a second submission of the same month adds nothing."""
    if not deliverable.table or deliverable.submitter != DeliverableSubmitter.TOWN:
        return None
    if due_date not in deliverable.due_dates():
        return None
    if DeliverableSubmission.objects.filter(deliverable=deliverable, town=town, due_date=due_date).exists():
        return None
    submission = DeliverableSubmission.objects.create(
        deliverable=deliverable, town=town, due_date=due_date, title=title, content="在线报送月度报表",
        submitted_by=actor, submitted_at=timezone.now(),
    )  # fmt: skip
    inspection_events.deliverable_table_recorded(actor=actor, submission=submission, after=snapshot(submission))
    return submission


# --- Reminders (beat) -------------------------------------------------------------------------

REMIND_DAYS_BEFORE = (3, 1)


def _recipients(town: Region | None, enterprise: Enterprise | None) -> list[User]:
    users = User.objects.filter(is_active=True)
    if town is not None:
        return list(users.filter(role=Role.TOWN_STAFF, region=town))
    return list(users.filter(enterprise=enterprise, role__in=sorted(permissions.ENTERPRISE_ROLES)))


def deliverable_send_reminders(*, today: dt.date | None = None) -> dict[str, int]:
    """Reminds whoever has not filed, 3 days and 1 day before each due date. Safe to run twice: each
    (deliverable, due date, recipient, days before) is claimed by inserting its unique row first."""
    from hazards.choices import NotificationKind
    from hazards.services import notify
    from inspections.deliverables import outstanding

    today = today or timezone.localdate()
    sent = skipped = 0
    horizon = today + dt.timedelta(days=max(REMIND_DAYS_BEFORE))
    campaigns = Campaign.objects.filter(end_date__gte=today, start_date__lte=horizon).select_related("issuing_region")
    for campaign in campaigns:
        towns = list(
            Region.objects.filter(in_subtree(campaign.issuing_region.path), level=RegionLevel.TOWN).order_by("code")
        )
        for days_before in REMIND_DAYS_BEFORE:
            due = today + dt.timedelta(days=days_before)
            for deliverable, town, enterprise in outstanding(campaign=campaign, towns=towns, due=due, today=today):
                key = f"town:{town.pk}" if town is not None else f"enterprise:{enterprise.pk if enterprise else 0}"
                recipients = _recipients(town, enterprise)
                try:
                    with transaction.atomic():
                        DeliverableReminder.objects.create(
                            deliverable=deliverable, due_date=due, days_before=days_before, recipient_key=key,
                            town=town, enterprise=enterprise,
                            recipients="、".join(user.get_username() for user in recipients),
                        )  # fmt: skip
                        message = (
                            f"【报送提醒】{campaign.name}：{deliverable.name}将于{due:%Y年%m月%d日}截止"
                            f"（还有{days_before}天），请及时报送{deliverable.recipients}。"
                        )
                        notify(recipients=recipients, hazard=None, message=message, kind=NotificationKind.DUE_SOON)
                except IntegrityError:
                    skipped += 1  # already reminded (another run claimed it)
                    continue
                sent += 1
    return {"sent": sent, "skipped": skipped}
