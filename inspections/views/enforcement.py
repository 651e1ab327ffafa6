"""Pages of enforcement records (and 谈心谈话 among them)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from inspections import forms as f
from inspections import selectors, services
from inspections.choices import TALK_KINDS, EnforcementKind
from inspections.filters import EnforcementRecordFilterSet
from inspections.views.common import _form_errors, _record_list, _user
from portal import rules
from portal.scoping import visible_or_404

# --- Enforcement and accountability records ---------------------------------------------------


@login_required
def enforcement_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.enforcement_list(user=user)
    filterset = EnforcementRecordFilterSet(request.GET or None, queryset=base, user=user)
    return _record_list(
        request,
        user=user,
        base=base,
        filterset=filterset,
        template="inspections/enforcement_list.html",
        talks_only=False,
    )


@login_required
def enforcement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = visible_or_404(request, selectors.enforcement_list(user=user), pk=pk)
    from hazards.models import Hazard

    context = {
        "record": record,
        "attachments": record.attachments.all(),
        "linked_hazards": Hazard.objects.visible_to(user).filter(enforcement_records=record),
        "can_change": rules.may(user, "inspections.change_unit_record", record.issuing_unit),
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
    rules.require(user, "inspections.change_unit_record", record.issuing_unit)
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


# --- 谈心谈话 ----------------------------------------------------------------------------------


@login_required
def talk_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    base = selectors.enforcement_list(user=user).filter(kind__in=sorted(TALK_KINDS))
    filterset = EnforcementRecordFilterSet(request.GET or None, queryset=base, user=user)
    del filterset.form.fields["kind"]
    return _record_list(
        request,
        user=user,
        base=base,
        filterset=filterset,
        template="inspections/enforcement_list.html",
        talks_only=True,
    )
