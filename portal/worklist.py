"""工作台: what waits for a user, what is due, what is late — assembled from the apps' own sections.

Dependencies point one way (reporting -> inspections -> hazards -> portal), so portal cannot import the
apps that know the work. Each app registers its selectors here from `AppConfig.ready()`; the home page,
`GET /api/v1/me/tasks/` and the menu badges iterate the registry. A selector is
`(user, today) -> Iterable[Section]`: it reads only rows the user may see (through `visible_to`), returns
no section for a role it does not concern, and costs a fixed number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest

    from portal.models import User

# The groups of the home page, in the order they are shown.
WAITING = "waiting"
DUE = "due"
LATE = "late"
OWN = "own"
NOTICES = "notices"
GROUPS: dict[str, str] = {
    WAITING: "待我处理",
    DUE: "14天内到期",
    LATE: "已逾期",
    OWN: "本企业",
    NOTICES: "最新通知",
}
DUE_DAYS = 14
FIRST_ITEMS = 5


@dataclass(frozen=True)
class Item:
    label: str
    url: str
    detail: str = ""
    mine: bool = False


@dataclass(frozen=True)
class Section:
    """One box of the home page: a kind of work, how many, the first few with their links."""

    kind: str
    group: str
    label: str
    count: int
    items: list[Item] = field(default_factory=list)
    url: str = ""  # the full list
    severity: str = "info"  # info / warning / danger
    nav: str = ""  # the menu entry (url name) whose badge counts this section

    @property
    def group_label(self) -> str:
        return GROUPS[self.group]


Selector = Callable[["User", dt.date], Iterable[Section]]


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int
    selector: Selector


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, *, order: int = 100) -> Callable[[Selector], Selector]:
    """Declares a selector of sections (called from an app's `ready()`; registering a name again replaces it)."""

    def decorator(selector: Selector) -> Selector:
        _REGISTRY[name] = _Entry(name, order, selector)
        return selector

    return decorator


def registered() -> list[str]:
    return [entry.name for entry in sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))]


def sections_for(user: User, today: dt.date | None = None) -> list[Section]:
    """Every non-empty section for `user`, grouped in the home page's order (a stable order within a group)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    today = today or timezone.localdate()
    user.__dict__.pop(_MEMO, None)  # `memo` is per assembly: nothing read for an earlier one is reused
    found: list[Section] = []
    for entry in sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name)):
        found.extend(section for section in entry.selector(user, today) if section.count > 0)
    groups = list(GROUPS)
    return sorted(found, key=lambda s: groups.index(s.group))


def grouped(sections: Iterable[Section]) -> list[tuple[str, str, list[Section]]]:
    """(group, its label, its sections) for every group that has a section."""
    by_group: dict[str, list[Section]] = {}
    for section in sections:
        by_group.setdefault(section.group, []).append(section)
    return [(group, GROUPS[group], by_group[group]) for group in GROUPS if group in by_group]


def badge_counts(sections: Iterable[Section]) -> dict[str, int]:
    """Menu entry (url name) -> the number of things waiting or late behind it (notices are not counted)."""
    counts: dict[str, int] = {}
    for section in sections:
        if section.nav and section.group in (WAITING, LATE, OWN):
            counts[section.nav] = counts.get(section.nav, 0) + section.count
    return counts


_REQUEST_ATTR = "_worklist_sections"


def request_sections(request: HttpRequest) -> list[Section]:
    """The sections of the signed-in user, computed at most once per request (home page and badges share them)."""
    cached: list[Section] | None = getattr(request, _REQUEST_ATTR, None)
    if cached is None:
        cached = sections_for(request.user)  # type: ignore[arg-type]
        setattr(request, _REQUEST_ATTR, cached)
    return cached


def request_has_sections(request: Any) -> bool:
    return getattr(request, _REQUEST_ATTR, None) is not None


def as_json(sections: Iterable[Section]) -> list[dict[str, Any]]:
    return [
        {
            "kind": s.kind,
            "group": s.group,
            "group_label": s.group_label,
            "label": s.label,
            "count": s.count,
            "severity": s.severity,
            "url": s.url,
            "items": [{"label": i.label, "url": i.url, "detail": i.detail, "mine": i.mine} for i in s.items],
        }
        for s in sections
    ]


_MEMO = "_worklist_memo"


def memo(user: Any, key: str, compute: Callable[[], Any]) -> Any:
    """A read shared by several apps' selectors within one assembly (kept on the user object of the request)."""
    store: dict[str, Any] = user.__dict__.setdefault(_MEMO, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def towns_in_scope(user: User) -> list[Any]:
    """The towns the user's region covers (their own town for town staff), by code; none for enterprise users."""
    from django.db.models import Count, Q

    from portal.choices import ProductionStatus, RegionLevel
    from portal.models import Region

    def compute() -> list[Any]:
        if user.enterprise_id is not None:
            return []
        # With each town's enterprises counted (the home page's jurisdiction line reads them from here).
        active = Q(enterprises__production_status__in=ProductionStatus.active())
        return list(
            Region.objects.visible_to(user)
            .filter(level=RegionLevel.TOWN)
            .annotate(enterprise_count=Count("enterprises"), active_count=Count("enterprises", filter=active))
            .order_by("code")
        )

    result: list[Any] = memo(user, "towns", compute)
    return result


def enterprise_counts(user: User) -> tuple[int, int]:
    """(enterprises, of them 正常生产/建设) in a region user's scope: the sums over their towns (an enterprise
    belongs to one town, and a region user sees exactly the enterprises of the towns they see)."""
    towns = towns_in_scope(user)
    return sum(t.enterprise_count for t in towns), sum(t.active_count for t in towns)


# --- The enterprise's own papers (portal's own section) ------------------------------------------------

# portal.expiry's bands as the home page's colours.
_EXPIRY_SEVERITY = {"EXPIRED": "danger", "SOON": "warning", "LATER": "info"}


def papers_sections(user: User, today: dt.date) -> Iterable[Section]:
    """An enterprise's 安全生产许可证 and its people's certificates the one expiry rule flags (portal.expiry,
    which the warnings engine reads too): one query for the enterprise's own papers, one for its people."""
    from django.urls import reverse

    from portal import expiry
    from portal.models import Enterprise, Person

    if user.enterprise_id is None:
        return []
    enterprise = expiry.expiring_licences(Enterprise.objects.visible_to(user), today).first()
    people = expiry.expiring_certificates(
        Person.objects.visible_to(user).filter(enterprise_id=user.enterprise_id), today
    ).order_by("certificate_expiry", "id")
    url = reverse("enterprise-detail", args=[user.enterprise_id])
    found: list[tuple[str, dt.date]] = []
    if enterprise is not None and enterprise.license_expiry is not None:
        found.append((f"安全生产许可证 {enterprise.license_number}".strip(), enterprise.license_expiry))
    for person in people:
        assert person.certificate_expiry is not None
        what = person.certificate_type or "证书"
        found.append((f"{person.name}（{person.get_role_display()}）{what}", person.certificate_expiry))
    if not found:
        return []
    items = [Item(label=label, url=url, detail=expiry.describe(day, today), mine=True) for label, day in found]
    worst = min(expiry.band(day, today) for _, day in found)
    return [
        Section(
            kind="papers_expiring",
            group=OWN,
            label="许可证、证书过期或将到期",
            count=len(items),
            items=items[:FIRST_ITEMS],
            url=url,
            severity=_EXPIRY_SEVERITY[worst.name],
            nav="enterprise-list",
        )
    ]
