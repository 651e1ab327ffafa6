"""The hazards' sections of the 工作台 (registered in `HazardsConfig.ready`; see portal/worklist.py).

- waiting: the work queue (the same rule as 待办: `selectors.work_queue`), one section per kind of step —
  待签字, 待镇确认, 待县确认, 销号申请, 待验收, 延期申请, 待整改 — and the user's ledger uploads to confirm;
- due: hazard deadlines within 14 days in scope; late: overdue hazards as the warnings engine finds them
  (inspections/worklist.py registers `deadline_sections` with its rows), those waiting for the user's own
  step first;
- notices: the latest notifications.

Queries are fixed whatever the data size: the pending extensions, the queue's counts by kind, its first
rows; the due/late counts together, the first due and late rows; the uploads; the notifications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import BooleanField, Case, CharField, Count, Exists, F, OuterRef, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from hazards import selectors
from hazards.choices import ExtensionStatus, HazardStatus, LedgerUploadStatus
from hazards.ledger import may_upload
from hazards.models import ExtensionRequest, Hazard, LedgerUpload
from hazards.permissions import extension_decider_levels, queue_statuses
from portal.choices import Role
from portal.models import User
from portal.worklist import DUE, DUE_DAYS, FIRST_ITEMS, LATE, NOTICES, WAITING, Item, Section

S = HazardStatus

# The kinds of waiting work, in the order shown: (kind, label, severity).
QUEUE_KINDS: dict[str, tuple[str, str]] = {
    "hazard_sign": ("隐患待签字", "warning"),
    "hazard_town_confirm": ("待镇确认", "warning"),
    "hazard_county_confirm": ("待县确认", "warning"),
    "hazard_extension": ("延期申请", "warning"),
    "hazard_closure": ("销号申请", "info"),
    "hazard_verify": ("待验收", "info"),
    "hazard_rectify": ("待整改", "info"),
}
_KIND_OF_STATUS = {
    S.DRAFT: "hazard_sign",
    S.PENDING_TOWN: "hazard_town_confirm",
    S.PENDING_COUNTY: "hazard_county_confirm",
    S.CLOSURE_REQUESTED: "hazard_closure",
    S.RECTIFIED: "hazard_verify",
}


def queue_kind(status: str, extension_pending: bool) -> str:
    if extension_pending:
        return "hazard_extension"
    return _KIND_OF_STATUS.get(HazardStatus(status), "hazard_rectify")


def _hazard_item(hazard: Hazard, *, detail: str = "", mine: bool = False) -> Item:
    text = hazard.description.strip().replace("\n", " ")
    short = text if len(text) <= 28 else f"{text[:28]}…"
    return Item(
        label=f"{hazard.enterprise.name}：{short}",
        url=reverse("hazards:hazard-detail", args=[hazard.pk]),
        detail=detail,
        mine=mine,
    )


def _list_url(**params: str) -> str:
    return f"{reverse('hazards:hazard-list')}?{urlencode(params)}"


def _soonest(hazard: Hazard) -> tuple[dt.date, dt.date, int]:
    return (hazard.current_deadline or dt.date.max, hazard.found_on, hazard.pk)


def _queue_item(hazard: Hazard) -> Item:
    deadline = f"整改期限 {hazard.current_deadline:%Y-%m-%d}" if hazard.current_deadline else ""
    return _hazard_item(hazard, detail=deadline, mine=True)


def waiting_sections(user: User, today: dt.date) -> Iterable[Section]:
    # A pending extension is the decider's work; for the enterprise the hazard still waits for its rectification.
    pending = ExtensionRequest.objects.filter(hazard=OuterRef("pk"), status=ExtensionStatus.PENDING)
    levels = sorted(extension_decider_levels(user))
    decide: Any = Value(False)
    if levels:
        deciding = Q(Exists(pending), level__in=levels)
        decide = Case(When(deciding, then=Value(True)), default=Value(False), output_field=BooleanField())
    # One query: each (status, extension) partition's size and its first rows, soonest deadline first.
    partition = [F("status"), F("extension_pending")]
    rows = (
        selectors.work_queue(user=user)
        .annotate(extension_pending=decide)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=partition,
                order_by=[F("current_deadline").asc(nulls_last=True), F("found_on").asc(), F("id").asc()],
            ),
            total=Window(Count("id"), partition_by=partition),
        )
        .filter(rank__lte=FIRST_ITEMS)
    )
    counts: dict[str, int] = {}
    firsts: dict[str, list[Any]] = {}
    hazard: Any  # annotated rows
    for hazard in rows:
        kind = queue_kind(hazard.status, hazard.extension_pending)
        if hazard.rank == 1:  # one row per partition carries its size
            counts[kind] = counts.get(kind, 0) + hazard.total
        firsts.setdefault(kind, []).append(hazard)
    if not counts:
        return []
    queue_url = reverse("hazards:work-queue")
    return [
        Section(
            kind=kind,
            group=WAITING,
            label=label,
            count=counts[kind],
            items=[_queue_item(h) for h in sorted(firsts.get(kind, []), key=_soonest)[:FIRST_ITEMS]],
            url=queue_url,
            severity=severity,
            nav="hazards:work-queue",
        )
        for kind, (label, severity) in QUEUE_KINDS.items()
        if counts.get(kind)
    ]


def _mine_condition(user: User) -> Q:
    """The hazards whose next step is the user's own (an enterprise's users own all of theirs)."""
    if user.enterprise_id is not None:
        return Q(pk__isnull=False)
    condition = Q(pk__isnull=True)
    for level, statuses in queue_statuses(user).items():
        if statuses:
            condition |= Q(level=level, status__in=statuses)
    return condition


def _mine_flag(mine: Q) -> Case:
    return Case(When(mine, then=Value(True)), default=Value(False), output_field=BooleanField())


def _counted_deadlines(owed: Any, *, due: Q, late: Q | None, mine: Q) -> tuple[dict[str, int], list[Any]]:
    """(due, late) counts in one aggregate, then the first due and the first late rows, the user's own late
    ones first, in one more read."""
    counts: dict[str, Any] = {"due": Count("id", filter=due)}
    if late is not None:
        counts.update(late=Count("id", filter=late), late_mine=Count("id", filter=late & mine))
    totals = {"late": 0, "late_mine": 0, **owed.aggregate(**counts)}
    flag = _mine_flag(mine)
    wanted = []
    if totals["due"]:
        wanted.append(owed.filter(due).order_by("current_deadline", "id"))
    if late is not None and totals["late"]:
        # The user's own first, then the soonest deadlines. Three reads give these same rows; which is cheap
        # depends on the scope: walking the (current_deadline, id) index until five rows qualify is quick when
        # they are common, sorting every late row of the scope is quick when a scope (a town) has few of them.
        if not totals["late_mine"]:
            wanted.append(owed.filter(late).order_by("current_deadline", "id"))
        elif totals["late_mine"] >= FIRST_ITEMS and totals["late"] > LATE_SORTED:
            wanted.append(owed.filter(late & mine).order_by("current_deadline", "id"))
        else:
            wanted.append(owed.filter(late).annotate(mine=flag).order_by("-mine", "current_deadline", "id"))
    if not wanted:
        return totals, []
    # Each top five as its own `pk IN (…)` part of a UNION ALL: PostgreSQL answered `pk IN (…) OR pk IN (…)` by
    # scanning every open hazard of the scope (150-190 ms for a county at county scale), these in a few ms.
    parts = [
        owed.filter(pk__in=first.values("pk")[:FIRST_ITEMS]).select_related("enterprise").annotate(mine=flag).order_by()
        for first in wanted
    ]
    return totals, list(parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0])


def _ranked_deadlines(owed: Any, *, due: Q, late: Q | None, mine: Q) -> tuple[dict[str, int], list[Any]]:
    """The same counts and rows in one read: every due and late row of the scope numbered within its group (the
    user's own late ones first, then the soonest deadline), the first five of each kept, each carrying its
    group's size. Sorts every such row: for small scopes only."""
    wanted = due if late is None else due | late
    own_late = Value(1) if late is None else Case(When(late & mine, then=Value(0)), default=Value(1))
    group = Case(When(due, then=Value(DUE)), default=Value(LATE), output_field=CharField())
    rows: list[Any] = list(
        owed.filter(wanted)
        .select_related("enterprise")
        .only("description", "current_deadline", "enterprise__name")
        .annotate(mine=_mine_flag(mine), deadline_group=group)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("deadline_group")],
                order_by=[own_late.asc(), F("current_deadline").asc(), F("id").asc()],
            ),
            group_size=Window(Count("id"), partition_by=[F("deadline_group")]),
        )
        .filter(rank__lte=FIRST_ITEMS)
    )
    totals = {DUE: 0, LATE: 0}
    for row in rows:
        totals[row.deadline_group] = row.group_size
    return {"due": totals[DUE], "late": totals[LATE]}, rows


