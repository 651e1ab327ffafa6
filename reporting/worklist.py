"""The monthly tables' sections of the 工作台 (registered in `ReportingConfig.ready`; see portal/worklist.py).

The tables a region owes come from the campaigns' monthly deliverables (`schedule.kind_of`), one per
filing region and month, due on the deliverable's day (the 23rd for towns, the 25th for the county):

- waiting: my own region's table to submit (town staff, county staff and admins), due within 14 days or
  already late (marked so, first); the county's submitted tables to sign (the county leader);
- due: for the county, the tables due within 14 days with the towns that have not submitted yet;
- late: the towns' tables past due are the warnings engine's (inspections/worklist.py `late_sections`).

Fixed queries: the deliverables (shared with the campaigns' sections), the towns in scope (shared), the
tables' submission state, and for the leader the versions awaiting signature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef
from django.urls import reverse

from inspections.worklist import occurrences, running_deliverables
from portal import rules
from portal.choices import RegionLevel, Role
from portal.models import Region, User
from portal.scoping import path_within
from portal.worklist import DUE, FIRST_ITEMS, WAITING, Item, Section, towns_in_scope
from reporting.choices import ReportKind, VersionStatus
from reporting.models import Report, ReportVersion
from reporting.schedule import kind_of


def _table_url(kind: str, region: Region, month: dt.date) -> str:
    return reverse("reporting:table", args=[kind, region.code, f"{month:%Y-%m}"])


def _label(kind: str, month: dt.date) -> str:
    return f"{month.year}年{month.month}月{ReportKind(kind).label}"


def table_sections(user: User, today: dt.date) -> Iterable[Section]:
    if user.enterprise_id is not None or (user.region_id is None and not user.is_superuser):
        return []
    dues = [
        (kind, due.replace(day=1), due, d.campaign)
        for d in running_deliverables(user, today)
        if (kind := kind_of(d)) is not None
        for due in occurrences(d, today)
    ]
    if not dues:
        return []
    own: Region | None = user.region
    regions = list(towns_in_scope(user))
    if own is not None and own.level == RegionLevel.COUNTY:
        regions.insert(0, own)
    submitted = ReportVersion.objects.filter(
        report=OuterRef("pk"), status__in=[VersionStatus.SUBMITTED, VersionStatus.SIGNED], submitted_at__isnull=False
    )
    done = set(
        Report.objects.visible_to(user)
        .filter(
            kind__in={k for k, *_ in dues},
            campaign__in={c.pk for *_, c in dues},
            month__in={m for _, m, _, _ in dues},
        )
        .filter(Exists(submitted))
        .values_list("kind", "campaign_id", "month", "region_id")
    )
    mine_due: list[Item] = []
    mine_late: list[Item] = []
    towns_due: list[tuple[dt.date, Item, int]] = []
    for kind, month, due, campaign in dues:
        missing = [
            r
            for r in regions
            if path_within(r.path, campaign.issuing_region.path) and (kind, campaign.pk, month, r.pk) not in done
        ]
        when = f"{due:%Y-%m-%d} 截止"
        for region in missing:
            probe = Report(kind=kind, region=region, campaign=campaign, month=month, due_on=due)
            if region.pk == (own.pk if own else None) and rules.may(user, "reporting.submit", probe):
                late = due < today
                if late and region.level == RegionLevel.TOWN:
                    continue  # a town's late table is the warnings engine's (its own, listed first there)
                item = Item(label=f"{region.name}{_label(kind, month)}", url=_table_url(kind, region, month),
                            detail=f"{when}，已逾期" if late else when, mine=True)  # fmt: skip
                (mine_late if late else mine_due).append(item)
        others = [r for r in missing if r.level == RegionLevel.TOWN and r.pk != (own.pk if own else None)]
        if others and (own is None or own.level != RegionLevel.TOWN):
            names = "、".join(r.name for r in others[:6]) + ("等" if len(others) > 6 else "")
            county = own if own is not None and own.level == RegionLevel.COUNTY else campaign.issuing_region
            item = Item(
                label=f"{campaign.name}：{_label(kind, month)}",
                url=_table_url(kind, county, month),
                detail=f"{when}，{len(others)} 个镇未报送：{names}",
            )
            if due >= today:  # the late ones are the warnings engine's (材料、报表逾期未报送)
                towns_due.append((due, item, len(others)))
    sections: list[Section] = []
    # My own tables to submit, the late ones first (a county's own table is no town's filing, so the warnings
    # engine does not list it: it stays here, waiting, marked 已逾期).
    mine = mine_late + mine_due
    if mine:
        sections.append(
            Section(kind="table_submit", group=WAITING, label="月度报表待报送", count=len(mine),
                    items=mine[:FIRST_ITEMS], url=mine[0].url, severity="danger" if mine_late else "warning",
                    nav="reporting:index")
        )  # fmt: skip
    if towns_due:
        towns_due.sort(key=lambda t: t[0])
        sections.append(
            Section(kind="table_towns_due", group=DUE, label="月度报表将截止（未报送的镇）",
                    count=sum(n for *_, n in towns_due), items=[i for _, i, _ in towns_due[:FIRST_ITEMS]],
                    url=towns_due[0][1].url, severity="warning")
        )  # fmt: skip
    return sections


def signing_sections(user: User, today: dt.date) -> Iterable[Section]:
    """The county's submitted tables that wait for the leader's 签字."""
    if not rules.has_role(user, {Role.COUNTY_LEADER}):
        return []
    versions = [
        v
        for v in ReportVersion.objects.visible_to(user)
        .filter(status=VersionStatus.SUBMITTED, report__region__level=RegionLevel.COUNTY)
        .select_related("report__region")
        .order_by("report__due_on", "id")
        if rules.may(user, "reporting.sign", v.report)
    ]
    if not versions:
        return []
    items = [
        Item(
            label=f"{v.report.region.name}{_label(v.report.kind, v.report.month)}",
            url=_table_url(v.report.kind, v.report.region, v.report.month),
            detail=f"第{v.number}版，已报送待签字",
            mine=True,
        )
        for v in versions[:FIRST_ITEMS]
    ]
    return [
        Section(kind="table_sign", group=WAITING, label="月度报表待签字", count=len(versions), items=items,
                url=items[0].url, severity="warning", nav="reporting:index")
    ]  # fmt: skip
