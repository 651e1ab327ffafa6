"""Who is told when a monthly table arrives (issue 13 §2): a town's submitted table → the county's staff;
the county's submitted table → its 分管负责人, who signs it. In-app always, e-mail when a server is
configured (hazards.services.notify). Called by `reporting.services.report_submit`, inside its transaction."""

from __future__ import annotations

from django.db.models import QuerySet

from hazards.choices import NotificationKind
from hazards.services import notify
from portal.choices import RegionLevel, Role
from portal.models import Region, User
from reporting.models import ReportVersion

SUBJECT = "非煤矿山安全监管门户：月度报表待办"


def _county_of(region: Region) -> Region | None:
    codes = [code for code in region.path.split("/") if code]
    return Region.objects.filter(level=RegionLevel.COUNTY, code__in=codes).first()


def _users(region: Region, role: str) -> QuerySet[User]:
    return User.objects.filter(is_active=True, role=role, region=region)


def table_submitted(*, version: ReportVersion, actor: User) -> int:
    report = version.report
    region = report.region
    month = f"{report.month.year}年{report.month.month}月"
    what = f"{region.name}{month}“{report.get_kind_display()}”（{report.campaign.name}，第{version.number}版）"
    if region.level == RegionLevel.TOWN:
        county = _county_of(region)
        if county is None:
            return 0
        recipients: QuerySet[User] = _users(county, Role.COUNTY_STAFF)
        message = f"{what}已报送，请县局汇总。"
    elif region.level == RegionLevel.COUNTY:
        recipients = _users(region, Role.COUNTY_LEADER)
        message = f"{what}已报送，待分管负责人签字。"
    else:
        return 0
    rows = notify(
        recipients=recipients, hazard=None, message=message, kind=NotificationKind.ACTION, exclude=actor,
        subject=SUBJECT,
    )  # fmt: skip
    return len(rows)
