"""Campaigns (专项行动) as data, and the field work of towns and the county.

Scoping: every model reaches a region and an enterprise through `scope_region_path` /
`scope_enterprise_path` (see portal/scoping.py). A campaign and its parts are the exception in
direction: a county's campaign is read by the county, by everything below it (its towns and their
enterprises) and by the regions above it (the city), so `CampaignScopedQuerySet` also matches the
ancestors of the user's region — still one indexed comparison on the materialised path.

Split into submodules by scripts/split_modules.py (campaigns, paths, deliverables, self_checks, field_work,
duty_logs, enforcement, warnings, calendar); this package re-exports their public names, so `from
inspections.models import x` keeps working.
"""

from inspections.models.calendar import Holiday, HolidayYear
from inspections.models.campaigns import (
    Campaign,
    CampaignPhase,
    CampaignScopedManager,
    CampaignScopedQuerySet,
    ChecklistArea,
    ChecklistItem,
    Quota,
    ancestor_paths,
    validate_campaign_period,
)
from inspections.models.deliverables import Deliverable, DeliverableReminder, DeliverableSubmission, TownProgressReport
from inspections.models.duty_logs import PrincipalDutyLog
from inspections.models.enforcement import EnforcementAttachment, EnforcementRecord, Talk, TalkManager
from inspections.models.field_work import Exam, Inspection, InspectionPhoto, InspectionTeam
from inspections.models.paths import deliverable_path, enforcement_attachment_path, evidence_path, inspection_photo_path
from inspections.models.self_checks import SelfCheckAnswer, SelfCheckEvidence, SelfCheckReport
from inspections.models.warnings import WarningResolution, WarningSettings

__all__ = [
    "Campaign",
    "CampaignPhase",
    "CampaignScopedManager",
    "CampaignScopedQuerySet",
    "ChecklistArea",
    "ChecklistItem",
    "Deliverable",
    "DeliverableReminder",
    "DeliverableSubmission",
    "EnforcementAttachment",
    "EnforcementRecord",
    "Exam",
    "Holiday",
    "HolidayYear",
    "Inspection",
    "InspectionPhoto",
    "InspectionTeam",
    "PrincipalDutyLog",
    "Quota",
    "SelfCheckAnswer",
    "SelfCheckEvidence",
    "SelfCheckReport",
    "Talk",
    "TalkManager",
    "TownProgressReport",
    "WarningResolution",
    "WarningSettings",
    "ancestor_paths",
    "deliverable_path",
    "enforcement_attachment_path",
    "evidence_path",
    "inspection_photo_path",
    "validate_campaign_period",
]
