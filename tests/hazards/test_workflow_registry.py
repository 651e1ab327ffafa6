"""The hazard steps are declared once (hazards.workflow, issue 12 §1): the rule table, the status-moving set,
the bulk steps, the detail page's forms, the API's step actions and docs/hazard-workflow.md are read from
the declarations; every name a declaration gives resolves; a new step is one declaration plus its service."""

from __future__ import annotations

import inspect
from string import Formatter
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from rest_framework import serializers

from hazards import audit_events as hazard_events
from hazards import bulk, permissions, services, steps, views
from hazards import forms as hazard_forms
from hazards.api import serializers as api_serializers
from hazards.api.views import API_CALLS, HazardViewSet, step_actions_mixin
from hazards.choices import HazardAction, HazardLevel, HazardStatus
from hazards.models import Hazard, HazardEvent, Notification
from hazards.steps import StepRefused, run_step
from hazards.workflow import TOWN, WORKFLOW, Api, Notice, Page, StepDef, grant
from hazards.workflow_doc import doc_path, render
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard, second_town_a_staff

S = HazardStatus
GENERAL = frozenset({HazardLevel.GENERAL})


def test_the_readers_follow_the_declarations() -> None:
    assert [rule for step in WORKFLOW for rule in step.rules()] == permissions.RULES
    assert {step.action for step in WORKFLOW if step.moves} == steps.TRANSITIONS
    assert list(bulk.BULK_STEPS) == [step.action for step in WORKFLOW.bulk]
    assert [step.slug for step in views.STEPS] == [page.slug for _, page in WORKFLOW.pages]
    routed_names = {extra.__name__ for extra in HazardViewSet.get_extra_actions()}  # what the router sees
    assert {step.api.name for step in WORKFLOW.api_steps if step.api} <= routed_names
    for step in WORKFLOW.api_steps:
        assert step.api is not None
        routed = getattr(HazardViewSet, step.api.name)
        assert routed.url_path == step.api.url_path and routed.mapping == {"post": step.api.name}


@pytest.mark.parametrize("step", list(WORKFLOW), ids=[step.action for step in WORKFLOW])
def test_every_name_a_step_gives_resolves(step: StepDef) -> None:
    service = step.service_function()
    parameters = set(inspect.signature(service).parameters)
    assert {"actor"} <= parameters and set(step.inputs) <= parameters, (step.service, step.inputs)
    assert step.grants and all(g.levels and g.sources and g.roles for g in step.grants)
    for page in step.pages:
        assert issubclass(getattr(hazard_forms, page.form), hazard_forms.StepForm)
        assert page.perform in views.PERFORMERS and page.shown_when in {"", *views.SHOWN_WHEN}
    if step.api is not None:
        serializer_class = getattr(api_serializers, step.api.serializer)
        assert issubclass(serializer_class, serializers.Serializer) and step.api.call in API_CALLS
        if step.api.call == "fields":  # the API's input is the step's input, passed as it is
            assert set(serializer_class().fields) - {"expected_status"} == set(step.inputs)
    if step.notice is not None:  # the services fill a notice by name (str.format with keywords only)
        names = [name for _, name, _, _ in Formatter().parse(step.notice.text) if name is not None]
        assert all(name.isidentifier() for name in names), step.notice.text


def test_the_committed_workflow_doc_is_current() -> None:
    # When this fails: run `manage.py hazard_workflow_doc` and commit docs/hazard-workflow.md.
    assert doc_path().read_text(encoding="utf-8") == render()
    call_command("hazard_workflow_doc", "--check")


