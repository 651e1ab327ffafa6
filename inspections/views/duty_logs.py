"""Pages of principals' duty logs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from inspections import forms as f
from inspections import quotas, selectors, services
from inspections.filters import DutyLogFilterSet
from inspections.views.common import _form_errors, _page, _user
from portal import rules
from portal.scoping import visible_or_404

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
    if log is not None and not rules.may(user, "inspections.keep_duty_log", log.enterprise):
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
