"""Forms of the field-work pages. They validate input and offer only in-scope choices; the services save."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from inspections import permissions
from inspections.choices import Answer, InspectionMethod
from inspections.files import DOCUMENT_EXTENSIONS, IMAGE_EXTENSIONS
from inspections.models import (
    Campaign,
    CampaignPhase,
    EnforcementRecord,
    Exam,
    Inspection,
    InspectionTeam,
    PrincipalDutyLog,
    TownProgressReport,
)
from portal import limits, rules
from portal.choices import PersonRole
from portal.models import Enterprise, ParentCompany, Person, Region, User
from portal.scoping import in_subtree


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each one is checked by the service (type by content, size)."""

    def __init__(self, *args: Any, accept: str = "", capture: str = "", **kwargs: Any) -> None:
        attrs = {"class": "form-control"}
        if accept:
            attrs["accept"] = accept
        if capture:
            attrs["capture"] = capture
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


DOCUMENT_ACCEPT = ",".join(DOCUMENT_EXTENSIONS)
IMAGE_ACCEPT = "image/*"


def unit_enterprises(user: User) -> QuerySet[Enterprise]:
    """The enterprises a user records field work for: their town's, or their county's."""
    queryset = Enterprise.objects.select_related("town")
    return rules.restrict(queryset, user, "inspections.record_for_enterprise").order_by("town__code", "name")