def test_a_stale_doc_is_refused(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "hazard-workflow.md"
    stale.write_text(render().replace("镇确认", "镇核实"), encoding="utf-8")
    monkeypatch.setattr("hazards.management.commands.hazard_workflow_doc.doc_path", lambda: stale)
    with pytest.raises(CommandError, match="已过期"):
        call_command("hazard_workflow_doc", "--check")
    call_command("hazard_workflow_doc")
    assert stale.read_text(encoding="utf-8") == render()


# --- A new step: one declaration and its service -----------------------------------------------------------

# An action value that is no step today stands in for the new step's name.
TRIAL_ACTION = HazardAction.LEDGER_IMPORT


@transaction.atomic
def hazard_trial_step(*, actor: Any, hazard: Hazard, comment: str = "") -> Hazard:
    """The new step's service, written as every step service is: lock and check, then record and notify."""
    locked, _rule, before = services._transition(actor=actor, hazard=hazard, action=TRIAL_ACTION)
    return services._finish(
        actor=actor, hazard=locked, action=TRIAL_ACTION, from_status=hazard.status, before=before, comment=comment
    )


TRIAL = StepDef(
    TRIAL_ACTION,
    (grant(GENERAL, {S.RECTIFYING}, TOWN, S.RECTIFIED, queued=False),),
    f"{__name__}.hazard_trial_step",
    inputs=("comment",),
    moves=True,
    notice=Notice("已由镇应急管理中心现场核实整改（{comment}）"),
    pages=(Page("trial", "现场核实", "核实", "CommentForm", "已核实。", 999),),
    api=Api("trial-step", "trial_step", "现场核实", "镇应急管理中心现场核实整改。", "StepInputSerializer"),
    bulk=True,
)


def test_a_new_step_is_one_declaration_and_its_service(
    cast: Cast, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    trial = WORKFLOW.with_step(TRIAL)
    assert TRIAL_ACTION not in WORKFLOW and trial.step(TRIAL_ACTION) is TRIAL
    # What the modules read from the table at import, they read from the trial copy here.
    monkeypatch.setattr(permissions, "RULES", trial.rules)
    monkeypatch.setattr(permissions, "WORKFLOW", trial)
    monkeypatch.setattr(steps, "TRANSITIONS", trial.transitions)
    monkeypatch.setattr(services.workflow, "WORKFLOW", trial)  # where the services read the steps
    # Its typed audit event: one function per kind (hazards.audit_events); the trial borrows "updated".
    monkeypatch.setitem(hazard_events.STEP_EVENTS, TRIAL_ACTION, hazard_events.hazard_updated)
    colleague = second_town_a_staff(world)
    hazard = make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=S.RECTIFYING)

    assert TRIAL_ACTION in permissions.allowed_actions(cast.town_a_staff, hazard)
    assert TRIAL_ACTION not in permissions.allowed_actions(cast.clerk, hazard)
    service = TRIAL.service_function()
    with pytest.raises(StepRefused) as refused:
        run_step(
            actor=cast.clerk, hazard=hazard, action=TRIAL_ACTION, call=lambda h: service(actor=cast.clerk, hazard=h)
        )
    assert refused.value.status == 403 and "镇应急管理中心" in refused.value.messages[0]
    with pytest.raises(StepRefused) as stale:
        run_step(actor=cast.town_a_staff, hazard=hazard, action=TRIAL_ACTION, seen_status=S.REPORTED, call=print)
    assert stale.value.status == 409

    done = run_step(
        actor=cast.town_a_staff, hazard=hazard, action=TRIAL_ACTION,
        call=lambda h: service(actor=cast.town_a_staff, hazard=h, comment="边坡浮石已清"),
    )  # fmt: skip
    assert done.status == S.RECTIFIED
    event = HazardEvent.objects.get(hazard=hazard, action=TRIAL_ACTION)
    assert (event.from_status, event.to_status, event.comment) == (S.RECTIFYING, S.RECTIFIED, "边坡浮石已清")
    message = Notification.objects.get(recipient=colleague, hazard=hazard).message
    assert "已由镇应急管理中心现场核实整改（边坡浮石已清），请镇应急管理中心验收。" in message
    assert not Notification.objects.filter(recipient=cast.town_a_staff).exists()

    # The page, the API, the bulk steps and the doc offer it from the same declaration.
    page_step = views._page_step(TRIAL, TRIAL.pages[0])
    assert page_step.form_class is hazard_forms.CommentForm and page_step.action == TRIAL_ACTION
    routed = step_actions_mixin(trial).trial_step  # type: ignore[attr-defined]
    assert routed.url_path == "trial-step" and routed.mapping == {"post": "trial_step"}
    assert TRIAL in trial.bulk and TRIAL not in WORKFLOW.bulk
    assert "## 台账导入 (`ledger_import`)" in render(trial) and "台账导入" not in render()
