"""The hazard workflow, one declaration per step: who takes it from which status to which, what it needs,
whom it notifies, which service does it, and how the detail page and the API offer it.

Everything else reads this table: `hazards.permissions` (RULES, check_action, can, queue_statuses…),
`hazards.steps` (TRANSITIONS, run_step), the services (notification texts, the "not the rectifier" rule),
the detail page's buttons (`hazards.views`), the API's step actions (`hazards.api.views`), the bulk steps
(`hazards.bulk`, page and API) and the generated `docs/hazard-workflow.md` (`hazards.workflow_doc`).

Adding a step: one `StepDef` here plus its service function (keyword-only `actor`, `hazard`, the inputs),
and a HazardAction value for its name. Forms, serializers and services are named by string (resolved when
used), because they import this module's readers (`hazards.permissions`) themselves.

Scope is not decided here: a hazard outside `Hazard.objects.visible_to(user)` is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.utils.module_loading import import_string

from hazards.choices import HazardAction, HazardLevel, HazardStatus, NotificationKind
from portal.choices import Role

MAJOR = frozenset({HazardLevel.MAJOR})
GENERAL = frozenset({HazardLevel.GENERAL})
BOTH = frozenset({HazardLevel.MAJOR, HazardLevel.GENERAL})

ENTERPRISE = frozenset({Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL})
PRINCIPAL = frozenset({Role.ENTERPRISE_PRINCIPAL})
TOWN = frozenset({Role.TOWN_STAFF})
COUNTY = frozenset({Role.COUNTY_STAFF})
REGION_STAFF = TOWN | COUNTY
ADMIN = frozenset({Role.ADMIN})

A = HazardAction
S = HazardStatus
OPEN = HazardStatus.open()


@dataclass(frozen=True)
class Rule:
    """Who may take a step on hazards of some levels in some statuses (one line of the rule table)."""

    action: str
    levels: frozenset[str]
    sources: frozenset[str]
    roles: frozenset[str]
    # The status after the step; None = unchanged.
    target: str | None = None
    # Whom the hazard waits for in the source status (the work queue); False for optional steps.
    queued: bool = True


@dataclass(frozen=True)
class Grant:
    """A Rule without its action (the action is the step's)."""

    levels: frozenset[str]
    sources: frozenset[str]
    roles: frozenset[str]
    target: str | None = None
    queued: bool = True


def grant(
    levels: frozenset[str],
    sources: Iterable[str],
    roles: frozenset[str],
    target: str | None = None,
    *,
    queued: bool = True,
) -> Grant:
    return Grant(levels, frozenset(sources), roles, target, queued)


# Whom a step's notification goes to; the services map these names to their recipient queries.
HOLDERS = "holders"  # whoever holds the hazard in its new status (services.holders)
ENTERPRISE_USERS = "enterprise"  # the enterprise's clerks and principal
EXTENSION_DECIDERS = "extension_deciders"  # the county for a major hazard, the town for a general one
RECIPIENT_WORDS = {
    HOLDERS: "下一环节的办理人",
    ENTERPRISE_USERS: "企业",
    EXTENSION_DECIDERS: "延期审批人（重大事故隐患：县局股室；一般事故隐患：镇应急管理中心）",
}


@dataclass(frozen=True)
class Notice:
    """The 站内通知 (and e-mail) a step sends; `text` is formatted with the service's values.

    To HOLDERS, `text` is what happened ("已经县局确认…"): the hazard's description goes before it and what
    the new holder is asked to do (services.NEXT_STEP) after it. To others `text` is the whole message, with
    `{hazard}` for the hazard's description.
    """

    text: str
    recipients: str = HOLDERS
    kind: str = NotificationKind.ACTION


@dataclass(frozen=True)
class Page:
    """One form on the hazard detail page (a step may have two: 填写“五落实” and 修改隐患信息 both update)."""

    slug: str
    title: str
    button: str
    form: str  # a class in hazards.forms
    success: str
    position: int  # the order of the forms on the page
    style: str = "primary"  # primary/success: the step the hazard waits for (shown open)
    multipart: bool = False
    # How the form's data reaches the service (hazards.views.PERFORMERS): "fields" passes the cleaned fields.
    perform: str = "fields"
    # A further condition for showing the form (hazards.views.SHOWN_WHEN), beyond the rule table.
    shown_when: str = ""


@dataclass(frozen=True)
class Api:
    """The POST /api/v1/hazards/{id}/<url_path>/ action; answers the hazard's detail."""

    url_path: str
    name: str  # the view method's name (drf-spectacular builds the operationId from it)
    summary: str
    description: str
    serializer: str  # a class in hazards.api.serializers
    # How the validated data reaches the service (hazards.api.views.API_CALLS): "fields" passes them all.
    call: str = "fields"


@dataclass(frozen=True)
class StepDef:
    action: str
    grants: tuple[Grant, ...]
    service: str  # dotted path of the service function
    # What the step needs from the user (the service's keyword arguments besides actor and hazard).
    inputs: tuple[str, ...] = ()
    # Moves the hazard on: refused (409) when the hazard's status changed since the user saw it.
    moves: bool = False
    # "The rectifier never verifies": refused to whoever recorded the rectification.
    not_rectifier: bool = False
    notice: Notice | None = None
    pages: tuple[Page, ...] = ()
    api: Api | None = None
    # May be taken on many hazards at once with one optional comment (hazards.bulk, page and API).
    bulk: bool = False

    @property
    def label(self) -> str:
        return HazardAction(self.action).label

    def rules(self) -> list[Rule]:
        return [Rule(self.action, g.levels, g.sources, g.roles, g.target, g.queued) for g in self.grants]

    def service_function(self) -> Callable[..., Any]:
        function: Callable[..., Any] = import_string(self.service)
        return function


class Workflow:
    """The steps, and what the rest of the code reads from them."""

    def __init__(self, steps: Iterable[StepDef]) -> None:
        self.steps = tuple(steps)
        self._by_action = {step.action: step for step in self.steps}
        if len(self._by_action) != len(self.steps):
            raise ValueError("a step is declared twice")
        slugs = [page.slug for step in self.steps for page in step.pages]
        if len(set(slugs)) != len(slugs):
            raise ValueError("two pages share a slug")

    def __iter__(self) -> Iterator[StepDef]:
        return iter(self.steps)

    def __contains__(self, action: object) -> bool:
        return action in self._by_action

    def step(self, action: str) -> StepDef:
        return self._by_action[action]

    def with_step(self, step: StepDef) -> Workflow:
        """A copy with one more step (or one replaced): how a test tries a new step without touching this one."""
        if step.action in self._by_action:
            return Workflow(tuple(step if s.action == step.action else s for s in self.steps))
        return Workflow((*self.steps, step))

    @cached_property
    def rules(self) -> list[Rule]:
        return [rule for step in self.steps for rule in step.rules()]

    @cached_property
    def transitions(self) -> frozenset[str]:
        return frozenset(step.action for step in self.steps if step.moves)

    @cached_property
    def not_rectifier(self) -> frozenset[str]:
        return frozenset(step.action for step in self.steps if step.not_rectifier)

    @cached_property
    def bulk(self) -> tuple[StepDef, ...]:
        return tuple(step for step in self.steps if step.bulk)

    @cached_property
    def pages(self) -> list[tuple[StepDef, Page]]:
        pages = [(step, page) for step in self.steps for page in step.pages]
        return sorted(pages, key=lambda item: item[1].position)

    @cached_property
    def api_steps(self) -> tuple[StepDef, ...]:
        return tuple(step for step in self.steps if step.api is not None)


COMMENT = ("comment",)

# The order is the order of `allowed_actions` (the API's allowed_actions list): keep new steps at the end.
WORKFLOW = Workflow(
    (
        # 重大事故隐患: 上报（主要负责人签字）→ 镇确认 → 县确认 → (挂牌督办) → 整改中 → 申请销号 → 销号
        StepDef(
            A.SIGN_REPORT,
            (grant(MAJOR, {S.DRAFT}, PRINCIPAL, S.PENDING_TOWN),),
            "hazards.services.hazard_sign_report",
            inputs=("fingerprint", "comment"),
            moves=True,
            notice=Notice("已由主要负责人签字上报"),
            pages=(
                Page(
                    "sign", "主要负责人确认签字", "确认签字上报", "SignReportForm",
                    "已签字上报，等待镇应急管理中心确认。", 10, perform="sign",
                ),
            ),
            api=Api(
                "sign-report", "sign_report", "主要负责人签字上报",
                "重大事故隐患由企业主要负责人确认签字，报镇应急管理中心确认。"
                "fingerprint 填签字前读取的隐患详情中的 fingerprint。",
                "SignReportInputSerializer", call="sign",
            ),
        ),
        StepDef(
            A.TOWN_CONFIRM,
            (grant(MAJOR, {S.PENDING_TOWN}, TOWN, S.PENDING_COUNTY),),
            "hazards.services.hazard_town_confirm",
            inputs=COMMENT,
            moves=True,
            notice=Notice("已经镇应急管理中心确认"),
            pages=(Page("town-confirm", "镇确认", "确认", "CommentForm", "已确认，报县局确认。", 20),),
            api=Api(
                "confirm-town", "confirm_town", "镇确认", "两级确认的第一级：镇应急管理中心确认后报县局。",
                "StepInputSerializer",
            ),
            bulk=True,
        ),
        StepDef(
            A.COUNTY_CONFIRM,
            (grant(MAJOR, {S.PENDING_COUNTY}, COUNTY, S.CONFIRMED),),
            "hazards.services.hazard_county_confirm",
            inputs=COMMENT,
            moves=True,
            notice=Notice("已经县局确认为重大事故隐患"),
            pages=(
                Page(
                    "county-confirm", "县确认", "确认为重大事故隐患", "CommentForm",
                    "已确认为重大事故隐患，企业落实“五落实”后开始整改。", 30,
                ),
            ),
            api=Api(
                "confirm-county", "confirm_county", "县确认",
                "两级确认的第二级：县局股室确认为重大事故隐患，企业落实“五落实”后开始整改。", "StepInputSerializer",
            ),
            bulk=True,
        ),
        StepDef(
            A.LIST_FOR_SUPERVISION,
            (grant(MAJOR, {S.CONFIRMED, S.RECTIFYING, S.CLOSURE_REQUESTED}, COUNTY, queued=False),),
            "hazards.services.hazard_list_for_supervision",
            inputs=("level", "unit", "doc_number", "date", "deadline", "comment"),
            moves=True,
            notice=Notice(
                "{hazard}已被{level_label}挂牌督办（{doc_number}），督办期限{deadline:%Y-%m-%d}。",
                recipients=ENTERPRISE_USERS,
            ),
            pages=(
                Page(
                    "supervise", "挂牌督办", "挂牌督办", "SupervisionForm", "已挂牌督办。", 120,
                    style="outline-danger", shown_when="not_supervised",
                ),
            ),
            api=Api(
                "supervise", "supervise", "挂牌督办",
                "县局对已确认的重大事故隐患挂牌督办（级别、单位、文号、日期、期限）。", "SuperviseInputSerializer",
            ),
        ),
        StepDef(
            A.START_RECTIFICATION,
            (
                grant(MAJOR, {S.CONFIRMED}, ENTERPRISE, S.RECTIFYING),
                # 一般事故隐患: 上报 → 整改中 → 已整改 → 已验收
                grant(GENERAL, {S.REPORTED}, ENTERPRISE, S.RECTIFYING),
            ),
            "hazards.services.hazard_start_rectification",
            inputs=(
                "measures", "responsible_unit", "responsible_person", "funds_wan", "deadline", "interim_measures",
                "comment",
            ),
            moves=True,
            notice=Notice("已开始整改"),
            pages=(Page("start", "开始整改", "开始整改", "StartRectificationForm", "已开始整改。", 50),),
            api=Api(
                "start-rectification", "start_rectification", "开始整改",
                "重大事故隐患须“五落实”（整改措施、责任单位和责任人、整改资金、整改时限、应急预案/临时管控措施）齐全，"
                "可在本步骤一并补充；一般事故隐患须有整改措施和整改时限。",
                "StartRectificationInputSerializer",
            ),
        ),
        StepDef(
            A.REQUEST_CLOSURE,
            (grant(MAJOR, {S.RECTIFYING}, ENTERPRISE, S.CLOSURE_REQUESTED),),
            "hazards.services.hazard_request_closure",
            inputs=("rectified_on", "rectification_note", "comment"),
            moves=True,
            notice=Notice("已整改完成并申请销号"),
            pages=(
                Page(
                    "request-closure", "申请销号", "申请销号", "ClosureRequestForm", "已申请销号，等待县局审核。", 70
                ),
            ),
            api=Api(
                "request-closure", "request_closure", "申请销号",
                "企业整改完成后申请销号，须填写整改完成日期和整改情况，并已上传至少一份整改材料或销号材料。",
                "RequestClosureInputSerializer",
            ),
        ),
        StepDef(
            A.CLOSE,
            (grant(MAJOR, {S.CLOSURE_REQUESTED}, COUNTY, S.CLOSED),),
            "hazards.services.hazard_close",
            inputs=("closed_on", "comment"),
            moves=True,
            not_rectifier=True,
            notice=Notice("已经县局验收销号"),
            pages=(Page("close", "销号", "同意销号", "CloseForm", "已销号。", 100, style="success"),),
            api=Api(
                "close", "close", "销号", "县局审核整改材料后销号；整改填报人不能为自己的整改销号。",
                "CloseInputSerializer",
            ),
            bulk=True,
        ),
        StepDef(
            A.SEND_BACK,
            # Send-back at every confirmation, to whoever held the hazard before. Not queued: the hazard
            # waits for the confirmation (or verification) in the same status, which is what the queue names.
            (
                grant(MAJOR, {S.PENDING_TOWN}, TOWN, S.DRAFT, queued=False),
                grant(MAJOR, {S.PENDING_COUNTY}, COUNTY, S.PENDING_TOWN, queued=False),
                grant(MAJOR, {S.CLOSURE_REQUESTED}, COUNTY, S.RECTIFYING, queued=False),
                grant(GENERAL, {S.RECTIFIED}, TOWN, S.RECTIFYING, queued=False),
            ),
            "hazards.services.hazard_send_back",
            inputs=("reason",),
            moves=True,
            notice=Notice("被退回（理由：{reason}）"),
            pages=(
                Page("send-back", "退回", "退回", "SendBackForm", "已退回。", 110, style="outline-danger"),
            ),
            api=Api(
                "send-back", "send_back", "退回",
                "镇确认、县确认或销号审核时退回上一环节，必须填写理由（待镇确认→待签字，待县确认→待镇确认，申请销号→整改中；"
                "一般事故隐患验收时退回整改中）。",
                "SendBackInputSerializer",
            ),
        ),
        StepDef(
            A.MARK_RECTIFIED,
            (
                grant(GENERAL, {S.RECTIFYING}, ENTERPRISE, S.RECTIFIED),
                # A town may record an on-the-spot rectification (立查立改) it witnessed; it then cannot verify it.
                grant(GENERAL, {S.RECTIFYING}, TOWN, S.RECTIFIED, queued=False),
            ),
            "hazards.services.hazard_mark_rectified",
            inputs=("rectified_on", "rectification_note", "comment"),
            moves=True,
            notice=Notice("已整改完成"),
            pages=(
                Page(
                    "mark-rectified", "整改完成", "整改完成", "MarkRectifiedForm",
                    "已整改完成，等待镇应急管理中心验收。", 80,
                ),
            ),
            api=Api(
                "mark-rectified", "mark_rectified", "整改完成（一般事故隐患）",
                "填写整改完成日期和整改情况（或已上传整改材料），等待镇验收。", "MarkRectifiedInputSerializer",
            ),
        ),
        StepDef(
            A.VERIFY,
            (grant(GENERAL, {S.RECTIFIED}, TOWN, S.VERIFIED),),
            "hazards.services.hazard_verify",
            inputs=COMMENT,
            moves=True,
            not_rectifier=True,
            notice=Notice("已经镇应急管理中心验收"),
            pages=(Page("verify", "验收", "验收通过", "CommentForm", "已验收。", 90),),
            api=Api(
                "verify", "verify", "验收（一般事故隐患）", "镇应急管理中心验收；整改填报人不能验收自己的整改。",
                "StepInputSerializer",
            ),
            bulk=True,
        ),
        # Both levels.
        StepDef(
            A.REQUEST_EXTENSION,
            (grant(BOTH, {S.CONFIRMED, S.REPORTED, S.RECTIFYING}, ENTERPRISE, queued=False),),
            "hazards.services.hazard_request_extension",
            inputs=("requested_deadline", "reason"),
            notice=Notice(
                "{hazard}申请将整改时限由{old_deadline:%Y-%m-%d}延至{requested_deadline:%Y-%m-%d}，请审批。",
                recipients=EXTENSION_DECIDERS,
            ),
            pages=(
                Page(
                    "extension", "申请延期", "提交延期申请", "ExtensionRequestForm", "延期申请已提交。", 130,
                    style="outline-primary", shown_when="may_request_extension",
                ),
            ),
        ),
        StepDef(
            A.DECIDE_EXTENSION,
            (
                grant(MAJOR, OPEN, COUNTY, queued=False),
                grant(GENERAL, OPEN, REGION_STAFF, queued=False),
            ),
            "hazards.services.hazard_decide_extension",
            inputs=("extension", "approve", "comment"),
            notice=Notice("{hazard}的延期申请{outcome}。", recipients=ENTERPRISE_USERS, kind=NotificationKind.INFO),
            pages=(
                Page(
                    "decide-extension", "审批延期", "提交审批", "ExtensionDecisionForm", "延期申请已审批。", 140,
                    perform="decide_extension", shown_when="extension_pending",
                ),
            ),
        ),
        StepDef(
            A.RECHECK,
            (
                grant(MAJOR, {S.CLOSED}, REGION_STAFF, queued=False),
                grant(GENERAL, {S.VERIFIED}, REGION_STAFF, queued=False),
            ),
            "hazards.services.hazard_recheck",
            inputs=("passed", "comment", "new_deadline"),
            moves=True,
            # Sent only when the re-check fails and the hazard reopens.
            notice=Notice("回头看不合格，已重新打开（理由：{comment}）"),
            pages=(
                Page(
                    "recheck", "回头看", "提交回头看结果", "RecheckForm", "回头看结果已记录。", 150,
                    style="outline-primary",
                ),
            ),
            api=Api(
                "recheck", "recheck", "回头看",
                "对已销号（已验收）隐患回头看：合格只记录；不合格必须填写意见，隐患重新打开为整改中。",
                "RecheckInputSerializer",
            ),
        ),
        StepDef(
            A.UPDATE,
            (grant(BOTH, OPEN, ENTERPRISE | REGION_STAFF, queued=False),),
            "hazards.services.hazard_update",
            inputs=("data", "comment"),
            pages=(
                Page(
                    "five", "填写“五落实”", "保存“五落实”", "FiveImplementationForm", "“五落实”已保存。", 40,
                    style="outline-primary", perform="changes", shown_when="fields_editable",
                ),
                Page(
                    "edit", "修改隐患信息", "保存修改", "HazardEditForm", "隐患信息已保存。", 160,
                    style="outline-secondary", perform="changes", shown_when="fields_editable",
                ),
            ),
        ),
        StepDef(
            A.ADD_EVIDENCE,
            (grant(BOTH, OPEN, ENTERPRISE | REGION_STAFF, queued=False),),
            "hazards.services.hazard_add_evidence",
            inputs=("file", "original_name", "kind", "description"),
            pages=(
                Page(
                    "evidence", "上传材料", "上传", "EvidenceForm", "材料已上传。", 60, style="outline-primary",
                    multipart=True, perform="evidence",
                ),
            ),
        ),
        StepDef(
            A.ADMIN_AMEND,
            (grant(BOTH, HazardStatus.values, ADMIN, queued=False),),
            "hazards.services.hazard_admin_amend",
            inputs=("data", "reason"),
            pages=(
                Page(
                    "amend", "管理员更正", "保存更正", "AdminAmendForm", "更正已保存。", 170,
                    style="outline-danger", perform="amend",
                ),
            ),
            api=Api(
                "admin-amend", "admin_amend", "管理员更正",
                "管理员更正隐患信息（包括已销号的隐患），必须填写理由；只改提交的字段，更正前后的值记入操作日志。",
                "AdminAmendInputSerializer", call="amend",
            ),
        ),
    )
)  # fmt: skip


def notice_text(step: StepDef, **values: Any) -> str:
    """The step's notification text with the service's values filled in."""
    assert step.notice is not None, step.action
    return step.notice.text.format(**values)


__all__ = [
    "ADMIN", "BOTH", "COUNTY", "ENTERPRISE", "GENERAL", "MAJOR", "OPEN", "PRINCIPAL", "REGION_STAFF", "TOWN",
    "WORKFLOW", "Api", "Grant", "Notice", "Page", "Rule", "StepDef", "Workflow", "grant", "notice_text",
]  # fmt: skip
