"""Who has filed what, by when: the status of every deliverable occurrence, for the matrix and the reminders.

A deliverable occurrence (a deliverable and one of its due dates) is, for one town or one enterprise:

- 按时 (on time): at least `min_count` filings dated on or before the due date (Asia/Shanghai);
- 逾期提交 (late): enough filings, but some only after the due date;
- 未提交 (missing): not enough filings and the due date has passed;
- 未到期 (pending): not enough filings yet, the due date is still ahead.

What counts as a filing depends on the deliverable's kind: an upload or a form (`DeliverableSubmission`),
a 自查自改报告 signed and submitted (`SelfCheckReport.submitted_at`), or a 重大事故隐患 of the town's
enterprises reported (signed, not a draft) during the campaign (`Hazard.created_at`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard
from inspections.choices import DeliverableKind, DeliverableSubmitter, DeliveryStatus
from inspections.models import Campaign, Deliverable, DeliverableSubmission, SelfCheckReport
from portal.choices import ProductionStatus
from portal.models import Enterprise, Region


def status_of(dates: list[dt.date], due: dt.date, min_count: int, today: dt.date) -> str:
    on_time = sum(1 for day in dates if day <= due)
    if on_time >= min_count:
        return DeliveryStatus.ON_TIME
    if len(dates) >= min_count:
        return DeliveryStatus.LATE
    return DeliveryStatus.MISSING if due < today else DeliveryStatus.PENDING


@dataclass
class Cell:
    status: str
    dates: list[dt.date] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # for enterprise deliverables: status → enterprises

    @property
    def label(self) -> str:
        return DeliveryStatus(self.status).label


@dataclass(frozen=True)
class Column:
    deliverable: Deliverable
    due: dt.date


@dataclass
class Row:
    town: Region
    cells: list[Cell]


@dataclass
class Matrix:
    campaign: Campaign
    columns: list[Column]
    rows: list[Row]
    today: dt.date


class Filings:
    """Every filing of a campaign, loaded once: (deliverable, town or enterprise, due) → filing dates.

    The self-check reports, the enterprises and the major hazards are read only when first asked for (a
    campaign without enterprise deliverables or 重大隐患 filings never reads them)."""

    def __init__(self, campaign: Campaign, towns: list[Region]) -> None:
        self.campaign = campaign
        self.town_ids = [town.pk for town in towns]
        self.by_town: dict[tuple[int, int, dt.date], list[dt.date]] = defaultdict(list)
        self.by_enterprise: dict[tuple[int, int, dt.date], list[dt.date]] = defaultdict(list)
        for deliverable_id, town_id, enterprise_id, due, at in DeliverableSubmission.objects.filter(
            deliverable__campaign=campaign
        ).values_list("deliverable_id", "town_id", "enterprise_id", "due_date", "submitted_at"):
            day = timezone.localdate(at)
            if town_id is not None:
                self.by_town[(deliverable_id, town_id, due)].append(day)
            else:
                self.by_enterprise[(deliverable_id, enterprise_id, due)].append(day)

    @functools.cached_property
    def reports(self) -> dict[int, dt.date]:
        return {
            enterprise_id: timezone.localdate(at)
            for enterprise_id, at in SelfCheckReport.objects.filter(
                campaign=self.campaign, submitted_at__isnull=False
            ).values_list("enterprise_id", "submitted_at")
        }

    @functools.cached_property
    def enterprises(self) -> dict[int, list[Enterprise]]:
        by_town: dict[int, list[Enterprise]] = defaultdict(list)
        for enterprise in Enterprise.objects.filter(
            town_id__in=self.town_ids, production_status__in=ProductionStatus.active()
        ).order_by("name"):
            by_town[enterprise.town_id].append(enterprise)
        return by_town

    @functools.cached_property
    def major_hazards(self) -> dict[int, list[dt.date]]:
        by_town: dict[int, list[dt.date]] = defaultdict(list)
        campaign = self.campaign
        for town_id, created in (
            Hazard.objects.filter(
                enterprise__town_id__in=self.town_ids,
                level=HazardLevel.MAJOR,
                found_on__gte=campaign.start_date,
                found_on__lte=campaign.end_date,
            )
            .exclude(status=HazardStatus.DRAFT)
            .values_list("enterprise__town_id", "created_at")
        ):
            by_town[town_id].append(timezone.localdate(created))
        return by_town

    def town_dates(self, deliverable: Deliverable, town: Region, due: dt.date) -> list[dt.date]:
        if deliverable.kind == DeliverableKind.MAJOR_HAZARD:
            return self.major_hazards.get(town.pk, [])
        return self.by_town.get((deliverable.pk, town.pk, due), [])

    def enterprise_dates(self, deliverable: Deliverable, enterprise: Enterprise, due: dt.date) -> list[dt.date]:
        if deliverable.kind == DeliverableKind.SELF_CHECK_REPORT:
            day = self.reports.get(enterprise.pk)
            return [day] if day is not None else []
        return self.by_enterprise.get((deliverable.pk, enterprise.pk, due), [])


def columns_of(campaign: Campaign) -> list[Column]:
    return [
        Column(deliverable, due)
        for deliverable in campaign.deliverables.order_by("order", "id")
        for due in deliverable.due_dates()
    ]


def cell_for(filings: Filings, column: Column, town: Region, today: dt.date) -> Cell:
    deliverable, due = column.deliverable, column.due
    if deliverable.submitter == DeliverableSubmitter.TOWN:
        dates = filings.town_dates(deliverable, town, due)
        return Cell(status_of(dates, due, deliverable.min_count, today), sorted(dates))
    counts: dict[str, int] = defaultdict(int)
    for enterprise in filings.enterprises.get(town.pk, []):
        dates = filings.enterprise_dates(deliverable, enterprise, due)
        counts[status_of(dates, due, deliverable.min_count, today)] += 1
    worst = next(
        (s for s in (DeliveryStatus.MISSING, DeliveryStatus.PENDING, DeliveryStatus.LATE) if counts.get(s)),
        DeliveryStatus.ON_TIME,
    )
    return Cell(worst, [], dict(counts))


def matrix(*, campaign: Campaign, towns: list[Region], today: dt.date | None = None) -> Matrix:
    today = today or timezone.localdate()
    filings = Filings(campaign, towns)
    columns = columns_of(campaign)
    rows = [Row(town, [cell_for(filings, column, town, today) for column in columns]) for town in towns]
    return Matrix(campaign, columns, rows, today)


def outstanding(
    *, campaign: Campaign, towns: list[Region], due: dt.date, today: dt.date
) -> list[tuple[Deliverable, Region | None, Enterprise | None]]:
    """Who has not yet filed what falls due on `due`: (deliverable, town, None) or (deliverable, None, enterprise)."""
    filings = Filings(campaign, towns)
    missing: list[tuple[Deliverable, Region | None, Enterprise | None]] = []
    for column in columns_of(campaign):
        if column.due != due:
            continue
        deliverable = column.deliverable
        for town in towns:
            if deliverable.submitter == DeliverableSubmitter.TOWN:
                dates = filings.town_dates(deliverable, town, due)
                if status_of(dates, due, deliverable.min_count, today) == DeliveryStatus.PENDING:
                    missing.append((deliverable, town, None))
                continue
            for enterprise in filings.enterprises.get(town.pk, []):
                dates = filings.enterprise_dates(deliverable, enterprise, due)
                if status_of(dates, due, deliverable.min_count, today) == DeliveryStatus.PENDING:
                    missing.append((deliverable, None, enterprise))
    return missing


__all__: list[Any] = ["Cell", "Column", "Matrix", "Row", "matrix", "outstanding", "status_of"]
