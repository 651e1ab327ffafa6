"""The campaigns' sections of the 工作台 (registered in `InspectionsConfig.ready`; see portal/worklist.py).

- deliverables (材料报送) a town or an enterprise files by upload or form: due within 14 days and not filed
  (the filer's own; for the county, the towns that have not filed); the monthly tables are the reporting
  app's sections (COVERED_ELSEWHERE);
- late (已逾期): overdue hazards and late deliverables and tables, read from the one warnings engine
  (inspections/warnings.py: its open 隐患整改逾期 and 材料、报表逾期未报送), the user's own first;
- the enterprise's own 自查自改报告 in draft: 待签字 for the principal once every item is answered,
  待完成 otherwise.

Fixed queries: the running campaigns' deliverables (shared with the reporting sections), the filings,
the towns in scope (shared), the enterprise's drafts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from hazards.worklist import deadline_sections as hazard_deadline_sections
from inspections.choices import DeliverableKind, DeliverableSubmitter, ReportStatus, WarningKind
from inspections.deliverables import Filings
from inspections.models import Campaign, Deliverable, SelfCheckReport, WarningResolution
from inspections.warnings import (
    DELIVERABLE_LOOKBACK_DAYS,
    Warning,
    late_deliverable_candidates,
    late_deliverables,
    open_overdue_condition,
    resolutions_of,
    with_resolutions,
)
from portal.choices import RegionLevel, Role
from portal.models import Region, User
from portal.scoping import path_within
from portal.worklist import DUE, DUE_DAYS, FIRST_ITEMS, LATE, OWN, WAITING, Item, Section, memo, towns_in_scope

FILED_BY_HAND = (DeliverableKind.UPLOAD, DeliverableKind.FORM)
# Deliverables another app's sections own (the monthly tables: reporting registers its rule in its ready()).
COVERED_ELSEWHERE: list[Callable[[Deliverable], bool]] = []
LATE_WINDOW_DAYS = 92  # late filings older than this are history (the 材料报送情况 grid keeps them)


def running_deliverables(user: User, today: dt.date) -> list[Deliverable]:
    """The deliverables of the campaigns the user sees that run around today (read once per assembly): from
    those that ended within the warnings engine's lookback (its late filings) to those starting in 14 days."""

    def compute() -> list[Deliverable]:
        return list(
            Deliverable.objects.visible_to(user)
            .filter(
                campaign__start_date__lte=today + dt.timedelta(days=DUE_DAYS),
                campaign__end_date__gte=today - dt.timedelta(days=DELIVERABLE_LOOKBACK_DAYS),
            )
            .select_related("campaign__issuing_region")
            .order_by("campaign__start_date", "order", "id")
        )

    result: list[Deliverable] = memo(user, f"deliverables:{today}", compute)
    return result


def occurrences(deliverable: Deliverable, today: dt.date) -> list[dt.date]:
    """The due dates of a deliverable from the late window up to 14 days ahead."""
    first, last = today - dt.timedelta(days=LATE_WINDOW_DAYS), today + dt.timedelta(days=DUE_DAYS)
    return [due for due in deliverable.due_dates() if first <= due <= last]


def filings_of(user: User, campaign: Campaign, towns: list[Region]) -> Filings:
    """A campaign's filings (`inspections.deliverables.Filings`), read once per assembly: the due and the late
    filings (the warnings engine's rule, `late_sections`) share them."""
    key = f"filings:{campaign.pk}:{','.join(str(t.pk) for t in towns)}"  # the towns decide its enterprises
    result: Filings = memo(user, key, lambda: Filings(campaign, towns))
    return result


def _matrix_url(deliverable: Deliverable) -> str:
    return reverse("inspections:deliverable-matrix", args=[deliverable.campaign_id])


