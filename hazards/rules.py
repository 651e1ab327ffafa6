"""The hazard actions, registered with portal.rules (imported by HazardsConfig.ready).

The rule table itself stays in hazards/permissions.py (its `check_action` refuses, `can` answers for
buttons, adding "the rectifier never verifies"); the field-ownership declaration in hazards/fields.py.
This module only makes both reachable as "hazards.<step>" through `portal.rules`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hazards import fields, permissions
from hazards.choices import HazardAction, HazardLevel
from portal import rules

A = HazardAction
# The steps of the rule table; REPORT (no hazard yet) and LEDGER_IMPORT (not a user step) are apart.
STEP_ACTIONS = tuple(dict.fromkeys(rule.action for rule in permissions.RULES))


def _step_check(action: str) -> Any:
    def check(user: Any, hazard: Any) -> None:
        permissions.check_action(user, hazard, action)

    return check


def _step_allow(action: str) -> Any:
    def allow(user: Any, hazard: Any) -> bool:
        return permissions.can(user, hazard, action)

    return allow


def _step_rows(action: str) -> Any:
    """`can` as a filter: the levels and statuses the user's roles may take the step from; the
    rectifier never verifies nor closes."""

    def rows(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
        roles = permissions.effective_roles(user)
        condition = Q(pk__in=[])
        for level in HazardLevel.values:
            sources = {s for rule in permissions.rules_for(action, level) if roles & rule.roles for s in rule.sources}
            if sources:
                condition |= Q(level=level, status__in=sorted(sources))
        queryset = queryset.filter(condition)
        if action in {A.VERIFY, A.CLOSE}:
            queryset = queryset.exclude(rectified_by_id=user.pk)
        return queryset

    return rows


def _report_check(user: Any, level: Any) -> None:
    permissions.check_may_report(user, level)


def _criterion_refusal(user: Any, criterion: Any) -> str:
    if criterion.is_national:
        return (
            f"全国性判定依据（{criterion.document}）只能由超级管理员修改或停用；县（市、区）可以新增本辖区的补充条目。"
        )
    return "只能修改本辖区补充的判定依据条目。"


def register() -> None:
    for action in STEP_ACTIONS:
        rules.register(
            f"hazards.{action}", check=_step_check(action), allow=_step_allow(action), rows=_step_rows(action)
        )
    # The object is the level ("major"/"general"): who may put a hazard of that level in.
    rules.register("hazards.report", check=_report_check)
    # The national catalogue only by a superuser; a county's own items by the county's 管理员.
    rules.register(
        "hazards.edit_criterion",
        allow=lambda user, criterion: rules.acts_for_region(user, criterion.region),
        refusal=_criterion_refusal,
    )
    rules.register(
        "hazards.keep_catalogue",
        allow=lambda user, _obj: rules.is_admin(user),
        refusal="只有管理员可以维护重大事故隐患判定依据。",
        per_object=False,
    )
    rules.register_fields(
        "hazards.Hazard",
        editable=lambda user, hazard, names: fields.editable_now(hazard, names, roles=fields.update_roles(user)),
        refused=lambda user, hazard, names: fields.refused_fields(hazard, names, roles=fields.update_roles(user)),
    )
