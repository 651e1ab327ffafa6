"""Every field has an owner: which role may change which field of a hazard, in which status.

One declaration, next to the step rules of `hazards.permissions`, read by everyone who changes a field:

- the services (`hazard_update`, `hazard_admin_amend`, and `hazard_start_rectification` for the deadline
  it may complete) refuse a change outside it, by field name, in Chinese, and save nothing;
- the API's input serializers offer exactly the fields declared for their role (checked at import);
- the page forms show a field the user may not change as text instead of an input;
- the ledger re-upload (`hazards.ledger`) reports a row that changes a field the enterprise may not
  change as an error on that row, naming the column.

The rule of the deadline (整改时限 and 现整改时限): once fixed — by the county's confirmation of a major
hazard, by 挂牌督办, by an approved extension, or for a general hazard by its report — only an approved
extension (`hazard_decide_extension`) or a failed 回头看 (`hazard_recheck`) moves it; no edit does, not even
an admin's correction. A hazard without a deadline may have one filled in by whoever may edit the field.
逾期, the reminders and the county's lists are computed from it, so moving it by an edit would bypass the
延期 approval.

Fields set only by the workflow's steps (status, signatures, rectification and closure records) are listed
in `STEP_FIELDS` with the step that sets them: a field is either granted here or listed there, and a test
fails on a new model field that is neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hazards.choices import ExtensionStatus, HazardLevel, HazardStatus
from hazards.permissions import ADMIN, BOTH, ENTERPRISE, GENERAL, MAJOR, REGION_STAFF, ROLE_WORDS, effective_roles
from portal.choices import Role

if TYPE_CHECKING:
    from hazards.models import Hazard

S = HazardStatus

MAJOR_STATUSES = frozenset({S.DRAFT, S.PENDING_TOWN, S.PENDING_COUNTY, S.CONFIRMED, S.RECTIFYING,
                            S.CLOSURE_REQUESTED, S.CLOSED})  # fmt: skip
GENERAL_STATUSES = frozenset({S.REPORTED, S.RECTIFYING, S.RECTIFIED, S.VERIFIED})
ALL_STATUSES = frozenset(HazardStatus.values)
OPEN = HazardStatus.open()
# While the enterprise holds the hazard: before it is confirmed, and while it rectifies. Once it has asked
# for closure (申请销号) or reported it rectified (已整改), what it submitted is what is reviewed; a
# send-back returns it.
ENTERPRISE_HOLDS = frozenset({S.DRAFT, S.PENDING_TOWN, S.PENDING_COUNTY, S.CONFIRMED, S.REPORTED, S.RECTIFYING})

# The description of the hazard itself, as reported (and, for a major hazard, as signed and confirmed).
DETAIL_FIELDS = (
    "ledger_number", "description", "location", "category", "criterion", "criterion_text", "found_on",
    "found_by", "source",
)  # fmt: skip
# The 五落实 without the deadline (which has its own rule).
FIVE_WITHOUT_DEADLINE = ("measures", "responsible_unit", "responsible_person", "funds_wan", "interim_measures")
FIVE_IMPLEMENTATION_FIELDS = (
    "measures", "responsible_unit", "responsible_person", "funds_wan", "deadline", "interim_measures",
)  # fmt: skip
DEADLINE_FIELDS = frozenset({"deadline", "current_deadline"})


@dataclass(frozen=True)
class Grant:
    """`roles` may change the field of a hazard of one of `levels` while it is in one of `statuses`."""

    roles: frozenset[str]
    levels: frozenset[str]
    statuses: frozenset[str]


def _grants(*grants: tuple[frozenset[str], frozenset[str], Iterable[str]]) -> tuple[Grant, ...]:
    return tuple(Grant(roles, levels, frozenset(statuses)) for roles, levels, statuses in grants)


# An admin corrects anything declared, in every status (also a closed hazard), always with a reason.
_ADMIN_ALWAYS = (ADMIN, BOTH, ALL_STATUSES)

_DETAIL = _grants(
    # A major hazard's details are the enterprise's until the principal signs them; then the town and the
    # county, who confirm them, may still correct them (or send the hazard back).
    (ENTERPRISE, MAJOR, {S.DRAFT}),
    (REGION_STAFF, MAJOR, OPEN & MAJOR_STATUSES),
    (ENTERPRISE | REGION_STAFF, GENERAL, OPEN & GENERAL_STATUSES),
    _ADMIN_ALWAYS,
)
_FIVE = _grants(
    (ENTERPRISE, BOTH, ENTERPRISE_HOLDS),
    (REGION_STAFF, BOTH, OPEN),
    _ADMIN_ALWAYS,
)
# Subject to the deadline rule on top (see `deadline_fixed_by`).
_DEADLINE = _FIVE
_ADMIN_ONLY = _grants(_ADMIN_ALWAYS)

# field → who may change it in which status. The order is the order of the forms and messages.
HAZARD_FIELD_RULES: dict[str, tuple[Grant, ...]] = {
    **dict.fromkeys(DETAIL_FIELDS, _DETAIL),
    **dict.fromkeys(FIVE_WITHOUT_DEADLINE, _FIVE),
    "deadline": _DEADLINE,
    # 整改情况: the enterprise's progress note while it rectifies (the ledger's column); the steps
    # 申请销号 / 整改完成 record the final one.
    "rectification_note": _grants((ENTERPRISE, BOTH, ENTERPRISE_HOLDS), _ADMIN_ALWAYS),
    # The level decides the workflow; 现整改时限 moves by an approved extension. Only an admin corrects them.
    "level": _ADMIN_ONLY,
    "current_deadline": _ADMIN_ONLY,
    "rectified_on": _ADMIN_ONLY,
    "closed_on": _ADMIN_ONLY,
    "supervision_level": _ADMIN_ONLY,
    "supervision_unit": _ADMIN_ONLY,
    "supervision_doc_number": _ADMIN_ONLY,
    "supervision_date": _ADMIN_ONLY,
    "supervision_deadline": _ADMIN_ONLY,
}

# Fields no one edits: each is set by a step (or by the system), named here.
STEP_FIELDS: dict[str, dict[str, str]] = {
    "Hazard": {
        "id": "系统编号",
        "enterprise": "上报时确定，决定数据范围",
        "status": "由办理步骤改变",
        "reported_by": "上报",
        "signed_by": "主要负责人签字",
        "signed_at": "主要负责人签字",
        "rectified_by": "申请销号／整改完成",
        "verified_by": "销号／验收",
        "identity_key": "由编号或发现日期和内容计算",
        "created_at": "系统记录",
        "updated_at": "系统记录",
    },
    # An extension request is written once by 申请延期 and decided once by 审批延期; never edited.
    "ExtensionRequest": {
        "id": "系统编号",
        "hazard": "申请延期",
        "requested_by": "申请延期",
        "requested_at": "申请延期",
        "old_deadline": "申请延期（取当时的现整改时限）",
        "requested_deadline": "申请延期",
        "reason": "申请延期",
        "status": "审批延期",
        "decided_by": "审批延期",
        "decided_at": "审批延期",
        "decision_comment": "审批延期",
    },
    # Evidence is append-only: uploaded with its kind and note, never changed.
    "HazardEvidence": {
        "id": "系统编号",
        "hazard": "上传材料",
        "kind": "上传材料",
        "file": "上传材料",
        "original_name": "上传材料",
        "size": "上传材料",
        "sha256": "上传材料",
        "description": "上传材料",
        "uploaded_by": "上传材料",
        "uploaded_at": "上传材料",
        "thumbnail": "上传材料（服务器生成的缩略图）",
    },
}

# Models whose every field must be declared here (the test walks them).
FIELD_RULES: dict[str, dict[str, tuple[Grant, ...]]] = {
    "Hazard": HAZARD_FIELD_RULES,
    "ExtensionRequest": {},
    "HazardEvidence": {},
}

# A ledger row speaks for the enterprise whose ledger it is, whoever uploads it (a town uploading on the
# enterprise's behalf changes no more than the enterprise could; it corrects a confirmed hazard on its page).
LEDGER_ROLES = ENTERPRISE


def declared_fields(roles: Iterable[str]) -> frozenset[str]:
    """Every field one of `roles` may change in some status (what an input form or serializer offers)."""
    wanted = frozenset(roles)
    return frozenset(name for name, grants in HAZARD_FIELD_RULES.items() if any(g.roles & wanted for g in grants))


def granted(name: str, *, roles: Iterable[str], level: str, status: str) -> bool:
    """The declaration alone: may one of `roles` change field `name` in this level and status?"""
    wanted = frozenset(roles)
    return any(
        grant.roles & wanted and level in grant.levels and status in grant.statuses
        for grant in HAZARD_FIELD_RULES.get(name, ())
    )


def granted_roles(name: str, *, level: str, status: str) -> frozenset[str]:
    roles: frozenset[str] = frozenset()
    for grant in HAZARD_FIELD_RULES.get(name, ()):
        if level in grant.levels and status in grant.statuses:
            roles |= grant.roles
    return roles


def deadline_fixed_by(hazard: Hazard) -> str:
    """Why the hazard's deadline is fixed (Chinese, e.g. "已批准延期"), or "" while it is not.

    Fixed when the hazard has a deadline and it was approved (an extension), put under 挂牌督办, confirmed by
    the county (a major hazard from 已确认 on) or reported (a general hazard, from 已上报 on).
    """
    if hazard.deadline is None and hazard.current_deadline is None:
        return ""
    if hazard.supervision_level:
        return "已挂牌督办"
    if hazard.level == HazardLevel.MAJOR and hazard.status in {S.CONFIRMED, S.RECTIFYING, S.CLOSURE_REQUESTED,
                                                                S.CLOSED}:  # fmt: skip
        return "县局已确认"
    if hazard.level == HazardLevel.GENERAL:
        return "随隐患上报"
    # Last, as it costs a query (the ledger asks this for every row that changes a deadline).
    if hazard.pk is not None and hazard.extensions.filter(status=ExtensionStatus.APPROVED).exists():
        return "已批准延期"
    return ""


def field_label(name: str) -> str:
    from hazards.models import Hazard

    return str(getattr(Hazard._meta.get_field(name), "verbose_name", name))


def _who(roles: frozenset[str]) -> str:
    return ROLE_WORDS.get(roles, "、".join(Role(role).label for role in sorted(roles)))


def field_refusal(hazard: Hazard, name: str, *, roles: Iterable[str], fixed_by: str | None = None) -> str:
    """The Chinese reason why one of `roles` may not change `name` on this hazard now, or "" if they may.

    `fixed_by` is `deadline_fixed_by(hazard)` when the caller has it already (saves a query per field).
    """
    wanted = frozenset(roles)
    label = field_label(name) if name in HAZARD_FIELD_RULES or name in STEP_FIELDS["Hazard"] else name
    if name not in HAZARD_FIELD_RULES:
        return f"“{label}”不能直接修改，由办理步骤记录。"
    if name in DEADLINE_FIELDS:
        why = deadline_fixed_by(hazard) if fixed_by is None else fixed_by
        if why:
            return f"“{label}”已确定（{why}），只能通过申请延期并经批准后变更。"
    if granted(name, roles=wanted, level=hazard.level, status=hazard.status):
        return ""
    status_label = HazardStatus(hazard.status).label
    if hazard.status in HazardStatus.finished():
        return f"该隐患{status_label}，“{label}”只能由管理员更正并说明理由。"
    if wanted & ENTERPRISE and hazard.level == HazardLevel.MAJOR and name in DETAIL_FIELDS:
        return f"重大事故隐患上报后，企业只能补充“五落实”内容；“{label}”需由确认单位退回后修改。"
    allowed = granted_roles(name, level=hazard.level, status=hazard.status) - ADMIN
    if not allowed:
        return f"该隐患当前状态为“{status_label}”，“{label}”不能修改。"
    return f"该隐患当前状态为“{status_label}”，“{label}”由{_who(allowed)}修改。"


def refused_fields(hazard: Hazard, names: Iterable[str], *, roles: Iterable[str]) -> dict[str, str]:
    """field → reason, for each of `names` that `roles` may not change on this hazard now."""
    wanted = frozenset(roles)
    names = list(names)
    fixed_by = deadline_fixed_by(hazard) if DEADLINE_FIELDS & set(names) else ""
    result = {}
    for name in names:
        reason = field_refusal(hazard, name, roles=wanted, fixed_by=fixed_by)
        if reason:
            result[name] = reason
    return result


def editable_now(hazard: Hazard, names: Iterable[str], *, roles: Iterable[str]) -> list[str]:
    """Those of `names` that `roles` may change on this hazard now (the inputs a form shows)."""
    names = list(names)
    refused = refused_fields(hazard, names, roles=roles)
    return [name for name in names if name not in refused]


def update_roles(user: Any) -> frozenset[str]:
    """The roles a user edits with on the pages and the API (an admin corrects through 管理员更正)."""
    return effective_roles(user) - ADMIN


__all__ = [
    "DEADLINE_FIELDS",
    "DETAIL_FIELDS",
    "FIELD_RULES",
    "FIVE_IMPLEMENTATION_FIELDS",
    "HAZARD_FIELD_RULES",
    "LEDGER_ROLES",
    "STEP_FIELDS",
    "Grant",
    "deadline_fixed_by",
    "declared_fields",
    "editable_now",
    "field_refusal",
    "granted",
    "granted_roles",
    "refused_fields",
    "update_roles",
]
