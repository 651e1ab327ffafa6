"""Who may do what to a hazard, in which status. One table (RULES, read from the step declarations in
`hazards.workflow`), read by the services (which enforce it), the work queue (what waits for a user) and
the pages and the API (which steps to offer).

Scope is not decided here: a hazard outside `Hazard.objects.visible_to(user)` is simply not found
(404). Inside the scope the role decides: a town's staff reach only their town's hazards, the
county's staff their county's, an enterprise user only their enterprise's — so "town staff of that
town" is role TOWN_STAFF plus visibility.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError

from hazards.choices import HazardAction, HazardLevel, HazardStatus
from hazards.workflow import ADMIN as ADMIN
from hazards.workflow import BOTH as BOTH
from hazards.workflow import COUNTY as COUNTY
from hazards.workflow import ENTERPRISE as ENTERPRISE
from hazards.workflow import GENERAL as GENERAL
from hazards.workflow import MAJOR as MAJOR
from hazards.workflow import OPEN as OPEN
from hazards.workflow import PRINCIPAL as PRINCIPAL
from hazards.workflow import REGION_STAFF as REGION_STAFF
from hazards.workflow import TOWN as TOWN
from hazards.workflow import WORKFLOW
from hazards.workflow import Rule as Rule
from portal.choices import Role

if TYPE_CHECKING:
    from hazards.models import Hazard

S = HazardStatus
A = HazardAction
# The rule table, read from the step declarations (hazards.workflow), in their order.
RULES: list[Rule] = WORKFLOW.rules

# Who may report (上报) a hazard of each level, for an enterprise in their scope. A town or the county
# may put a major hazard found on inspection in; it still waits for the principal's signature.
REPORT_ROLES: dict[str, frozenset[str]] = {
    HazardLevel.MAJOR: ENTERPRISE | REGION_STAFF,
    HazardLevel.GENERAL: ENTERPRISE | REGION_STAFF,
}

ROLE_WORDS: dict[frozenset[str], str] = {
    PRINCIPAL: "企业主要负责人",
    ENTERPRISE: "企业",
    TOWN: "镇应急管理中心",
    COUNTY: "县局股室",
    REGION_STAFF: "镇应急管理中心或县局股室",
    ENTERPRISE | TOWN: "企业或镇应急管理中心",
    ENTERPRISE | REGION_STAFF: "企业、镇应急管理中心或县局股室",
    ADMIN: "管理员",
}


def effective_roles(user: Any) -> frozenset[str]:
    roles = {user.role} if getattr(user, "role", "") else set()
    if getattr(user, "is_superuser", False):
        roles.add(Role.ADMIN)
    return frozenset(roles)


def action_label(action: str) -> str:
    return HazardAction(action).label


def rules_for(action: str, level: str) -> list[Rule]:
    return [rule for rule in RULES if rule.action == action and level in rule.levels]


def rule_for(action: str, level: str, status: str, roles: frozenset[str] | None = None) -> Rule | None:
    """The rule for a step from a status; with `roles`, only one that those roles may use."""
    for rule in rules_for(action, level):
        if status in rule.sources and (roles is None or roles & rule.roles):
            return rule
    return None


def _who(roles: frozenset[str]) -> str:
    return ROLE_WORDS.get(roles, "、".join(Role(role).label for role in sorted(roles)))


def check_action(user: Any, hazard: Hazard, action: str) -> Rule:
    """The rule that lets `user` do `action` to `hazard` in its current status, or a Chinese refusal.

    PermissionDenied when the user's role may not do it; ValidationError when the hazard's status
    does not allow it. Scope must already have been checked (the hazard came from visible_to).
    """
    label = action_label(action)
    candidates = rules_for(action, hazard.level)
    if not candidates:
        raise ValidationError(f"{HazardLevel(hazard.level).label}没有“{label}”这一步。")
    roles = effective_roles(user)
    if not any(roles & rule.roles for rule in candidates):
        allowed = frozenset().union(*(rule.roles for rule in candidates))
        raise PermissionDenied(f"您无权对该隐患进行“{label}”，此操作由{_who(allowed)}办理。")
    status_label = HazardStatus(hazard.status).label
    in_status = [rule for rule in candidates if hazard.status in rule.sources]
    if not in_status:
        raise ValidationError(f"该隐患当前状态为“{status_label}”，不能进行“{label}”。")
    for rule in in_status:
        if roles & rule.roles:
            return rule
    allowed = frozenset().union(*(rule.roles for rule in in_status))
    raise PermissionDenied(f"该隐患当前状态为“{status_label}”，“{label}”由{_who(allowed)}办理。")


def can(user: Any, hazard: Hazard, action: str) -> bool:
    try:
        check_action(user, hazard, action)
    except (PermissionDenied, ValidationError):
        return False
    # The rectifier never verifies (the steps declared `not_rectifier`).
    rectifier = hazard.rectified_by_id
    return not (action in WORKFLOW.not_rectifier and rectifier is not None and rectifier == user.pk)


def allowed_actions(user: Any, hazard: Hazard) -> list[str]:
    """The steps `user` may take on a hazard already fetched through visible_to (for buttons)."""
    actions = dict.fromkeys(rule.action for rule in RULES)
    return [action for action in actions if can(user, hazard, action)]


def check_may_report(user: Any, level: str) -> None:
    if not effective_roles(user) & REPORT_ROLES[level]:
        raise PermissionDenied(f"您无权上报{HazardLevel(level).label}，此操作由{_who(REPORT_ROLES[level])}办理。")


def queue_statuses(user: Any) -> dict[str, set[str]]:
    """For each level, the statuses in which a hazard waits for this user's role (the work queue)."""
    roles = effective_roles(user)
    result: dict[str, set[str]] = {HazardLevel.MAJOR: set(), HazardLevel.GENERAL: set()}
    for rule in RULES:
        if rule.queued and roles & rule.roles:
            for level in rule.levels:
                result[level] |= rule.sources
    return result


def extension_decider_levels(user: Any) -> set[str]:
    roles = effective_roles(user)
    levels: set[str] = set()
    for rule in RULES:
        if rule.action == A.DECIDE_EXTENSION and roles & rule.roles:
            levels |= rule.levels
    return levels
