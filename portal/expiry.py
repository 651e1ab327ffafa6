"""The one expiry rule for a mine's 安全生产许可证 and its people's certificates (issue 13 §3).

For a mine 正常生产 or 正常建设 (`ProductionStatus.active()`), a licence or a certificate is flagged when it
has expired or expires within 90 days, in three bands: expired (严重), within 30 days (较重), within 60 or
90 days (一般). Declared here, next to Enterprise and Person, and read by the warnings engine
(inspections/warnings.py: 安全生产许可证到期, 人员证书到期) and by the enterprise's own 工作台 section
(portal/worklist.py), so the two never flag different papers.
"""

from __future__ import annotations

import datetime as dt
import enum

from django.db.models import QuerySet

from portal.choices import ProductionStatus
from portal.models import Enterprise, Person

WINDOWS = (30, 60, 90)  # days ahead: the first is "soon", the last is how far ahead anything is flagged


class Band(enum.IntEnum):
    """How urgent an expiry is, most urgent first."""

    EXPIRED = 0
    SOON = 1  # within the first window (30 days)
    LATER = 2  # within the last window (90 days)


def horizon(today: dt.date) -> dt.date:
    """The last expiry date flagged today."""
    return today + dt.timedelta(days=WINDOWS[-1])


def band(expiry: dt.date, today: dt.date) -> Band:
    if expiry < today:
        return Band.EXPIRED
    return Band.SOON if expiry <= today + dt.timedelta(days=WINDOWS[0]) else Band.LATER


def describe(expiry: dt.date, today: dt.date) -> str:
    """The Chinese wording: 已于 … 过期（N 天） / 将于 … 到期（还有 N 天）."""
    if expiry < today:
        return f"已于 {expiry:%Y-%m-%d} 过期（{(today - expiry).days} 天）"
    return f"将于 {expiry:%Y-%m-%d} 到期（还有 {(expiry - today).days} 天）"


def flagged_since(expiry: dt.date, today: dt.date) -> dt.date:
    """Since when the paper has been flagged: its expiry once expired, else the day it entered the last window."""
    return expiry if expiry < today else expiry - dt.timedelta(days=WINDOWS[-1])


def expiring_licences(enterprises: QuerySet[Enterprise], today: dt.date) -> QuerySet[Enterprise]:
    """The enterprises among `enterprises` whose 安全生产许可证 the rule flags today."""
    return enterprises.filter(
        production_status__in=ProductionStatus.active(),
        license_expiry__isnull=False,
        license_expiry__lte=horizon(today),
    )


def expiring_certificates(people: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
    """The people among `people` (of an enterprise) whose certificate the rule flags today."""
    return people.filter(
        enterprise__isnull=False,
        enterprise__production_status__in=ProductionStatus.active(),
        certificate_expiry__isnull=False,
        certificate_expiry__lte=horizon(today),
    )