class _Styled:
    """Bootstrap classes on every widget (no inline style: the CSP forbids it)."""

    def _f(self, name: str) -> Any:
        """A field, typed loosely (ModelChoiceField.queryset is set per request)."""
        return self.fields[name]  # type: ignore[attr-defined]

    def _style(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            if isinstance(widget, forms.Textarea) and str(widget.attrs.get("rows", "10")) == "10":
                widget.attrs["rows"] = 3  # Django's default of 10 rows is a whole phone screen


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class EnforcementRecordForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    attachments = MultipleFileField(label="执法文书等附件", accept=DOCUMENT_ACCEPT)

    class Meta:
        model = EnforcementRecord
        fields = [
            "kind", "date", "enterprise", "parent_company", "person_name", "person_title", "amount",
            "document_number", "campaign", "inspection", "hazards", "description",
        ]  # fmt: skip
        widgets = {"date": DateInput(), "description": forms.Textarea()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = permissions.acting_unit(user)
        enterprises = unit_enterprises(user)
        self._f("enterprise").queryset = enterprises
        parents = ParentCompany.objects.none()
        if unit is not None:
            parents = (
                ParentCompany.objects.filter(in_subtree(unit.path, "enterprises__town__path"))
                | ParentCompany.objects.filter(in_subtree(unit.path, "region__path"))
            ).distinct()
        self._f("parent_company").queryset = parents
        self._f("campaign").queryset = Campaign.objects.visible_to(user)
        self._f("inspection").queryset = (
            Inspection.objects.visible_to(user).filter(enterprise__in=enterprises).select_related("enterprise")
        )
        self._f("hazards").queryset = self._hazard_choices(user, enterprises)
        self._f("hazards").help_text = "可选：本企业的隐患（未选企业时只列出未销号的重大事故隐患）。"
        self.fields["date"].initial = timezone.localdate()
        self.fields[
            "person_name"
        ].help_text = "约谈、处罚主要负责人、责任追究等必填；主要负责人可留空，自动取企业登记的主要负责人。"
        self._style()
        if self.instance.pk:
            del self.fields["attachments"]

    def _hazard_choices(self, user: User, enterprises: QuerySet[Enterprise]) -> Any:
        """The hazards of the chosen enterprise; without one, the open major hazards of the unit's enterprises
        (a county holds tens of thousands of hazards: they are not all offered)."""
        from hazards.choices import HazardLevel, HazardStatus
        from hazards.models import Hazard

        hazards = Hazard.objects.visible_to(user).filter(enterprise__in=enterprises).order_by("-found_on", "-id")
        chosen = self.data.get("enterprise") or self.initial.get("enterprise") or self.instance.enterprise_id
        if chosen and str(chosen).isdigit():
            return hazards.filter(enterprise_id=int(chosen))
        return hazards.filter(level=HazardLevel.MAJOR, status__in=sorted(HazardStatus.open()))

    def _post_clean(self) -> None:
        # The service fills what follows from the target (the principal's name, the parent company)
        # before it validates the whole record; validating the bare instance here would refuse it.
        pass


class InspectionForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    photos = MultipleFileField(label="现场照片", accept=IMAGE_ACCEPT)

    class Meta:
        model = Inspection
        fields = [
            "enterprise", "date", "method", "campaign", "team", "leader", "members", "findings", "talk_held",
            "exam_held",
        ]  # fmt: skip
        widgets = {"date": DateInput(), "members": forms.Textarea(), "findings": forms.Textarea()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = permissions.acting_unit(user)
        self._f("enterprise").queryset = unit_enterprises(user)
        self._f("campaign").queryset = Campaign.objects.visible_to(user)
        teams = InspectionTeam.objects.none() if unit is None else InspectionTeam.objects.filter(unit=unit)
        self._f("team").queryset = teams
        self._f("method").choices = InspectionMethod.choices
        self.fields["date"].initial = timezone.localdate()
        if not self.instance.pk:
            self.fields["leader"].initial = user.full_name or user.username
            today = timezone.localdate()
            running = Campaign.objects.visible_to(user).filter(start_date__lte=today, end_date__gte=today).first()
            if running is not None:
                self.fields["campaign"].initial = running.pk
        self._style()
        if self.instance.pk:
            del self.fields["photos"]


class InspectionTeamForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = InspectionTeam
        fields = ["campaign", "name", "leader", "members", "formed_on", "note"]
        widgets = {"formed_on": DateInput(), "members": forms.Textarea(), "note": forms.Textarea()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._f("campaign").queryset = Campaign.objects.visible_to(user)
        self.fields["formed_on"].initial = timezone.localdate()
        self._style()


class ExamForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Exam
        fields = ["enterprise", "person", "date", "score", "pass_mark", "retake_of", "campaign", "inspection", "note"]
        widgets = {"date": DateInput(), "note": forms.Textarea()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        enterprises = unit_enterprises(user)
        self._f("enterprise").queryset = enterprises
        self._f("person").queryset = Person.objects.visible_to(user).filter(
            enterprise__in=enterprises, role=PersonRole.PRINCIPAL
        )
        self._f("person").label_from_instance = lambda p: f"{p.name}（{p.enterprise}）"
        failed = [e.pk for e in Exam.objects.visible_to(user).filter(enterprise__in=enterprises) if not e.passed]
        self._f("retake_of").queryset = (
            Exam.objects.visible_to(user)
            .filter(pk__in=failed, retake_of__isnull=True, retake__isnull=True)
            .select_related("person")
        )
        self.fields["retake_of"].help_text = "补考时选择不合格的那次考试。"
        self._f("campaign").queryset = Campaign.objects.visible_to(user)
        self._f("inspection").queryset = Inspection.objects.visible_to(user).filter(enterprise__in=enterprises)
        self.fields["date"].initial = timezone.localdate()
        if not self.is_bound and not self.initial.get("person"):
            principal = _default_principal(self._f("person").queryset, self.initial.get("enterprise"))
            if principal is not None:
                self.initial["person"] = principal.pk
                self.initial.setdefault("enterprise", principal.enterprise_id)
        self._style()


def _default_principal(principals: QuerySet[Person], enterprise: Any) -> Person | None:
    """The principal an exam is about when it is known: the chosen enterprise's, or the only one offered."""
    if enterprise:
        return principals.filter(enterprise=enterprise).order_by("id").first()
    first_two = list(principals.order_by("id")[:2])
    return first_two[0] if len(first_two) == 1 else None


class DateListWidget(forms.Textarea):
    """Several dates: a date picker that adds each to a list (static/portal/date_list.js, no inline script).

    The value stays a textarea of ISO dates, one a line, so the form parses the same with or without
    JavaScript."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"rows": 3, "data-date-list": "", **(attrs or {})})

    class Media:
        js = ("portal/date_list.js",)


class DutyLogForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    month_text = forms.CharField(
        label="月份", help_text="如 2024-05", widget=forms.TextInput(attrs={"type": "month"}), max_length=7
    )
    on_site_text = forms.CharField(
        max_length=limits.TEXT_LIST,
        label="在生产现场履职日期",
        required=False,
        widget=DateListWidget(),
        help_text="用日期选择器逐日添加（也可每行或用逗号分隔填写，如 2024-05-06）；只计算工作日（含调休上班日）。",
    )

    class Meta:
        model = PrincipalDutyLog
        fields = [
            "enterprise", "person", "inspections_led", "safety_meetings", "major_hazard_investigation_on",
            "parent_leader_visits", "note",
        ]  # fmt: skip
        widgets = {"major_hazard_investigation_on": DateInput(), "note": forms.Textarea()}

    def __init__(self, *args: Any, user: User, enterprises: QuerySet[Enterprise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._f("enterprise").queryset = enterprises
        self._f("person").queryset = Person.objects.visible_to(user).filter(
            enterprise__in=enterprises, role=PersonRole.PRINCIPAL
        )
        if self.instance.pk:
            self.fields["month_text"].initial = f"{self.instance.month:%Y-%m}"
            self.fields["on_site_text"].initial = "\n".join(d.isoformat() for d in self.instance.on_site_days())
        self._style()

    def clean_month_text(self) -> dt.date:
        text = self.cleaned_data["month_text"].strip()
        try:
            return dt.date.fromisoformat(f"{text}-01")
        except ValueError:
            raise forms.ValidationError("月份格式应为 2024-05。") from None

    def clean_on_site_text(self) -> list[dt.date]:
        text = self.cleaned_data.get("on_site_text") or ""
        values = [part.strip() for part in text.replace("，", ",").replace("\n", ",").split(",") if part.strip()]
        dates = []
        for value in values:
            try:
                dates.append(dt.date.fromisoformat(value))
            except ValueError:
                raise forms.ValidationError(f"“{value}”不是有效日期，请写作 2024-05-06。") from None
        return dates


class ProgressReportForm(_Styled, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = TownProgressReport
        fields = ["progress", "problems", "measures"]
        widgets = {"progress": forms.Textarea(), "problems": forms.Textarea(), "measures": forms.Textarea()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class PhaseChoiceForm(_Styled, forms.Form):
    phase = forms.ModelChoiceField(label="阶段", queryset=CampaignPhase.objects.none())


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label="回答", choices=[("", "未答"), *Answer.choices], required=False)
    note = forms.CharField(
        label="说明", max_length=limits.TEXT_NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EvidenceForm(forms.Form):
    evidence = MultipleFileField(label="佐证材料", accept=DOCUMENT_ACCEPT)


class SignForm(forms.Form):
    """The principal signs: from their own account (password again), or in person on a town's device."""

    username = forms.CharField(label="主要负责人账号", required=False, max_length=150)
    password = forms.CharField(label="密码", max_length=128, strip=False, widget=forms.PasswordInput)
    otp_code = forms.CharField(
        label="动态口令或备用码",
        required=False,
        max_length=16,
        help_text="已启用两步验证的主要负责人必填：验证器当前显示的 6 位数字，或一个未用过的备用码。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    confirm = forms.BooleanField(label="本人已审阅自查自改报告，确认内容真实，签字报送镇应急管理中心和县局。")
    # what the page showed (inspections.answered.self_check_fingerprint); the service refuses if it changed
    fingerprint = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # asked only when 不符合 answers have neither a 说明 nor a hazard (services.self_check_unexplained)
    unexplained_confirmed = forms.BooleanField(
        label="我已看到上列“不符合”项没有说明、也没有附隐患，仍确认签字。",
        error_messages={"required": "有回答为“不符合”的项既没有说明也没有附隐患：请补充，或勾选确认后再签字。"},
    )

    def __init__(self, *args: Any, own_account: bool, unexplained: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if own_account:
            del self.fields["username"]
        if not unexplained:
            del self.fields["unexplained_confirmed"]
        for name, field in self.fields.items():
            checkbox = name in ("confirm", "unexplained_confirmed")
            field.widget.attrs.setdefault("class", "form-check-input" if checkbox else "form-control")


class SubmissionForm(_Styled, forms.Form):
    due_date = forms.TypedChoiceField(label="对应截止日期", coerce=dt.date.fromisoformat)
    title = forms.CharField(label="标题", max_length=200, required=False)
    content = forms.CharField(
        label="内容", max_length=limits.TEXT_LONG, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    file = forms.FileField(label="附件", required=False)

    def __init__(self, *args: Any, due_dates: list[dt.date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._f("due_date").choices = [(d.isoformat(), f"{d:%Y-%m-%d}") for d in due_dates]
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("file") and not (data.get("content") or "").strip():
            raise forms.ValidationError("请上传附件或填写内容。")
        return data


class TownChoiceForm(_Styled, forms.Form):
    town = forms.ModelChoiceField(label="镇", queryset=Region.objects.none())


__all__ = [
    "IMAGE_EXTENSIONS",
    "DutyLogForm",
    "EnforcementRecordForm",
    "ExamForm",
    "InspectionForm",
    "InspectionTeamForm",
    "ProgressReportForm",
    "SignForm",
    "SubmissionForm",
    "unit_enterprises",
]


class InspectionHazardForm(_Styled, forms.Form):
    """A hazard found during an inspection (reported through the hazards service)."""

    level = forms.ChoiceField(label="隐患级别")
    category = forms.ChoiceField(label="隐患类别")
    description = forms.CharField(
        label="隐患内容", max_length=limits.TEXT_NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )
    location = forms.CharField(label="隐患部位", required=False, max_length=200)
    criterion: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="判定依据（重大事故隐患必选）", queryset=None, required=False
    )
    deadline = forms.DateField(label="整改时限", required=False, widget=DateInput())
    measures = forms.CharField(
        label="整改措施", max_length=limits.TEXT_NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, enterprise: Enterprise, **kwargs: Any) -> None:
        from hazards.choices import INDUSTRY_MINE_TYPE, HazardCategory, HazardLevel
        from hazards.models import MajorHazardCriterion

        super().__init__(*args, **kwargs)
        self._f("level").choices = HazardLevel.choices
        self._f("category").choices = HazardCategory.choices
        criteria = MajorHazardCriterion.objects.filter(is_active=True)
        mine_type = INDUSTRY_MINE_TYPE.get(enterprise.industry)
        if mine_type is not None:
            criteria = criteria.filter(mine_type=mine_type)
        self._f("criterion").queryset = criteria
        self._f("criterion").label_from_instance = lambda c: f"{c.code} {c.text[:40]}"
        self._style()
