"""Pages of self-check reports, up to the principal's signature."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from inspections import forms as f
from inspections import selectors, services
from inspections.answered import campaign_as_answered, self_check_fingerprint
from inspections.models import SelfCheckReport
from inspections.views.common import _user
from portal import rules
from portal.scoping import visible_or_404


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
    rows = [(e, reports.get(e.pk), rules.may(user, "inspections.file_self_check", e)) for e in enterprises]
    context = {"campaign": campaign, "rows": rows, "has_checklist": campaign.checklist_areas.exists()}
    return render(request, "inspections/self_check_list.html", context)


def _self_check_context(request: HttpRequest, report: Any, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    from hazards.models import Hazard

    editable = not report.is_submitted and rules.may(user, "inspections.file_self_check", report.enterprise)
    own_principal = rules.may(user, "inspections.sign_self_check", report.enterprise)
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
    own = rules.may(user, "inspections.sign_self_check", report.enterprise)
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
