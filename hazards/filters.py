"""HazardFilterSet: one FilterSet for the hazard list page, the API and the Excel export alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q

from hazards.choices import HazardCategory, HazardLevel, HazardSource, HazardStatus, SupervisionLevel
from hazards.models import Hazard, HazardQuerySet, local_today
from portal.choices import RegionLevel
from portal.filters import LabeledOrderingFilter, ScopedFilterSet
from portal.models import Enterprise, Region


class HazardFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label="搜索", method="search")
    level = django_filters.ChoiceFilter(label="隐患级别", choices=HazardLevel.choices)
    # distinct=False: status is a column of the hazard itself (no join to repeat rows), and a DISTINCT
    # would sort the whole result before the first page (seconds at province scale).
    status = django_filters.MultipleChoiceFilter(label="状态", choices=HazardStatus.choices, distinct=False)
    town = django_filters.ModelChoiceFilter(
        label="所在镇", queryset=Region.objects.filter(level=RegionLevel.TOWN), field_name="enterprise__town"
    )
    enterprise = django_filters.ModelChoiceFilter(label="企业", queryset=Enterprise.objects.all())
    category = django_filters.ChoiceFilter(label="隐患类别", choices=HazardCategory.choices)
    source = django_filters.ChoiceFilter(label="隐患来源", choices=HazardSource.choices)
    overdue = django_filters.BooleanFilter(label="逾期", method="filter_overdue")
    supervised = django_filters.BooleanFilter(label="挂牌督办", method="filter_supervised")
    supervision_level = django_filters.ChoiceFilter(label="督办级别", choices=SupervisionLevel.choices)
    open = django_filters.BooleanFilter(label="未销号", method="filter_open")
    found_after = django_filters.DateFilter(label="发现日期起", field_name="found_on", lookup_expr="gte")
    found_before = django_filters.DateFilter(label="发现日期止", field_name="found_on", lookup_expr="lte")
    ordering = LabeledOrderingFilter(
        label="排序",
        fields=(
            ("found_on", "found_on"),
            ("current_deadline", "deadline"),
            ("status", "status"),
            ("level", "level"),
            ("enterprise__name", "enterprise"),
            ("ledger_number", "ledger_number"),
        ),
        field_labels={
            "found_on": "发现日期",
            "deadline": "整改时限",
            "status": "状态",
            "level": "隐患级别",
            "enterprise": "企业",
            "ledger_number": "台账编号",
        },
    )

    class Meta:
        model = Hazard
        fields = ["q", "level", "status", "town", "enterprise", "category", "source", "overdue", "supervised"]

    def __init__(self, *args: Any, user: Any = None, today: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.today = today or local_today()
        # Offer only the towns and enterprises the user may see.
        self.filters["town"].queryset = Region.objects.visible_to(user).filter(level=RegionLevel.TOWN)
        self.filters["enterprise"].queryset = Enterprise.objects.visible_to(user)

    def search(self, queryset: HazardQuerySet, name: str, value: str) -> HazardQuerySet:
        value = value.strip()
        if not value:
            return queryset
        # Case-insensitive only when the words have case: UPPER() on every row's text doubled the cost of a
        # Chinese search (50,000 hazards at county scale). The enterprises are matched once, as an IN list.
        lookup = "icontains" if value.lower() != value.upper() else "contains"
        enterprises = Enterprise.objects.filter(**{f"name__{lookup}": value}).values("pk")
        return queryset.filter(
            Q(**{f"description__{lookup}": value})
            | Q(**{f"ledger_number__{lookup}": value})
            | Q(**{f"location__{lookup}": value})
            | Q(enterprise__in=enterprises)
        )

    def filter_overdue(self, queryset: HazardQuerySet, name: str, value: bool | None) -> HazardQuerySet:
        if value is None:
            return queryset
        return queryset.overdue(self.today) if value else queryset.not_overdue(self.today)

    def filter_supervised(self, queryset: HazardQuerySet, name: str, value: bool | None) -> HazardQuerySet:
        if value is None:
            return queryset
        return queryset.exclude(supervision_level="") if value else queryset.filter(supervision_level="")

    def filter_open(self, queryset: HazardQuerySet, name: str, value: bool | None) -> HazardQuerySet:
        if value is None:
            return queryset
        finished = HazardStatus.finished()
        return queryset.exclude(status__in=finished) if value else queryset.filter(status__in=finished)
