"""Writes of campaigns' field work. Each function is one transaction that also writes its audit row.

Pages, the API and the importers validate input and call these; nothing else saves these records.
Role and scope rules are asked of `portal.rules` ("inspections.<action>", inspections/rules.py) and
checked here, on the server.

Split into submodules by scripts/split_modules.py (common, enforcement, field_work, duty_logs, self_checks,
deliverables); this package re-exports their public names, so `from inspections.services import x` keeps
working.
"""

from django.core.exceptions import PermissionDenied

from inspections.services.common import ensure_can_record, principal_of
from inspections.services.deliverables import (
    REMIND_DAYS_BEFORE,
    SUBMITTABLE_KINDS,
    deliverable_send_reminders,
    progress_save,
    submission_create,
    submission_record_table,
)
from inspections.services.duty_logs import duty_log_save
from inspections.services.enforcement import (
    ENFORCEMENT_FIELDS,
    enforcement_attachment_add,
    enforcement_attachment_delete,
    enforcement_record_create,
    enforcement_record_delete,
    enforcement_record_update,
    validate_enforcement,
)
from inspections.services.enforcement import _add_enforcement_attachment as _add_enforcement_attachment
from inspections.services.field_work import (
    INSPECTION_FIELDS,
    INSPECTION_HAZARD_SOURCE,
    TEAM_FIELDS,
    exam_record,
    inspection_create,
    inspection_delete,
    inspection_hazard_source,
    inspection_link_hazards,
    inspection_photo_add,
    inspection_report_hazard,
    inspection_team_create,
    inspection_team_delete,
    inspection_team_update,
    inspection_update,
    photo_make_thumbnail,
)
from inspections.services.field_work import _add_photo as _add_photo
from inspections.services.self_checks import (
    SELF_CHECK_CHANGED_MESSAGE,
    SIGNER_REFUSED,
    SUBMITTED_READ_ONLY,
    self_check_add_evidence,
    self_check_answer,
    self_check_authenticate_signer,
    self_check_delete_evidence,
    self_check_sign,
    self_check_start,
    self_check_unexplained,
    self_check_update,
    unanswered_items,
)

__all__ = [
    "ENFORCEMENT_FIELDS",
    "INSPECTION_FIELDS",
    "INSPECTION_HAZARD_SOURCE",
    "REMIND_DAYS_BEFORE",
    "SELF_CHECK_CHANGED_MESSAGE",
    "SIGNER_REFUSED",
    "SUBMITTABLE_KINDS",
    "SUBMITTED_READ_ONLY",
    "TEAM_FIELDS",
    "PermissionDenied",
    "deliverable_send_reminders",
    "duty_log_save",
    "enforcement_attachment_add",
    "enforcement_attachment_delete",
    "enforcement_record_create",
    "enforcement_record_delete",
    "enforcement_record_update",
    "ensure_can_record",
    "exam_record",
    "inspection_create",
    "inspection_delete",
    "inspection_hazard_source",
    "inspection_link_hazards",
    "inspection_photo_add",
    "inspection_report_hazard",
    "inspection_team_create",
    "inspection_team_delete",
    "inspection_team_update",
    "inspection_update",
    "photo_make_thumbnail",
    "principal_of",
    "progress_save",
    "self_check_add_evidence",
    "self_check_answer",
    "self_check_authenticate_signer",
    "self_check_delete_evidence",
    "self_check_sign",
    "self_check_start",
    "self_check_unexplained",
    "self_check_update",
    "submission_create",
    "submission_record_table",
    "unanswered_items",
    "validate_enforcement",
]
