"""Pages of inspections, 督查组 and 逢查必考 exams."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from inspections import forms as f
from inspections import selectors, services
from inspections.choices import TALK_KINDS
from inspections.filters import ExamFilterSet, InspectionFilterSet
from inspections.views.common import _form_errors, _page, _record_list, _user
from portal import rules
from portal.scoping import visible_or_404


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
    return _record_list(request, user=user, base=base, filterset=filterset, template="inspections/inspection_list.html")


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
    rules.require(user, "inspections.change_unit_record", inspection.unit)
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
    can_change = rules.may(user, "inspections.change_unit_record", inspection.unit)
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
        "can_change": rules.may(user, "inspections.change_unit_record", inspection.unit),
        "hazard_form": hazard_form,
    }


@login_required
@require_POST
def inspection_hazard_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    inspection = visible_or_404(request, selectors.inspection_list(user=user), pk=pk)
    rules.require(user, "inspections.change_unit_record", inspection.unit)
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
    can_record = rules.may(user, "inspections.record_field_work")
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


# --- 逢查必考 ----------------------------------------------------------------------------------


@login_required
def exam_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.exam_list(user=user)
    filterset = ExamFilterSet(request.GET or None, queryset=base, user=user)
    return _record_list(request, user=user, base=base, filterset=filterset, template="inspections/exam_list.html")


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
