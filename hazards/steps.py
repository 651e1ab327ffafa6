"""One workflow step as the pages and the API run it: the same checks and the same answers.

`run_step` checks the step against the rule table before calling the service, so that a refusal is
classified the same way everywhere:

- 404: the hazard is not in the user's scope (already raised by `hazard_get`);
- 403: the user's role may not take this step (or the rectifier tries to verify their own work);
- 409: the hazard's status does not allow the step, or it changed since the user read it;
- 400: the input is incomplete or wrong (the service's Chinese messages, by field when it gives them).

The service itself checks everything again under the row lock; this is only for the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError

from hazards.choices import HazardAction, HazardStatus
from hazards.models import Hazard
from hazards.permissions import RULES, check_action, effective_roles
from hazards.services import HazardStateChanged
from hazards.workflow import WORKFLOW

T = TypeVar("T")

# Steps that move the hazard on (the service refuses them when the status moved on meanwhile): the steps
# declared `moves` in hazards.workflow.
TRANSITIONS = WORKFLOW.transitions


class StepRefused(Exception):
    """A refused step: the HTTP status, the Chinese messages, and the service's error if it gave one."""

    def __init__(self, status: int, messages: list[str], error: ValidationError | None = None) -> None:
        super().__init__("；".join(messages))
        self.status = status
        self.messages = messages
        self.error = error


def stale_message(hazard: Hazard, seen_status: str) -> str:
    return (
        f"该隐患状态已变更为“{hazard.get_status_display()}”（原为“{HazardStatus(seen_status).label}”），"
        "请刷新页面后重试。"
    )


def run_step(
    *, actor: object, hazard: Hazard, action: str, call: Callable[[Hazard], T], seen_status: str | None = None
) -> T:
    """Check, then call the service; every refusal becomes a StepRefused with its HTTP status."""
    if seen_status and seen_status in HazardStatus.values and seen_status != hazard.status and action in TRANSITIONS:
        raise StepRefused(409, [stale_message(hazard, seen_status)])
    try:
        check_action(actor, hazard, action)
    except PermissionDenied as exc:
        raise StepRefused(403, [str(exc)]) from exc
    except ValidationError as exc:
        raise StepRefused(409, list(exc.messages), exc) from exc
    try:
        return call(hazard)
    except HazardStateChanged as exc:
        raise StepRefused(409, list(exc.messages), exc) from exc
    except PermissionDenied as exc:
        raise StepRefused(403, [str(exc)]) from exc
    except ValidationError as exc:
        raise StepRefused(400, list(exc.messages), exc) from exc


def queued_actions(user: object) -> dict[tuple[str, str], str]:
    """(level, status) → the label of the step a hazard in that status waits for from this user's role."""
    roles = effective_roles(user)
    result: dict[tuple[str, str], str] = {}
    for rule in RULES:
        if rule.queued and roles & rule.roles:
            for level in rule.levels:
                for source in rule.sources:
                    result.setdefault((level, source), HazardAction(rule.action).label)
    return result
