"""Forms of the hazard pages. They check input and offer only in-scope choices; `hazards.services` decides and saves.

Every step form carries the status the user saw (`seen_status`): if the hazard moved on meanwhile,
the service refuses with "该隐患状态已变更…" instead of acting on a hazard the user did not see.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from hazards.choices import (
    INDUSTRY_MINE_TYPE,
    EvidenceKind,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardStatus,
    SupervisionLevel,
)
from hazards.fields import FIVE_IMPLEMENTATION_FIELDS, refused_fields, update_roles
from hazards.models import Hazard, MajorHazardCriterion, local_today
from hazards.permissions import ADMIN
from hazards.selectors import criterion_list
from hazards.validation import MAJOR_NEEDS_CRITERION
from portal import limits
from portal.models import Enterprise, Region, User
from portal.upload_types import DOCUMENTS

EVIDENCE_ACCEPT = DOCUMENTS.accept


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class StyledForm(forms.Form):
    """Bootstrap classes on every widget (the CSP forbids inline style, so classes only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class StepForm(StyledForm):
    """Base of the forms behind the buttons of the detail page."""

    seen_status = forms.ChoiceField(choices=HazardStatus.choices, required=False, widget=forms.HiddenInput)

    @classmethod
    def defaults(cls, *, user: User, hazard: Hazard) -> dict[str, Any]:
        """What an unbound form starts with where the answer is known (today, the user's bureau)."""
        return {}

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("seen_status", None)
        return data


class HazardBoundForm(StepForm):
    """A step form that starts from the hazard's current values and sends only what changed.

    With the user, a field the user may not change on this hazard now (hazards.fields: a signed major
    hazard's details for the enterprise, a fixed deadline for everyone) is shown as text (`read_only`:
    label, value, reason) instead of an input; the service refuses a change to it anyway.
    """

    FIELDS: tuple[str, ...] = ()
    # The admin's correction (管理员更正) edits as the admin role; the other forms as the user's own role.
    AS_ADMIN = False

    def __init__(self, *args: Any, hazard: Hazard, user: User | None = None, **kwargs: Any) -> None:
        if not args and "data" not in kwargs:
            initial = {name: getattr(hazard, name) for name in self.FIELDS}
            kwargs["initial"] = {**initial, "seen_status": hazard.status, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.hazard = hazard
        self.read_only: list[tuple[str, str, str]] = []
        if user is not None:
            roles = ADMIN if self.AS_ADMIN else update_roles(user)
            present = [name for name in self.FIELDS if name in self.fields]
            for name, reason in refused_fields(hazard, present, roles=roles).items():
                self.read_only.append((str(self.fields[name].label), _display(hazard, name), reason))
                del self.fields[name]

    def changes(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in self.FIELDS:
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            if isinstance(value, str):
                value = value.strip()
            current = getattr(self.hazard, name)
            if value != current and not (value in ("", None) and current in ("", None)):
                result[name] = value
        return result


def _display(hazard: Hazard, name: str) -> str:
    display = getattr(hazard, f"get_{name}_display", None)
    value = display() if display is not None else getattr(hazard, name)
    if value in (None, ""):
        return "—"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def criterion_label(criterion: MajorHazardCriterion) -> str:
    """The option text: the item's code and its text, with the first sub-items when the text only leads in."""
    text = "".join([criterion.text, *criterion.sub_items])
    text = text if len(text) <= 60 else f"{text[:60]}…"
    return f"{criterion.get_mine_type_display()}{criterion.code} {text}"


def criteria_for(enterprise: Enterprise | None) -> QuerySet[MajorHazardCriterion]:
    """The 判定依据 items offered for an enterprise: those of its mine type (all items when it has none)."""
    mine_type = INDUSTRY_MINE_TYPE.get(enterprise.industry) if enterprise is not None else None
    # A county's own items apply only there: without an enterprise, the national items only.
    return criterion_list(mine_type=mine_type, at_path=enterprise.town.path if enterprise is not None else "")


# --- Reporting ------------------------------------------------------------------------------------


class HazardReportForm(StyledForm):
    enterprise = forms.ModelChoiceField(label="企业", queryset=Enterprise.objects.none(), empty_label="请选择企业")
    level = forms.ChoiceField(label="隐患级别", choices=HazardLevel.choices, initial=HazardLevel.GENERAL)
    criterion = forms.ModelChoiceField(
        label="判定依据",
        queryset=MajorHazardCriterion.objects.none(),
        required=False,
        empty_label="请选择《金属非金属矿山重大事故隐患判定标准》条目",
        help_text="重大事故隐患必须选择判定依据（矿安〔2022〕88号），按企业的矿山类型列出。",
    )
    description = forms.CharField(label="隐患内容", max_length=limits.TEXT_NOTE, widget=_textarea(3))
    location = forms.CharField(label="隐患部位", max_length=200, required=False)
    category = forms.ChoiceField(label="隐患类别", choices=[("", "请选择"), *HazardCategory.choices])
    source = forms.ChoiceField(label="隐患来源", choices=HazardSource.choices, initial=HazardSource.SELF_CHECK)
    found_on = forms.DateField(label="发现日期", widget=DateInput())
    found_by = forms.CharField(label="发现人", max_length=100, required=False)
    ledger_number = forms.CharField(label="台账编号", max_length=60, required=False)
    measures = forms.CharField(label="整改措施", max_length=limits.TEXT_NOTE, required=False, widget=_textarea(2))
    deadline = forms.DateField(label="整改时限", required=False, widget=DateInput())
    comment = forms.CharField(label="说明", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        enterprises = Enterprise.objects.visible_to(user).select_related("town").order_by("name", "id")
        enterprise_field: Any = self.fields["enterprise"]
        enterprise_field.queryset = enterprises
        self.own_enterprise: Enterprise | None = None
        if user.enterprise_id is not None:
            self.own_enterprise = user.enterprise
            enterprise_field.initial = user.enterprise_id
            enterprise_field.widget = forms.HiddenInput()
        else:
            enterprise_field.label_from_instance = lambda e: f"{e.name}（{e.town.name}）"
            enterprise_field.widget.attrs["data-criteria-source"] = "1"
        self.fields["found_on"].initial = local_today()
        chosen = self.own_enterprise or self._chosen_enterprise(enterprises)
        criterion_field: Any = self.fields["criterion"]
        criterion_field.queryset = criteria_for(chosen)
        criterion_field.label_from_instance = criterion_label
        self.fields["level"].widget.attrs["data-level-switch"] = "1"

    def _chosen_enterprise(self, enterprises: QuerySet[Enterprise]) -> Enterprise | None:
        raw = self.data.get(self.add_prefix("enterprise")) if self.is_bound else None
        if not raw:
            return None
        try:
            return enterprises.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.own_enterprise is not None:
            data["enterprise"] = self.own_enterprise
        level = data.get("level")
        criterion = data.get("criterion")
        if level == HazardLevel.MAJOR and criterion is None and "criterion" not in self.errors:
            self.add_error("criterion", MAJOR_NEEDS_CRITERION)
        if level == HazardLevel.GENERAL:
            data["criterion"] = None
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("location", "found_by", "ledger_number", "measures", "comment"):
            data[key] = data.get(key) or ""
        return data


# --- The 五落实 and rectification -----------------------------------------------------------------


FIVE_FIELDS = FIVE_IMPLEMENTATION_FIELDS  # declared once, in hazards.fields


class FiveImplementationForm(HazardBoundForm):
    """“五落实”: measures, responsible unit and person, funds, deadline, interim measures.

    Saving part of it is allowed; starting rectification needs all five (the service checks).
    """

    FIELDS = FIVE_FIELDS

    measures = forms.CharField(label="整改措施", max_length=limits.TEXT_NOTE, required=False, widget=_textarea(3))
    responsible_unit = forms.CharField(label="责任单位", max_length=200, required=False)
    responsible_person = forms.CharField(label="责任人", max_length=100, required=False)
    funds_wan = forms.DecimalField(
        label="整改资金（万元）", min_value=Decimal("0"), max_digits=12, decimal_places=2, required=False
    )
    deadline = forms.DateField(label="整改时限", required=False, widget=DateInput())
    interim_measures = forms.CharField(
        label="应急预案/临时管控措施", max_length=limits.TEXT_NOTE, required=False, widget=_textarea(2)
    )


class StartRectificationForm(FiveImplementationForm):
    """开始整改, completing the 五落实 in the same step (empty fields keep what is recorded)."""

    comment = forms.CharField(label="说明", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        return {k: v for k, v in data.items() if v not in (None, "") or k == "comment"}


class HazardEditForm(HazardBoundForm):
    """修改隐患信息 of an open hazard (not its level or status)."""

    FIELDS = ("description", "location", "category", "criterion", "found_on", "found_by", "source", "ledger_number")

    description = forms.CharField(label="隐患内容", max_length=limits.TEXT_NOTE, widget=_textarea(3))
    location = forms.CharField(label="隐患部位", max_length=200, required=False)
    category = forms.ChoiceField(label="隐患类别", choices=HazardCategory.choices)
    criterion = forms.ModelChoiceField(label="判定依据", queryset=MajorHazardCriterion.objects.none(), required=False)
    found_on = forms.DateField(label="发现日期", widget=DateInput())
    found_by = forms.CharField(label="发现人", max_length=100, required=False)
    source = forms.ChoiceField(label="隐患来源", choices=HazardSource.choices)
    ledger_number = forms.CharField(label="台账编号", max_length=60, required=False)

    def __init__(self, *args: Any, hazard: Hazard, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, hazard=hazard, user=user, **kwargs)
        if "criterion" not in self.fields:  # shown as text: the user may not change it
            return
        if hazard.is_major:
            field: Any = self.fields["criterion"]
            field.queryset = criteria_for(hazard.enterprise)
            field.label_from_instance = criterion_label
            field.required = True
        else:
            del self.fields["criterion"]


class EvidenceForm(StepForm):
    file = forms.FileField(label="文件", help_text=f"{DOCUMENTS.description}，不超过 10 MB。")
    kind = forms.ChoiceField(label="材料类型", choices=EvidenceKind.choices, initial=EvidenceKind.RECTIFICATION)
    description = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = EVIDENCE_ACCEPT


class ClosureRequestForm(StepForm):
    rectified_on = forms.DateField(label="整改完成日期", widget=DateInput())
    rectification_note = forms.CharField(label="整改情况", max_length=limits.TEXT_NOTE, widget=_textarea(3))
    comment = forms.CharField(label="说明", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))

    @classmethod
    def defaults(cls, *, user: User, hazard: Hazard) -> dict[str, Any]:
        return {"rectified_on": local_today()}


class MarkRectifiedForm(StepForm):
    rectified_on = forms.DateField(label="整改完成日期", widget=DateInput())
    rectification_note = forms.CharField(
        label="整改情况", max_length=limits.TEXT_NOTE, required=False, widget=_textarea(3)
    )
    comment = forms.CharField(label="说明", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))

    @classmethod
    def defaults(cls, *, user: User, hazard: Hazard) -> dict[str, Any]:
        return {"rectified_on": local_today()}


class CommentForm(StepForm):
    comment = forms.CharField(label="意见", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))


class SignReportForm(CommentForm):
    """主要负责人签字上报: carries what the page showed (`hazards.fingerprint`); refused if it changed.

    Signing asks for confirmation and the password again (and the 动态口令 once enrolled): `hazards.signing`
    checks them before the service runs; they are never passed on to the service."""

    REAUTH_FIELDS = ("password", "otp_code", "confirm")

    fingerprint = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    password = forms.CharField(
        label="登录密码", required=False, max_length=128, strip=False,
        help_text="签字前再次确认身份：主要负责人本人的登录密码。",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )  # fmt: skip
    otp_code = forms.CharField(
        label="动态口令或备用码", required=False, max_length=16,
        help_text="已启用两步验证的必填：验证器当前显示的 6 位数字，或一个未用过的备用码。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )  # fmt: skip
    confirm = forms.BooleanField(
        label="以上隐患情况经本人核对属实，确认签字。",
        error_messages={"required": "请勾选确认后再签字。"},
    )

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        for name in self.REAUTH_FIELDS:
            data.pop(name, None)
        return data


class CloseForm(StepForm):
    closed_on = forms.DateField(label="销号日期", required=False, widget=DateInput())
    comment = forms.CharField(label="验收意见", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))


class SendBackForm(StepForm):
    reason = forms.CharField(label="退回理由", max_length=limits.TEXT_COMMENT, widget=_textarea(2))


class SupervisionForm(StepForm):
    level = forms.ChoiceField(label="督办级别", choices=SupervisionLevel.choices, initial=SupervisionLevel.COUNTY)
    unit = forms.CharField(label="督办单位", max_length=200)
    doc_number = forms.CharField(label="督办文号", max_length=100)
    date = forms.DateField(label="督办日期", widget=DateInput())
    deadline = forms.DateField(label="督办期限", widget=DateInput())
    comment = forms.CharField(label="说明", max_length=limits.TEXT_COMMENT, required=False, widget=_textarea(2))

    @classmethod
    def defaults(cls, *, user: User, hazard: Hazard) -> dict[str, Any]:
        county = user.region.county() if user.region is not None else None
        if county is None:
            county = hazard.enterprise.town.county()
        return {"unit": bureau_name(county), "date": local_today()}


def bureau_name(county: Region | None) -> str:
    """The county emergency-management bureau's name, "泽州县应急管理局" ("" when there is no county)."""
    return f"{county.name}应急管理局" if county is not None else ""


class ExtensionRequestForm(StepForm):
    requested_deadline = forms.DateField(label="申请延至", widget=DateInput())
    reason = forms.CharField(label="延期理由", max_length=limits.TEXT_COMMENT, widget=_textarea(2))


DECISIONS = [("approve", "批准"), ("reject", "驳回")]


class ExtensionDecisionForm(StepForm):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label="审批结果", choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="审批意见",
        max_length=limits.TEXT_COMMENT,
        required=False,
        widget=_textarea(2),
        help_text="驳回时必须填写理由。",
    )


RECHECK_RESULTS = [("passed", "合格"), ("failed", "不合格，重新打开")]


class RecheckForm(StepForm):
    result = forms.ChoiceField(label="回头看结果", choices=RECHECK_RESULTS, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="意见",
        max_length=limits.TEXT_COMMENT,
        required=False,
        widget=_textarea(2),
        help_text="不合格时必须填写理由。",
    )
    new_deadline = forms.DateField(label="新的整改时限", required=False, widget=DateInput())

    def service_kwargs(self) -> dict[str, Any]:
        data = super().service_kwargs()
        data["passed"] = data.pop("result") == "passed"
        return data


class AdminAmendForm(HazardBoundForm):
    """管理员更正 (also of a closed hazard): only the fields changed are sent, with the reason."""

    FIELDS = ("description", "location", "category", "found_on", "current_deadline", "rectified_on", "closed_on")
    AS_ADMIN = True

    description = forms.CharField(label="隐患内容", max_length=limits.TEXT_NOTE, widget=_textarea(3))
    location = forms.CharField(label="隐患部位", max_length=200, required=False)
    category = forms.ChoiceField(label="隐患类别", choices=HazardCategory.choices)
    found_on = forms.DateField(label="发现日期", widget=DateInput())
    current_deadline = forms.DateField(label="现整改时限", required=False, widget=DateInput())
    rectified_on = forms.DateField(label="整改完成日期", required=False, widget=DateInput())
    closed_on = forms.DateField(label="销号日期", required=False, widget=DateInput())
    reason = forms.CharField(label="更正理由", max_length=limits.TEXT_COMMENT, widget=_textarea(2))
