"""The warnings page and the resolving of warnings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from inspections.models import EnforcementRecord
from inspections.views.common import _page, _user
from inspections.views.field_work import parse_month
from portal import rules
from portal.models import Enterprise, Region
from portal.scoping import visible_or_404

# --- Warnings ---------------------------------------------------------------------------------


ID_RANGE = range(1, 2**63)  # a database id: anything else matches nothing (and never reaches the driver)


def warning_filters(request: Any) -> tuple[Region | None, Enterprise | None]:
    """The 预警 page's and API's region (code) and enterprise (id) filters, each within the user's scope
    (else 404, logged as 越权访问 when the object exists)."""
    region = enterprise = None
    if code := request.GET.get("region", "").strip():
        region = visible_or_404(request, Region, code=code[:20])
    if value := request.GET.get("enterprise", "").strip():
        try:
            pk = int(value)
        except ValueError:
            raise Http404("未找到该企业。") from None
        if pk not in ID_RANGE:
            raise Http404("未找到该企业。")
        enterprise = visible_or_404(request, Enterprise, pk=pk)
    return region, enterprise


@login_required
def warning_list(request: HttpRequest) -> HttpResponse:
    from inspections import warnings
    from inspections.choices import WarningKind
    from inspections.warning_listing import WarningListing

    user = _user(request)
    today = timezone.localdate()
    month = parse_month(request.GET.get("month"), warnings.last_complete_month(today))
    kind = request.GET.get("kind", "")
    region, enterprise = warning_filters(request)
    # Every kind is counted (隐患整改逾期 in SQL); only the page shown is built (WarningListing).
    shown = WarningListing(
        user=user, today=today, month=month, kinds=[kind] if kind in WarningKind.values else None, region=region,
        enterprise=enterprise, only_open=bool(request.GET.get("open")), counted=True,
    )  # fmt: skip
    found = shown  # its `.counts` / `.open_counts` feed the per-kind counts below
    page, query = _page(request, shown)
    context = {
        "warnings": page.object_list,
        "page": page,
        "query": query,
        "total": len(shown),
        "month": month,
        "kind": kind,
        "kinds": WarningKind.choices,
        "counts": found.counts,
        "open_counts": found.open_counts,
        "region": region,
        "enterprise": enterprise,
        "only_open": bool(request.GET.get("open")),
        "can_record": rules.may(user, "inspections.record_field_work"),
        "next": request.get_full_path(),
    }
    return render(request, "inspections/warning_list.html", context)


@login_required
@require_POST
def warning_resolve(request: HttpRequest) -> HttpResponse:
    """已处理: a note, or a 约谈/处罚 record linked (by its id), through `warning_services.warning_resolve`."""
    from inspections import warning_services

    user = _user(request)
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("inspections:warning-list")
    record = None
    record_id = request.POST.get("record", "").strip()
    try:
        if record_id:
            pk = int(record_id)
            record = EnforcementRecord.objects.visible_to(user).filter(pk=pk).first() if pk in ID_RANGE else None
            if record is None:
                raise ValidationError("约谈、处罚记录不存在或不在您的辖区内。")
        warning_services.warning_resolve(
            actor=user, key=request.POST.get("key", ""), note=request.POST.get("note", ""), record=record
        )
    except ValueError:
        messages.error(request, "约谈、处罚记录编号应为数字。")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, "；".join(getattr(error, "messages", None) or [str(error)]))
    else:
        messages.success(request, "已记录该预警的处理情况。")
    return redirect(back)