# Above this many late hazards in scope, the user's own five or more are read in the deadline index's order
# rather than by sorting every late row (at county scale: a town's ~1,000 sort in 4 ms, where the index walk past
# every other town's hazards took 65 ms; a county's 15,000 in 43 ms, where the walk took 6 ms).
LATE_SORTED = 2000


# Roles whose scope is one town or one enterprise: few open hazards (a town's ~1,000 late ones at county
# scale), counted and ranked in one windowed read instead of an aggregate and a read of the first rows.
_SMALL_SCOPES = {Role.TOWN_STAFF, *Role.enterprise_roles()}


def deadline_sections(user: User, today: dt.date, *, late: Q | None = None, late_url: str = "") -> Iterable[Section]:
    """The hazards in scope due within 14 days and, given `late` (the warnings engine's condition for an open
    隐患整改逾期: inspections/worklist.py registers this selector with it), 逾期未整改的隐患, those waiting for
    the user's own step first. Two queries whatever the data size (the counts in one aggregate; the first due
    and the first late rows in one read of two top-five lists), one for a town's or an enterprise's users."""
    owed = Hazard.objects.visible_to(user).filter(status__in=S.rectification_owed())
    horizon = today + dt.timedelta(days=DUE_DAYS)
    due = Q(current_deadline__gte=today, current_deadline__lte=horizon)
    mine = _mine_condition(user)
    read = _ranked_deadlines if user.role in _SMALL_SCOPES else _counted_deadlines
    totals, rows = read(owed, due=due, late=late, mine=mine)
    if not totals["due"] and not totals["late"]:
        return []
    sections: list[Section] = []
    due_rows = sorted((h for h in rows if h.current_deadline >= today), key=lambda h: (h.current_deadline, h.pk))
    if totals["due"]:
        sections.append(
            Section(
                kind="hazard_due",
                group=DUE,
                label="隐患整改期限将到",
                count=totals["due"],
                items=[_hazard_item(h, detail=f"{h.current_deadline:%Y-%m-%d} 到期") for h in due_rows[:FIRST_ITEMS]],
                url=_list_url(open="true", ordering="current_deadline"),
                severity="warning",
            )
        )
    if late is not None and totals["late"]:
        late_rows = sorted(
            (h for h in rows if h.current_deadline < today), key=lambda h: (not h.mine, h.current_deadline, h.pk)
        )
        sections.append(
            Section(
                kind="hazard_overdue",
                group=LATE,
                label="逾期未整改的隐患",
                count=totals["late"],
                items=[
                    _hazard_item(h, detail=f"{h.current_deadline:%Y-%m-%d} 已逾期", mine=bool(h.mine))
                    for h in late_rows[:FIRST_ITEMS]
                ],
                url=late_url or _list_url(overdue="true"),
                severity="danger",
                nav="hazards:hazard-list",
            )
        )
    return sections