def _split(missing: list[tuple[Deliverable, dt.date, list[str]]], today: dt.date, *, mine: bool) -> list[Section]:
    """The filings due within 14 days (the late ones are the warnings engine's: `late_sections`)."""
    due = [m for m in missing if m[1] >= today]
    sections = []
    for group, rows, kind, label, severity in (
        (DUE, sorted(due, key=lambda m: m[1]), "deliverable_due", "材料报送将截止", "warning"),
    ):
        if not rows:
            continue
        items = [
            Item(
                label=f"{d.campaign.name}：{d.name}",
                url=_matrix_url(d),
                detail=f"{due_on:%Y-%m-%d} 截止" + (f"，未报送：{'、'.join(who[:6])}" if who else ""),
                mine=mine,
            )
            for d, due_on, who in rows[:FIRST_ITEMS]
        ]
        count = sum(max(len(who), 1) for _, _, who in rows)
        sections.append(
            Section(
                kind=kind,
                group=group,
                label=label,
                count=count,
                items=items,
                url=items[0].url,
                severity=severity,
                nav="",
            )
        )
    return sections


def deliverable_sections(user: User, today: dt.date) -> Iterable[Section]:
    if user.enterprise_id is not None:
        submitter = DeliverableSubmitter.ENTERPRISE
    elif user.region_id is not None or user.is_superuser:
        submitter = DeliverableSubmitter.TOWN
    else:
        return []
    wanted = [
        (d, due)
        for d in running_deliverables(user, today)
        if d.submitter == submitter and d.kind in FILED_BY_HAND and not any(rule(d) for rule in COVERED_ELSEWHERE)
        for due in occurrences(d, today)
        if due >= today  # the late ones are `late_sections`' (the warnings engine)
    ]
    if not wanted:
        return []
    if submitter == DeliverableSubmitter.ENTERPRISE:
        enterprise = user.enterprise_id or 0
        missing: list[tuple[Deliverable, dt.date, list[str]]] = [
            (d, due, [])
            for d, due in wanted
            if not filings_of(user, d.campaign, []).by_enterprise.get((d.pk, enterprise, due))
        ]
        return _split(missing, today, mine=True)
    towns = towns_in_scope(user)
    if not towns:
        return []
    counted: dict[tuple[int, dt.date, int], int] = {}
    for d, due in wanted:
        # the same towns as the warnings engine's rule (those under the campaign's issuer): one shared read
        issued = [t for t in towns if path_within(t.path, d.campaign.issuing_region.path)]
        filings = filings_of(user, d.campaign, issued)
        for town in issued:
            counted[(d.pk, due, town.pk)] = len(filings.by_town.get((d.pk, town.pk, due), []))
    own_town = user.role == Role.TOWN_STAFF and user.region is not None and user.region.level == RegionLevel.TOWN
    rows: list[tuple[Deliverable, dt.date, list[str]]] = []
    for d, due in wanted:
        late_towns = [
            t.name
            for t in towns
            if path_within(t.path, d.campaign.issuing_region.path) and counted.get((d.pk, due, t.pk), 0) < d.min_count
        ]
        if late_towns:
            rows.append((d, due, [] if own_town else late_towns))
    return _split(rows, today, mine=own_town)


def self_check_sections(user: User, today: dt.date) -> Iterable[Section]:
    if user.enterprise_id is None:
        return []
    drafts: list[Any] = list(
        SelfCheckReport.objects.visible_to(user)
        .filter(status=ReportStatus.DRAFT)
        .select_related("campaign")
        .annotate(unanswered=Count("answers", filter=Q(answers__answer="")))
        .order_by("campaign__end_date", "id")
    )
    if not drafts:
        return []
    ready = [r for r in drafts if r.unanswered == 0]
    open_ = [r for r in drafts if r.unanswered > 0]
    sections = []

    def item(report: Any) -> Item:
        detail = "各项已填写，待主要负责人签字报送" if report.unanswered == 0 else f"还有 {report.unanswered} 项未回答"
        return Item(
            label=f"{report.campaign.name} 自查自改报告",
            url=reverse("inspections:self-check-detail", args=[report.pk]),
            detail=detail,
            mine=True,
        )

    if ready:
        principal = user.role == Role.ENTERPRISE_PRINCIPAL
        sections.append(
            Section(
                kind="self_check_sign",
                group=WAITING if principal else OWN,
                label="自查自改报告待签字" if principal else "自查自改报告待主要负责人签字",
                count=len(ready),
                items=[item(r) for r in ready[:FIRST_ITEMS]],
                url=item(ready[0]).url,
                severity="warning",
                nav="inspections:campaign-list",
            )
        )
    if open_:
        sections.append(
            Section(
                kind="self_check_open",
                group=OWN,
                label="自查自改报告待填写",
                count=len(open_),
                items=[item(r) for r in open_[:FIRST_ITEMS]],
                url=item(open_[0]).url,
                severity="info",
                nav="inspections:campaign-list",
            )
        )
    return sections


