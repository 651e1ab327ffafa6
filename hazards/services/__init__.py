"""Writes to hazards: the major- and general-hazard workflows, evidence, extensions, notifications.

Every step is one transaction that
  1. locks the hazard row (select_for_update) fetched through `visible_to(actor)` — out of scope is 404;
  2. refuses if the hazard changed since the caller read it ("该隐患状态已变更…"), so of two people
     confirming at once exactly one succeeds;
  3. checks the step against the rule table in `hazards.permissions` (role and current status);
  4. writes a HazardEvent (who, when, from, to, comment) AND a portal audit row;
  5. notifies whoever must act next (in the portal; by e-mail after commit when e-mail is configured).
Nothing here runs in save() or in signals.

Split into submodules by scripts/split_modules.py (base, notifications, workflow, evidence, reminders,
catalogue); this package re-exports their public names, so `from hazards.services import x` keeps working.
"""

from hazards.fields import FIVE_IMPLEMENTATION_FIELDS
from hazards.services.base import A, HazardStateChanged, S
from hazards.services.catalogue import CRITERION_FIELDS, criterion_create, criterion_update, may_edit_criterion
from hazards.services.evidence import evidence_make_thumbnail, hazard_add_evidence
from hazards.services.notifications import (
    NEXT_STEP,
    county_staff,
    email_configured,
    enterprise_users,
    holders,
    notification_mark_read,
    notify,
    town_staff,
)
from hazards.services.reminders import hazard_send_deadline_reminders
from hazards.services.workflow import (
    AMENDABLE_FIELDS,
    EDITABLE_FIELDS,
    SIGN_CHANGED_MESSAGE,
    hazard_admin_amend,
    hazard_close,
    hazard_county_confirm,
    hazard_decide_extension,
    hazard_list_for_supervision,
    hazard_mark_rectified,
    hazard_recheck,
    hazard_report,
    hazard_request_closure,
    hazard_request_extension,
    hazard_send_back,
    hazard_sign_report,
    hazard_start_rectification,
    hazard_town_confirm,
    hazard_update,
    hazard_verify,
)

__all__ = [
    "AMENDABLE_FIELDS",
    "CRITERION_FIELDS",
    "EDITABLE_FIELDS",
    "FIVE_IMPLEMENTATION_FIELDS",
    "NEXT_STEP",
    "SIGN_CHANGED_MESSAGE",
    "A",
    "HazardStateChanged",
    "S",
    "county_staff",
    "criterion_create",
    "criterion_update",
    "email_configured",
    "enterprise_users",
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
    "holders",
    "may_edit_criterion",
    "notification_mark_read",
    "notify",
    "town_staff",
]