def upload_sections(user: User, today: dt.date) -> Iterable[Section]:
    """The user's own previewed ledger uploads that still wait for their confirmation (the enterprise's users and
    the town staff, who upload on its behalf; the county's staff confirm theirs at once and keep their home's
    query budget)."""
    if not may_upload(user) or user.role not in (Role.ENTERPRISE_CLERK, Role.ENTERPRISE_PRINCIPAL, Role.TOWN_STAFF):
        return []
    uploads = list(
        LedgerUpload.objects.visible_to(user)
        .filter(status=LedgerUploadStatus.PENDING, uploaded_by=user)
        .select_related("enterprise")
        .order_by("-uploaded_at", "-id")[:50]
    )
    if not uploads:
        return []
    items = [
        Item(
            label=f"{upload.enterprise.name}：{upload.original_name}",
            url=reverse("hazards:ledger-upload-detail", args=[upload.pk]),
            detail=f"上传于 {timezone.localtime(upload.uploaded_at):%Y-%m-%d %H:%M}",
            mine=True,
        )
        for upload in uploads[:FIRST_ITEMS]
    ]
    return [
        Section(
            kind="ledger_confirm",
            group=WAITING,
            label="隐患台账待确认导入",
            count=len(uploads),
            items=items,
            url=reverse("hazards:ledger-upload"),
            severity="warning",
            nav="",
        )
    ]


def notice_sections(user: User, today: dt.date) -> Iterable[Section]:
    """The unread notifications, latest first (one query: their number comes with the rows)."""
    rows = list(
        selectors.notification_list(user=user, unread_only=True)
        .annotate(total=Window(Count("id")))
        .order_by("-created_at", "-id")[:FIRST_ITEMS]
    )
    if not rows:
        return []
    items = [
        Item(
            label=n.message,
            url=reverse("hazards:hazard-detail", args=[n.hazard_id])
            if n.hazard_id
            else reverse("hazards:notification-list"),
            detail=f"{timezone.localtime(n.created_at):%Y-%m-%d %H:%M}",
        )
        for n in rows
    ]
    return [
        Section(
            kind="notifications",
            group=NOTICES,
            label="未读通知",
            count=rows[0].total,
            items=items,
            url=reverse("hazards:notification-list"),
            severity="info",
        )
    ]
