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
from django.views.decorators.http import require_http_methods, require_POST

from inspections import forms as f
from inspections import permissions, selectors, services
from inspections.choices import EnforcementKind
from inspections.filters import EnforcementRecordFilterSet
from inspections.models import (
    DeliverableSubmission,
    EnforcementAttachment,
    InspectionPhoto,
    SelfCheckEvidence,
)
from portal.models import User

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
    obj: Any = get_object_or_404(model.objects.visible_to(_user(request)), pk=pk)  # type: ignore[attr-defined]
    stored = obj.file
    if not stored or not stored.name:
        raise Http404
    try:
        handle = stored.open("rb")
    except OSError as exc:
        raise Http404 from exc
    inline = kind == "photo" or request.GET.get("inline") == "1"
    return FileResponse(handle, as_attachment=not inline, filename=obj.original_name or stored.name.rsplit("/", 1)[-1])


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
    record = selectors.enforcement_get(user=user, pk=pk)
    context = {
        "record": record,
        "attachments": record.attachments.all(),
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
                exam = selectors.exam_get(user=user, pk=int(exam_id)) if exam_id.isdigit() else None
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
    record = selectors.enforcement_get(user=user, pk=pk)
    permissions.require_change_unit_record(user, record.issuing_unit)
    if request.method == "POST":
        form = f.EnforcementRecordForm(request.POST, instance=selectors.enforcement_get(user=user, pk=pk), user=user)
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
    record = selectors.enforcement_get(user=user, pk=pk)
    services.enforcement_record_delete(actor=user, record=record, reason=request.POST.get("reason", "")[:200])
    messages.success(request, "记录已删除。")
    return redirect("inspections:enforcement-list")


@login_required
@require_POST
def enforcement_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = selectors.enforcement_get(user=user, pk=pk)
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