# --- Late: read from the one warnings engine ----------------------------------------------------------

# The warnings that are the 工作台's "late" group: what the 预警 page, its API and the dashboard's 预警 box
# count as open (not yet 已处理) for the same user, so the four never disagree.
LATE_KINDS = (WarningKind.OVERDUE_HAZARD, WarningKind.LATE_DELIVERABLE)


def _warning_page(kind: str) -> str:
    return f"{reverse('inspections:warning-list')}?{urlencode({'kind': kind, 'open': 1})}"


def _own_warning(user: User, warning: Warning) -> bool:
    """A late filing is the user's own when it is their enterprise's, or their own town's."""
    if user.enterprise_id is not None:
        return True
    return warning.region is not None and warning.region.pk == user.region_id


def _late_resolutions(user: User) -> list[WarningResolution]:
    """What was done about the late warnings (both kinds), read once per assembly."""
    result: list[WarningResolution] = memo(user, "late-resolutions", lambda: resolutions_of(user, LATE_KINDS))
    return result


def deadline_sections(user: User, today: dt.date) -> Iterable[Section]:
    """The hazards due within 14 days and 逾期未整改的隐患: the hazards' own selector (registered under its name,
    "hazards.deadlines", replacing the due-only one) given the warnings engine's open 隐患整改逾期 rows, counted
    and listed in SQL (possibly thousands of rows)."""
    late = open_overdue_condition(user, today, _late_resolutions(user))
    url = _warning_page(WarningKind.OVERDUE_HAZARD) if user.enterprise_id is None else ""
    return hazard_deadline_sections(user, today, late=late, late_url=url)


def late_sections(user: User, today: dt.date) -> Iterable[Section]:
    """已逾期 filings: late deliverables and tables as the warnings engine finds them (its open 材料、报表逾期未报送
    warnings, a few per town and deliverable), the user's own first (the overdue hazards: `deadline_sections`)."""
    regional = user.enterprise_id is None
    sections: list[Section] = []
    # The engine's rule on the deliverables and towns this assembly has read already (no second read).
    candidates = late_deliverable_candidates(running_deliverables(user, today), today)
    towns = towns_in_scope(user) if regional else None
    found = late_deliverables(
        user=user, today=today, deliverables=candidates, towns=towns, filings_for=lambda c, ts: filings_of(user, c, ts)
    )
    late = [w for w in with_resolutions(user, found, _late_resolutions(user)) if w.is_open]
    if late:
        ranked = sorted(late, key=lambda w: (not _own_warning(user, w), -w.on.toordinal(), w.title))
        items = [
            Item(
                label=w.title,
                url=w.url,
                detail=f"{w.on - dt.timedelta(days=1):%Y-%m-%d} 截止",
                mine=_own_warning(user, w),
            )
            for w in ranked[:FIRST_ITEMS]
        ]
        sections.append(
            Section(
                kind="deliverable_late",
                group=LATE,
                label="逾期未报送的材料、报表",
                count=len(late),
                items=items,
                url=_warning_page(WarningKind.LATE_DELIVERABLE) if regional else items[0].url,
                severity="danger",
                nav="inspections:warning-list" if regional else "inspections:campaign-list",
            )
        )
    return sections
