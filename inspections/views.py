"""Pages of campaigns and field work. Every object reaches a view through `visible_to` (404 outside the
scope); role refusals are 403 with a Chinese reason; writes go through `inspections.services`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from inspections import forms as f
from inspections import permissions, quotas, selectors, services
from inspections.answered import campaign_as_answered, self_check_fingerprint
from inspections.choices import TALK_KINDS, EnforcementKind
from inspections.filters import DutyLogFilterSet, EnforcementRecordFilterSet, ExamFilterSet, InspectionFilterSet
from inspections.models import (
    DeliverableSubmission,
    EnforcementAttachment,
    EnforcementRecord,
    InspectionPhoto,
    SelfCheckEvidence,
    SelfCheckReport,
)
from portal.images import is_image_name, thumbnail_name
from portal.models import Enterprise, Region, User
from portal.scoping import not_found, visible_or_404

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _form_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: by field when the form has it, else as a form error."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _page(request: HttpRequest, queryset: Any) -> tuple[Any, str]:
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _self_check(request: HttpRequest, pk: int) -> SelfCheckReport:
    """`selectors.self_check_get` for a page: a report outside the scope is logged as 越权访问 before the 404."""
    report: SelfCheckReport = visible_or_404(
        request,
        SelfCheckReport.objects.select_related(
            "campaign", "enterprise", "enterprise__town", "filed_by_unit", "signed_by_account", "signed_on_device_of"
        ),
        pk=pk,
    )
    return report


# --- Files ------------------------------------------------------------------------------------

FILE_MODELS: dict[str, type[Model]] = {
    "enforcement": EnforcementAttachment,
    "photo": InspectionPhoto,
    "evidence": SelfCheckEvidence,
    "submission": DeliverableSubmission,
}


@login_required
def file_download(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    """Every stored file is served through here, after the scope check (404 outside it)."""
    model = FILE_MODELS.get(kind)
    if model is None:
        raise Http404
    obj: Any = visible_or_404(request, model, pk=pk)
    # ?thumb=1: a photo's server-made thumbnail, the only image pages embed. An uploaded image itself is
    # always a download (a browser never decodes it inline); ?inline=1 still shows a PDF in the browser.
    thumb = request.GET.get("thumb") == "1"
    stored = getattr(obj, "thumbnail", None) if thumb else obj.file
    if not stored or not stored.name:
        raise Http404
    try:
        handle = stored.open("rb")
    except OSError as exc:
        raise Http404 from exc
    name = obj.original_name or stored.name.rsplit("/", 1)[-1]
    if thumb:
        return FileResponse(handle, as_attachment=False, filename=thumbnail_name(name))
    inline = request.GET.get("inline") == "1" and not is_image_name(name)
    return FileResponse(handle, as_attachment=not inline, filename=name)


# --- Enforcement and accountability records ---------------------------------------------------


@login_required
def enforcement_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.enforcement_list(user=user)
    filterset = EnforcementRecordFilterSet(request.GET or None, queryset=base, user=user)
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "can_record": permissions.can_record_field_work(user),
        "talks_only": False,
    }
    return render(request, "inspections/enforcement_list.html", context)


@login_required
def enforcement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = visible_or_404(request, selectors.enforcement_list(user=user), pk=pk)
    from hazards.models import Hazard

    context = {
        "record": record,
        "attachments": record.attachments.all(),
        "linked_hazards": Hazard.objects.visible_to(user).filter(enforcement_records=record),
        "can_change": permissions.can_change_unit_record(user, record.issuing_unit),
    }
    return render(request, "inspections/enforcement_detail.html", context)


def _initial_from_query(request: HttpRequest) -> dict[str, Any]:
    """Prefill from a warning's link: ?kind=…&enterprise=…&campaign=…&exam=…&description=…"""
    initial: dict[str, Any] = {}
    for name in ("kind", "enterprise", "parent_company", "campaign", "inspection", "person_name", "description"):
        value = request.GET.get(name)
        if value:
            initial[name] = value
    if initial.get("kind") not in EnforcementKind.values:
        initial.pop("kind", None)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def enforcement_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.ensure_can_record(user)
    exam_id = request.GET.get("exam") or request.POST.get("exam")
    if request.method == "POST":
        form = f.EnforcementRecordForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "attachments"}
            exam = None
            if exam_id:
                exam = (
                    visible_or_404(request, selectors.exam_list(user=user), pk=int(exam_id))
                    if exam_id.isdigit()
                    else None
                )
            try:
                record = services.enforcement_record_create(
                    actor=user, exam=exam, attachments=form.cleaned_data["attachments"], **data
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已登记：{record.get_kind_display()}。")
                return redirect(record)
    else:
        form = f.EnforcementRecordForm(initial=_initial_from_query(request), user=user)
    return render(request, "inspections/enforcement_form.html", {"form": form, "exam_id": exam_id or ""})


@login_required
@require_http_methods(["GET", "POST"])
def enforcement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = visible_or_404(request, selectors.enforcement_list(user=user), pk=pk)
    permissions.require_change_unit_record(user, record.issuing_unit)
    if request.method == "POST":
        form = f.EnforcementRecordForm(
            request.POST, instance=visible_or_404(request, selectors.enforcement_list(user=user), pk=pk), user=user
        )
        if form.is_valid():
            try:
                services.enforcement_record_update(actor=user, record=record, data=dict(form.cleaned_data))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "已保存修改。")
                return redirect(record)
    else:
        form = f.EnforcementRecordForm(instance=record, user=user)
    return render(request, "inspections/enforcement_form.html", {"form": form, "record": record})


