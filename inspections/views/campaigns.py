"""Pages of campaigns: coverage, progress reports, deliverables and their filings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from inspections import forms as f
from inspections import permissions, quotas, selectors, services
from inspections.views.common import _form_errors, _user
from inspections.views.field_work import parse_month
from portal import rules
from portal.models import Region
from portal.scoping import not_found, visible_or_404

# --- Campaigns and coverage -------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    campaigns = selectors.campaign_list(user=user)
    return render(request, "inspections/campaign_list.html", {"campaigns": campaigns, "today": today})


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=pk)
    areas = campaign.checklist_areas.prefetch_related("items")
    deliverables = [(d, d.due_dates()) for d in campaign.deliverables.all()]
    context = {
        "campaign": campaign,
        "phases": campaign.phases.all(),
        "areas": areas,
        "quotas": campaign.quotas.select_related("phase"),
        "deliverables": deliverables,
        "today": timezone.localdate(),
        "is_enterprise": user.enterprise_id is not None,
        "is_region": user.region_id is not None or user.is_superuser,
    }
    return render(request, "inspections/campaign_detail.html", context)


def _default_campaign(request: HttpRequest, requested: str | None) -> Any:
    campaigns = selectors.campaign_list(user=_user(request))
    if requested and requested.isdigit():
        return visible_or_404(request, campaigns, pk=int(requested))
    today = timezone.localdate()
    return campaigns.filter(start_date__lte=today, end_date__gte=today).first() or campaigns.first()


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.enterprise_id is not None:
        raise PermissionDenied("检查覆盖情况供镇应急管理中心和县局查看。")
    campaign = _default_campaign(request, request.GET.get("campaign"))
    default_month = timezone.localdate()
    if campaign is not None and not campaign.is_running(default_month):
        default_month = min(max(default_month, campaign.start_date), campaign.end_date)
    month = parse_month(request.GET.get("month"), default_month)
    counties = selectors.counties_for(user=user)
    try:
        county = selectors.county_choice(user=user, requested=request.GET.get("county"), counties=counties)
    except Http404:
        raise not_found(request, Region, code=request.GET.get("county")) from None
    result = None
    if county is not None:
        towns = selectors.towns_for(user=user, county=county)
        result = quotas.coverage(county=county, towns=towns, campaign=campaign, month=month)
    context = {
        "campaign": campaign,
        "campaigns": selectors.campaign_list(user=user),
        "month": month,
        "county": county,
        "counties": counties,
        "result": result,
        "show_county": user.region_id is None or (user.region is not None and user.region.level != "town"),
    }
    return render(request, "inspections/coverage.html", context)


# --- 镇阶段性进展 ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def progress_list(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=campaign_pk)
    if user.enterprise_id is not None:
        raise PermissionDenied("阶段性进展由镇应急管理中心填报。")
    phases = list(campaign.phases.all())
    is_town = rules.may(user, "inspections.act_for_town")
    unit = permissions.acting_unit(user)
    phase = next((p for p in phases if str(p.pk) == (request.POST.get("phase") or request.GET.get("phase"))), None)
    if phase is None:
        today = timezone.localdate()
        phase = next((p for p in phases if p.start_date <= today <= p.end_date), phases[0] if phases else None)
    from inspections.models import TownProgressReport

    mine = TownProgressReport.objects.filter(phase=phase, town=unit).first() if is_town and phase else None
    form = f.ProgressReportForm(instance=mine) if is_town else None
    if request.method == "POST":
        if not is_town or phase is None:
            raise PermissionDenied("阶段性进展由镇应急管理中心填报。")
        form = f.ProgressReportForm(request.POST, instance=mine)
        if form.is_valid():
            try:
                services.progress_save(
                    actor=user, phase=phase, submit=request.POST.get("action") == "submit", **form.cleaned_data
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "已保存。" if request.POST.get("action") != "submit" else "已报送县局。")
                return redirect(f"{request.path}?phase={phase.pk}")
    reports = TownProgressReport.objects.visible_to(user).filter(campaign=campaign).select_related("phase", "town")
    towns = (
        selectors.towns_for(user=user, county=campaign.issuing_region)
        if campaign.issuing_region.level == "county"
        else []
    )
    table = [
        (town, [next((r for r in reports if r.town_id == town.pk and r.phase_id == p.pk), None) for p in phases])
        for town in towns
    ]
    context = {
        "campaign": campaign, "phases": phases, "phase": phase, "form": form, "mine": mine, "table": table,
        "is_town": is_town,
    }  # fmt: skip
    return render(request, "inspections/progress.html", context)


# --- Deliverables -----------------------------------------------------------------------------


@login_required
def deliverable_matrix(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    from inspections import deliverables

    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=campaign_pk)
    if user.enterprise_id is not None:
        return _enterprise_deliverables(request, campaign)
    towns = selectors.towns_for(user=user, county=campaign.issuing_region)
    result = deliverables.matrix(campaign=campaign, towns=towns)
    context = {
        "campaign": campaign,
        "matrix": result,
        "my_town": permissions.acting_unit(user) if rules.may(user, "inspections.act_for_town") else None,
    }
    return render(request, "inspections/deliverable_matrix.html", context)


def _enterprise_deliverables(request: HttpRequest, campaign: Any) -> HttpResponse:
    from inspections import deliverables

    user = _user(request)
    enterprise = user.enterprise
    assert enterprise is not None
    filings = deliverables.Filings(campaign, [enterprise.town])
    today = timezone.localdate()
    rows = []
    for column in deliverables.columns_of(campaign):
        if column.deliverable.submitter != "enterprise":
            continue
        dates = filings.enterprise_dates(column.deliverable, enterprise, column.due)
        rows.append((column, deliverables.status_of(dates, column.due, column.deliverable.min_count, today)))
    return render(request, "inspections/enterprise_deliverables.html", {"campaign": campaign, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def submission_create(request: HttpRequest, campaign_pk: int, deliverable_pk: int) -> HttpResponse:
    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=campaign_pk)
    deliverable = get_object_or_404(campaign.deliverables, pk=deliverable_pk)
    if deliverable.kind not in services.SUBMITTABLE_KINDS:
        raise Http404
    due_dates = deliverable.due_dates()
    if request.method == "POST":
        form = f.SubmissionForm(request.POST, request.FILES, due_dates=due_dates)
        if form.is_valid():
            try:
                services.submission_create(actor=user, deliverable=deliverable, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied:
                raise
            else:
                messages.success(request, f"已报送：{deliverable.name}。")
                return redirect("inspections:deliverable-matrix", campaign_pk=campaign.pk)
    else:
        today = timezone.localdate()
        upcoming = next((d for d in due_dates if d >= today), due_dates[-1] if due_dates else None)
        wanted = request.GET.get("due") or (upcoming.isoformat() if upcoming else None)
        form = f.SubmissionForm(initial={"due_date": wanted, "title": deliverable.name}, due_dates=due_dates)
    from inspections.models import DeliverableSubmission

    previous = (
        DeliverableSubmission.objects.visible_to(user)
        .filter(deliverable=deliverable)
        .select_related("town", "enterprise")
    )
    context = {"campaign": campaign, "deliverable": deliverable, "form": form, "previous": previous}
    return render(request, "inspections/submission_form.html", context)
