"""One FilterSet per list, feeding the page, the API and the export alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from inspections.choices import EnforcementKind, InspectionMethod
from inspections.models import Campaign, EnforcementRecord, Exam, Inspection, PrincipalDutyLog
from portal.choices import RegionLevel
from portal.filters import LabeledOrderingFilter, ScopedFilterSet
from portal.models import Enterprise, Region


class _ScopedChoices(ScopedFilterSet):
    """Offers only the towns, enterprises and campaigns the user may see."""

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if "town" in self.filters:
            self.filters["town"].queryset = Region.objects.visible_to(user).filter(level=RegionLevel.TOWN)
        if "enterprise" in self.filters:
            self.filters["enterprise"].queryset = Enterprise.objects.visible_to(user).only("id", "name")
        if "campaign" in self.filters:
            self.filters["campaign"].queryset = Campaign.objects.visible_to(user)
        self._cap_enterprise_options(user)
        # Bootstrap classes on the widgets (the CSP forbids inline styles).
        for field in self.form.fields.values():
            widget = field.widget
            if isinstance(widget, forms.SelectMultiple | forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            if isinstance(field, forms.DateField):
                widget.input_type = "date"

    def _cap_enterprise_options(self, user: Any) -> None:
        """Beyond the hazard list's ENTERPRISE_OPTIONS_LIMIT (a province holds ~6,000 mines) the enterprise
        filter offers the chosen town's enterprises, else asks for a town first; any enterprise in scope is
        still accepted (the field keeps the whole queryset, only the options shown are fewer)."""
        from hazards.views import ENTERPRISE_OPTIONS_LIMIT

        if "enterprise" not in self.filters or "enterprise" not in self.form.fields:
            return
        field = self.form.fields["enterprise"]
        enterprises = Enterprise.objects.visible_to(user).order_by("name", "id")
        rows = list(enterprises.values_list("pk", "name")[: ENTERPRISE_OPTIONS_LIMIT + 1])
        if len(rows) <= ENTERPRISE_OPTIONS_LIMIT:  # all of them, from this query (not a second one)
            field.widget.choices = [("", field.empty_label or ""), *rows]
            return
        data = self.data or {}
        town, selected = str(data.get("town") or ""), str(data.get("enterprise") or "")
        town, selected = (v if v.isdigit() and int(v) < 2**63 else "" for v in (town, selected))
        if "town" in self.form.fields and town:
            rows = list(enterprises.filter(town_id=int(town)).values_list("pk", "name")[:ENTERPRISE_OPTIONS_LIMIT])
            first = "全部"
        else:
            rows = list(enterprises.filter(pk=int(selected)).values_list("pk", "name")) if selected else []
            first = "全部（企业较多，请先选择镇）" if "town" in self.form.fields else "全部（企业较多）"
        field.widget.choices = [("", first), *rows]


class EnforcementRecordFilterSet(_ScopedChoices):
    q = django_filters.CharFilter(label="搜索", method="search")
    kind = django_filters.MultipleChoiceFilter(label="类型", choices=EnforcementKind.choices)
    date_from = django_filters.DateFilter(label="日期从", field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(label="日期至", field_name="date", lookup_expr="lte")
    town = django_filters.ModelChoiceFilter(
        label="所在镇", queryset=Region.objects.none(), field_name="enterprise__town"
    )
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.none())
    campaign = django_filters.ModelChoiceFilter(label="专项行动", queryset=Campaign.objects.none())
    issuing_level = django_filters.ChoiceFilter(
        label="实施单位层级",
        choices=[(RegionLevel.TOWN, "镇应急管理中心"), (RegionLevel.COUNTY, "县局")],
        field_name="issuing_unit__level",
    )
    ordering = LabeledOrderingFilter(
        label="排序",
        fields=(("date", "date"), ("kind", "kind"), ("amount", "amount"), ("enterprise__name", "enterprise")),
        field_labels={"date": "日期", "kind": "类型", "amount": "金额", "enterprise": "企业"},
    )

    class Meta:
        model = EnforcementRecord
        fields = ["q", "kind", "date_from", "date_to", "town", "enterprise", "campaign", "issuing_level"]

    def search(self, queryset: QuerySet[EnforcementRecord], name: str, value: str) -> QuerySet[EnforcementRecord]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(enterprise__name__icontains=value)
            | Q(parent_company__name__icontains=value)
            | Q(person_name__icontains=value)
            | Q(document_number__icontains=value)
        )


class InspectionFilterSet(_ScopedChoices):
    method = django_filters.ChoiceFilter(label="检查方式", choices=InspectionMethod.choices)
    date_from = django_filters.DateFilter(label="日期从", field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(label="日期至", field_name="date", lookup_expr="lte")
    town = django_filters.ModelChoiceFilter(
        label="所在镇", queryset=Region.objects.none(), field_name="enterprise__town"
    )
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.none())
    campaign = django_filters.ModelChoiceFilter(label="专项行动", queryset=Campaign.objects.none())

    class Meta:
        model = Inspection
        fields = ["method", "date_from", "date_to", "town", "enterprise", "campaign"]


class ExamFilterSet(_ScopedChoices):
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.none())
    campaign = django_filters.ModelChoiceFilter(label="专项行动", queryset=Campaign.objects.none())

    class Meta:
        model = Exam
        fields = ["enterprise", "campaign"]


class DutyLogFilterSet(_ScopedChoices):
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.none())
    month = django_filters.DateFilter(label="月份", field_name="month")

    class Meta:
        model = PrincipalDutyLog
        fields = ["enterprise", "month"]
