"""Pages of campaigns and field work. Every object reaches a view through `visible_to` (404 outside the
scope); role refusals are 403 with a Chinese reason; writes go through `inspections.services`.

Split into submodules by scripts/split_modules.py (common, enforcement, field_work, duty_logs, campaigns,
self_checks, warnings); this package re-exports their public names, so `from inspections.views import x` keeps
working.
"""

from inspections.views.campaigns import (
    campaign_detail,
    campaign_list,
    coverage,
    deliverable_matrix,
    progress_list,
    submission_create,
)
from inspections.views.common import FILE_MODELS, PAGE_SIZE, file_download
from inspections.views.duty_logs import duty_log_edit, duty_log_list
from inspections.views.enforcement import (
    enforcement_attachment_add,
    enforcement_create,
    enforcement_delete,
    enforcement_detail,
    enforcement_edit,
    enforcement_import,
    enforcement_list,
    talk_list,
)
from inspections.views.field_work import (
    exam_create,
    exam_list,
    inspection_create,
    inspection_delete,
    inspection_detail,
    inspection_edit,
    inspection_hazard_add,
    inspection_list,
    inspection_photo_add,
    parse_month,
    team_list,
)
from inspections.views.self_checks import (
    self_check_answer,
    self_check_detail,
    self_check_evidence,
    self_check_list,
    self_check_sign,
    self_check_summary,
)
from inspections.views.warnings import ID_RANGE, warning_filters, warning_list, warning_resolve

__all__ = [
    "FILE_MODELS",
    "ID_RANGE",
    "PAGE_SIZE",
    "campaign_detail",
    "campaign_list",
    "coverage",
    "deliverable_matrix",
    "duty_log_edit",
    "duty_log_list",
    "enforcement_attachment_add",
    "enforcement_create",
    "enforcement_delete",
    "enforcement_detail",
    "enforcement_edit",
    "enforcement_import",
    "enforcement_list",
    "exam_create",
    "exam_list",
    "file_download",
    "inspection_create",
    "inspection_delete",
    "inspection_detail",
    "inspection_edit",
    "inspection_hazard_add",
    "inspection_list",
    "inspection_photo_add",
    "parse_month",
    "progress_list",
    "self_check_answer",
    "self_check_detail",
    "self_check_evidence",
    "self_check_list",
    "self_check_sign",
    "self_check_summary",
    "submission_create",
    "talk_list",
    "team_list",
    "warning_filters",
    "warning_list",
    "warning_resolve",
]