@login_required
@require_POST
def enforcement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = visible_or_404(request, selectors.enforcement_list(user=user), pk=pk)
    services.enforcement_record_delete(actor=user, record=record, reason=request.POST.get("reason", "")[:200])
    messages.success(request, "记录已删除。")
    return redirect("inspections:enforcement-list")


@login_required
@require_POST
def enforcement_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = visible_or_404(request, selectors.enforcement_list(user=user), pk=pk)
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, "请选择要上传的文件。")
    try:
        for upload in uploads:
            services.enforcement_attachment_add(actor=user, record=record, upload=upload)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect(record)


@login_required
def enforcement_import(request: HttpRequest) -> HttpResponseBase:
    from inspections.imports import enforcement_import_view

    return enforcement_import_view(request, user=_user(request))


def parse_month(value: str | None, default: dt.date) -> dt.date:
    """ "2024-05" → 2024-05-01; anything else → the month of `default`."""
    if value:
        try:
            return dt.date.fromisoformat(f"{value[:7]}-01")
        except ValueError:
            pass
    return default.replace(day=1)


# --- Inspections ------------------------------------------------------------------------------


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.inspection_list(user=user)
    filterset = InspectionFilterSet(request.GET or None, queryset=base, user=user)
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    context = {"filter": filterset, "page": page, "query": query, "can_record": permissions.can_record_field_work(user)}
    return render(request, "inspections/inspection_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def inspection_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.ensure_can_record(user)
    if request.method == "POST":
        form = f.InspectionForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "photos"}
            try:
                inspection = services.inspection_create(actor=user, photos=form.cleaned_data["photos"], **data)
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "检查记录已保存。可继续登记发现的隐患、谈心谈话和逢查必考。")
                return redirect(inspection)
    else:
        initial = {k: request.GET[k] for k in ("enterprise", "campaign", "method") if request.GET.get(k)}
        form = f.InspectionForm(initial=initial, user=user)
    return render(request, "inspections/inspection_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def inspection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    permissions.require_change_unit_record(user, inspection.unit)
    if request.method == "POST":
        form = f.InspectionForm(
            request.POST, instance=visible_or_404(request, selectors.inspection_list(user=user), pk=pk), user=user
        )
        if form.is_valid():
            try:
                services.inspection_update(actor=user, inspection=inspection, data=dict(form.cleaned_data))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "已保存修改。")
                return redirect(inspection)
    else:
        form = f.InspectionForm(instance=inspection, user=user)
    return render(request, "inspections/inspection_form.html", {"form": form, "inspection": inspection})


@login_required
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    can_change = permissions.can_change_unit_record(user, inspection.unit)
    hazard_form = f.InspectionHazardForm(enterprise=inspection.enterprise) if can_change else None
    return render(request, "inspections/inspection_detail.html", _inspection_context(request, inspection, hazard_form))


