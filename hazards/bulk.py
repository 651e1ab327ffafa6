"""Bulk steps: a town verifies many rectified general hazards at once, the county confirms or closes many.

One comment for all; each hazard goes through the same step as on its own page (`steps.run_step`, then the
service: its checks, its row lock, its audit row, its notices) in its own transaction, so one refusal
stops nothing else. The answer is one result per hazard, refusals in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hazards.choices import HazardAction
from hazards.models import Hazard
from hazards.permissions import RULES, effective_roles
from hazards.steps import StepRefused, run_step
from hazards.workflow import WORKFLOW
from portal.scoping import log_denied

A = HazardAction

# The steps that may be taken in bulk (declared `bulk` in hazards.workflow: they need nothing but an optional
# comment), each with its service.
BULK_STEPS: dict[str, Callable[..., Hazard]] = {step.action: step.service_function() for step in WORKFLOW.bulk}
# The bulk API names a step as its single-step API does (POST /api/v1/hazard-bulk/verify/ …).
BULK_SLUGS: dict[str, str] = {
    (step.api.url_path if step.api else step.action.replace("_", "-")): step.action for step in WORKFLOW.bulk
}

MAX_ITEMS = 200
NOT_FOUND = "隐患不存在或不在您的辖区内。"


@dataclass(frozen=True)
class BulkResult:
    hazard_id: int
    hazard: Hazard | None
    ok: bool
    message: str


def bulk_actions_for(user: Any) -> list[tuple[str, str]]:
    """(action, label) of the bulk steps this user's role may take, in workflow order."""
    roles = effective_roles(user)
    allowed = {rule.action for rule in RULES if rule.action in BULK_STEPS and roles & rule.roles}
    return [(action, A(action).label) for action in BULK_STEPS if action in allowed]


def bulk_action_of(user: Any, hazard: Hazard) -> str:
    """The bulk step `hazard` waits for from this user ('' if none)."""
    roles = effective_roles(user)
    for rule in RULES:
        if (
            rule.action in BULK_STEPS
            and roles & rule.roles
            and hazard.level in rule.levels
            and hazard.status in rule.sources
        ):
            return rule.action
    return ""


def hazard_bulk_step(*, actor: Any, action: str, hazard_ids: Iterable[int], comment: str = "") -> list[BulkResult]:
    """Takes `action` on each hazard in turn, each in its own transaction; never raises for one hazard."""
    if action not in BULK_STEPS:
        raise ValueError(action)
    step = BULK_STEPS[action]
    ids = list(dict.fromkeys(hazard_ids))[:MAX_ITEMS]
    visible = Hazard.objects.visible_to(actor)
    found = {h.pk: h for h in visible.select_related("enterprise").filter(pk__in=ids)}
    results: list[BulkResult] = []
    for pk in ids:
        hazard = found.get(pk)
        if hazard is None:
            log_denied(user=actor, model=Hazard, lookup={"pk": pk}, detail="批量办理隐患", visible=visible)
            results.append(BulkResult(pk, None, False, NOT_FOUND))
            continue
        try:
            done = run_step(
                actor=actor,
                hazard=hazard,
                action=action,
                call=lambda h: step(actor=actor, hazard=h, comment=comment),
            )
        except StepRefused as exc:
            results.append(BulkResult(pk, hazard, False, "；".join(exc.messages)))
        else:
            results.append(BulkResult(pk, done, True, f"已{A(action).label}"))
    return results
