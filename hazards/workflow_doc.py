"""docs/hazard-workflow.md, written from the step declarations (hazards.workflow) — never by hand.

`manage.py hazard_workflow_doc` rewrites it; `--check` fails when the committed file is stale (a test runs
the same comparison), so the document cannot drift from the code.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from hazards.choices import HazardAction, HazardLevel, HazardStatus
from hazards.workflow import RECIPIENT_WORDS, WORKFLOW, Grant, StepDef, Workflow
from portal.choices import Role

DOC_PATH = Path("docs") / "hazard-workflow.md"


def doc_path() -> Path:
    return Path(settings.BASE_DIR) / DOC_PATH


def _roles(roles: frozenset[str]) -> str:
    return "、".join(str(Role(role).label) for role in sorted(roles))


def _statuses(statuses: frozenset[str]) -> str:
    if statuses == frozenset(HazardStatus.values):
        return "任何状态"
    return "、".join(str(HazardStatus(status).label) for status in HazardStatus.values if status in statuses)


def _levels(levels: frozenset[str]) -> str:
    return "、".join(str(HazardLevel(level).label) for level in HazardLevel.values if level in levels)


def _grant(grant: Grant) -> str:
    target = HazardStatus(grant.target).label if grant.target else "状态不变"
    queued = "" if grant.queued else "（可选，不进待办）"
    return f"{_levels(grant.levels)}：{_statuses(grant.sources)} → {target}，由{_roles(grant.roles)}办理{queued}"


def _step(step: StepDef) -> list[str]:
    lines = [f"## {step.label} (`{step.action}`)", ""]
    lines += [f"- Who, from → to: {_grant(grant)}" for grant in step.grants]
    lines.append(f"- Service: `{step.service}`")
    if step.inputs:
        lines.append(f"- Inputs: {', '.join(f'`{name}`' for name in step.inputs)}")
    rules = []
    if step.moves:
        rules.append("refused (409) when the hazard's status changed since the user saw it")
    if step.not_rectifier:
        rules.append("never by whoever recorded the rectification")
    if step.bulk:
        rules.append("may be taken in bulk (待办 page, `POST /api/v1/hazard-bulk/<step>/`)")
    if rules:
        lines.append(f"- Rules: {'; '.join(rules)}")
    if step.notice is not None:
        lines.append(f"- Notifies {RECIPIENT_WORDS[step.notice.recipients]}: “{step.notice.text}”")
    for page in step.pages:
        where = f"`POST /hazards/<id>/{page.slug}/`"
        lines.append(f"- Page: “{page.title}” (form `{page.form}`, button “{page.button}”, {where})")
    if step.api is not None:
        api = step.api
        lines.append(f"- API: `POST /api/v1/hazards/{{id}}/{api.url_path}/` ({api.summary}, `{api.serializer}`)")
    return [*lines, ""]


def render(workflow: Workflow = WORKFLOW) -> str:
    lines = [
        "# The hazard workflow",
        "",
        "<!-- Generated from hazards/workflow.py by `manage.py hazard_workflow_doc`; do not edit. -->",
        "",
        "Each step of 隐患排查治理 is declared once, in `hazards/workflow.py`: who takes it from which status to",
        "which, what it needs, whom it notifies, which service does it, and how the detail page, the API and the",
        "bulk steps offer it. The permission checks (`hazards.permissions`), the status-moving set",
        "(`hazards.steps.TRANSITIONS`), the services' notifications, the page's buttons, the API's step actions",
        "and this document are all read from it. Scope is not part of it: a hazard outside the user's region or",
        "enterprise is not found (404).",
        "",
        "To add a step: add a `HazardAction` value, write its service function (keyword-only `actor`, `hazard`",
        "and its inputs; lock with `_transition`, record with `_finish`), add one `StepDef` to `WORKFLOW`, give the",
        "step its typed audit event (an `AuditKind` and one function in `hazards.audit_events.STEP_EVENTS`), and",
        "run `manage.py hazard_workflow_doc`.",
        "",
        "| Step | Levels | Roles | Page | API | Bulk |",
        "|---|---|---|---|---|---|",
    ]
    for step in workflow:
        levels = frozenset().union(*(grant.levels for grant in step.grants))
        roles = frozenset().union(*(grant.roles for grant in step.grants))
        pages = "、".join(page.title for page in step.pages) or "—"
        api = f"`{step.api.url_path}`" if step.api else "—"
        lines.append(
            f"| {HazardAction(step.action).label} | {_levels(levels)} | {_roles(roles)} | {pages} | {api} | "
            f"{'是' if step.bulk else '—'} |"
        )
    lines.append("")
    for step in workflow:
        lines += _step(step)
    return "\n".join(lines).rstrip("\n") + "\n"