def _inspection_context(request: HttpRequest, inspection: Any, hazard_form: Any) -> dict[str, Any]:
    user = _user(request)
    from hazards.models import Hazard

    return {
        "inspection": inspection,
        "photos": inspection.photos.all(),
        "hazards": Hazard.objects.visible_to(user).filter(inspections=inspection).select_related("criterion"),
        "talks": inspection.enforcement_records.filter(kind__in=sorted(TALK_KINDS)),
        "records": inspection.enforcement_records.exclude(kind__in=sorted(TALK_KINDS)),
        "exams": inspection.exams.select_related("person"),
        "can_change": permissions.can_change_unit_record(user, inspection.unit),
        "hazard_form": hazard_form,
    }


@login_required
@require_POST
def inspection_hazard_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    permissions.require_change_unit_record(user, inspection.unit)
    form = f.InspectionHazardForm(request.POST, enterprise=inspection.enterprise)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            hazard = services.inspection_report_hazard(actor=user, inspection=inspection, **data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已登记发现的{hazard.get_level_display()}。")
            return redirect(inspection)
    context = _inspection_context(request, inspection, form)
    return render(request, "inspections/inspection_detail.html", context, status=400)


@login_required
@require_POST
def inspection_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    uploads = request.FILES.getlist("photos")
    if not uploads:
        messages.error(request, "请选择或拍摄照片。")
    try:
        for upload in uploads:
            services.inspection_photo_add(actor=user, inspection=inspection, upload=upload)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect(inspection)


@login_required
@require_POST
def inspection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    try:
        services.inspection_delete(actor=user, inspection=inspection)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(inspection)
    messages.success(request, "检查记录已删除。")
    return redirect("inspections:inspection-list")


# --- 督查组 ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    can_record = permissions.can_record_field_work(user)
    form = f.InspectionTeamForm(user=user) if can_record else None
    if request.method == "POST":
        services.ensure_can_record(user)
        form = f.InspectionTeamForm(request.POST, user=user)
        if form.is_valid():
            try:
                services.inspection_team_create(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "督查组已登记。")
                return redirect("inspections:team-list")
    page, query = _page(request, selectors.team_list(user=user))
    return render(request, "inspections/team_list.html", {"page": page, "query": query, "form": form})


# --- 谈心谈话 ----------------------------------------------------------------------------------


@login_required
def talk_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.enforcement_list(user=user).filter(kind__in=sorted(TALK_KINDS))
    filterset = EnforcementRecordFilterSet(request.GET or None, queryset=base, user=user)
    del filterset.form.fields["kind"]
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "can_record": permissions.can_record_field_work(user),
        "talks_only": True,
    }
    return render(request, "inspections/enforcement_list.html", context)


# --- 逢查必考 ----------------------------------------------------------------------------------


@login_required
def exam_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.exam_list(user=user)
    filterset = ExamFilterSet(request.GET or None, queryset=base, user=user)
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    context = {"filter": filterset, "page": page, "query": query, "can_record": permissions.can_record_field_work(user)}
    return render(request, "inspections/exam_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def exam_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    services.ensure_can_record(user)
    if request.method == "POST":
        form = f.ExamForm(request.POST, user=user)
        if form.is_valid():
            try:
                exam = services.exam_record(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                level = "success" if exam.passed else "warning"
                getattr(messages, level)(request, f"已登记：{exam.person.name} {exam.score} 分，{exam.outcome}。")
                if exam.inspection is not None:
                    return redirect(exam.inspection)
                return redirect("inspections:exam-list")
    else:
        initial = {
            k: request.GET[k] for k in ("enterprise", "inspection", "retake_of", "campaign") if request.GET.get(k)
        }
        form = f.ExamForm(initial=initial, user=user)
    return render(
        request,
        "inspections/simple_form.html",
        {"form": form, "title": "登记逢查必考", "back": "inspections:exam-list"},
    )


# --- 履职台账 ----------------------------------------------------------------------------------


@login_required
def duty_log_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.duty_log_list(user=user)
    filterset = DutyLogFilterSet(request.GET or None, queryset=base, user=user)
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    rows = [(log, quotas.duty_log_checks(log)) for log in page]
    can_keep = selectors.duty_log_enterprises(user=user).exists()
    context = {"filter": filterset, "page": page, "rows": rows, "query": query, "can_keep": can_keep}
    return render(request, "inspections/duty_log_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def duty_log_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    enterprises = selectors.duty_log_enterprises(user=user)
    if not enterprises.exists():
        raise PermissionDenied("只有本企业、所在镇应急管理中心或县局可以填报履职台账。")
    log = visible_or_404(request, selectors.duty_log_list(user=user), pk=pk) if pk is not None else None
    if log is not None and not services.can_keep_duty_log(user, log.enterprise):
        raise PermissionDenied("您不能修改该企业的履职台账。")
    if request.method == "POST":
        form = f.DutyLogForm(request.POST, instance=log, user=user, enterprises=enterprises)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.duty_log_save(
                    actor=user, enterprise=data["enterprise"], month=data["month_text"], person=data["person"],
                    on_site_dates=data["on_site_text"], inspections_led=data["inspections_led"],
                    safety_meetings=data["safety_meetings"],
                    major_hazard_investigation_on=data["major_hazard_investigation_on"],
                    parent_leader_visits=data["parent_leader_visits"], note=data["note"],
                )  # fmt: skip
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                checks = quotas.duty_log_checks(saved)
                missed = [c for c in checks if not c.met]
                if missed:
                    text = "；".join(f"{c.label}：{c.actual:g}/{c.required:g}" for c in missed)
                    messages.warning(request, f"已保存。未达到指标：{text}。")
                else:
                    messages.success(request, "已保存，本月各项指标均已达到。")
                return redirect("inspections:duty-log-list")
    else:
        initial = {}
        if log is None and enterprises.count() == 1:
            initial["enterprise"] = enterprises.first()
        form = f.DutyLogForm(instance=log, initial=initial, user=user, enterprises=enterprises)
    title = "修改履职台账" if log else "填报履职台账"
    context = {"form": form, "title": title, "back": "inspections:duty-log-list", "rules": True}
    return render(request, "inspections/simple_form.html", context)


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


# --- 自查自改报告 ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def self_check_list(request: HttpRequest, campaign_pk: int) -> HttpResponseBase:
    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=campaign_pk)
    if request.method == "POST":
        enterprise = visible_or_404(
            request, selectors.target_enterprises(user=user, campaign=campaign), pk=request.POST.get("enterprise") or 0
        )
        try:
            report = services.self_check_start(actor=user, campaign=campaign, enterprise=enterprise)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("inspections:self-check-list", campaign_pk=campaign.pk)
        return redirect(report)
    reports = {r.enterprise_id: r for r in selectors.self_check_list(user=user, campaign=campaign)}
    if user.enterprise_id is not None and user.enterprise_id in reports:
        return redirect(reports[user.enterprise_id])
    enterprises = selectors.target_enterprises(user=user, campaign=campaign)
    rows = [(e, reports.get(e.pk), services.can_file_report(user, e)) for e in enterprises]
    context = {"campaign": campaign, "rows": rows, "has_checklist": campaign.checklist_areas.exists()}
    return render(request, "inspections/self_check_list.html", context)


def _self_check_context(request: HttpRequest, report: Any, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    from hazards.models import Hazard

    editable = not report.is_submitted and services.can_file_report(user, report.enterprise)
    own_principal = permissions.is_principal_of(user, report.enterprise)
    unexplained = services.self_check_unexplained(report) if editable else []
    context = {
        "report": report,
        "groups": selectors.self_check_rows(report=report),
        "editable": editable,
        "hazards": report.hazards.all(),
        "enterprise_hazards": Hazard.objects.visible_to(user).filter(enterprise=report.enterprise).order_by("-found_on")
        if editable
        else None,
        "unanswered": len(services.unanswered_items(report)) if editable else 0,
        "unexplained": unexplained,
        "own_principal": own_principal,
        "sign_form": (
            f.SignForm(
                own_account=own_principal,
                unexplained=bool(unexplained),
                initial={"fingerprint": self_check_fingerprint(report)},
            )
            if editable
            else None
        ),
        "campaign_shown": campaign_as_answered(report),
        "answer_choices": [("yes", "是"), ("no", "否"), ("na", "不适用")],
    }
    context.update(extra)
    return context


@login_required
def self_check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _self_check(request, pk)
    return render(request, "inspections/self_check_detail.html", _self_check_context(request, report))


@login_required
@require_POST
def self_check_answer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Saves one item (htmx: answers with the re-rendered row; without JavaScript: back to the report)."""
    user = _user(request)
    report = _self_check(request, pk)
    row = get_object_or_404(report.answers.select_related("item"), item_id=item_pk)
    form = f.AnswerForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            row = services.self_check_answer(
                actor=user, report=report, item=row.item, answer=form.cleaned_data["answer"],
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except ValidationError as exc:
            error = "；".join(exc.messages)
    else:
        error = "回答只能是“是”“否”或“不适用”。"
    if getattr(request, "htmx", False):
        # Only the item's save status is swapped: the radio buttons and the note being typed stay as they are.
        # A refusal is answered 200 too, so that htmx shows its reason in place.
        context = {"a": row, "error": error, "saved_at": timezone.localtime()}
        if not error:
            # this page now shows the saved answer: its sign form signs the report as it now reads (htmx swaps
            # the form's fingerprint out of band); another page, opened before, still carries the old one
            context["fingerprint"] = self_check_fingerprint(report)
            # the 未回答 counter beside the sign form follows the answers as they are saved (out of band)
            context["unanswered"] = len(services.unanswered_items(report))
        return render(request, "inspections/_self_check_status.html", context)
    if error:
        messages.error(request, error)
    return redirect(f"{report.get_absolute_url()}#item-{item_pk}")


@login_required
@require_POST
def self_check_evidence(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user = _user(request)
    report = _self_check(request, pk)
    row = get_object_or_404(report.answers, item_id=item_pk)
    uploads = request.FILES.getlist("evidence")
    if not uploads:
        messages.error(request, "请选择要上传的佐证材料。")
    try:
        for upload in uploads:
            services.self_check_add_evidence(actor=user, answer=row, upload=upload)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect(f"{report.get_absolute_url()}#item-{item_pk}")


@login_required
@require_POST
def self_check_summary(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    report = _self_check(request, pk)
    from hazards.models import Hazard

    ids = [value for value in request.POST.getlist("hazards") if value.isdigit()]
    hazards = list(Hazard.objects.visible_to(user).filter(pk__in=ids))
    try:
        services.self_check_update(actor=user, report=report, summary=request.POST.get("summary", ""), hazards=hazards)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已保存。")
    return redirect(report)


@login_required
@require_POST
def self_check_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The principal signs: with their own account (password again), or in person on the filer's device."""
    user = _user(request)
    report = _self_check(request, pk)
    own = permissions.is_principal_of(user, report.enterprise)
    form = f.SignForm(request.POST, own_account=own, unexplained=bool(services.self_check_unexplained(report)))
    if form.is_valid():
        username = user.get_username() if own else form.cleaned_data.get("username", "")
        signer = services.self_check_authenticate_signer(
            request=request,
            actor=user,
            report=report,
            username=username,
            password=form.cleaned_data["password"],
            otp_code=form.cleaned_data.get("otp_code") or "",
        )
        if signer is None:
            form.add_error("password", services.SIGNER_REFUSED)
        else:
            try:
                services.self_check_sign(
                    actor=user,
                    report=report,
                    signer=signer,  # type: ignore[arg-type]
                    fingerprint=form.cleaned_data.get("fingerprint") or "",
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(request, "主要负责人已签字，报告已报送镇应急管理中心和县局。")
                return redirect(report)
    context = _self_check_context(request, report, sign_form=form)
    return render(request, "inspections/self_check_detail.html", context, status=400)


# --- 镇阶段性进展 ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def progress_list(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    user = _user(request)
    campaign = visible_or_404(request, selectors.campaign_list(user=user), pk=campaign_pk)
    if user.enterprise_id is not None:
        raise PermissionDenied("阶段性进展由镇应急管理中心填报。")
    phases = list(campaign.phases.all())
    unit = permissions.acting_unit(user)
    is_town = unit is not None and unit.level == "town"
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
    unit = permissions.acting_unit(user)
    context = {
        "campaign": campaign,
        "matrix": result,
        "my_town": unit if unit is not None and unit.level == "town" else None,
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

    user = _user(request)
    today = timezone.localdate()
    month = parse_month(request.GET.get("month"), warnings.last_complete_month(today))
    kind = request.GET.get("kind", "")
    region, enterprise = warning_filters(request)
    # warnperf: every kind is counted (隐患整改逾期 in SQL); only the page shown is built (WarningListing).
    from inspections.warning_listing import WarningListing

    shown = WarningListing(
        user=user, today=today, month=month, kinds=[kind] if kind in WarningKind.values else None, region=region,
        enterprise=enterprise, only_open=bool(request.GET.get("open")), counted=True,
    )  # fmt: skip
    found = shown  # warnperf: `.counts` / `.open_counts` below
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
        "can_record": permissions.can_record_field_work(user),
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
