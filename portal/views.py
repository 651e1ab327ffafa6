"""Pages of the directory. Every object reaches a view through `visible_to` (see selectors)."""

from __future__ import annotations

import copy
import time
from typing import Any

from django.conf import settings
from django.contrib import messages as messages_framework
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import rules, selectors, services
from portal.choices import AuditKind, audit_kind_groups
from portal.filters import EnterpriseFilterSet
from portal.forms import EnterpriseForm, LoginForm
from portal.models import User
from portal.otp import services as otp_services
from portal.otp import views as otp_views
from portal.scoping import sees_personal_data, visible_or_404

PAGE_SIZES = (20, 50, 100)


class PortalLoginView(LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        # With a confirmed TOTP device, the password alone logs nothing in: the code comes next.
        user = form.get_user()
        if otp_services.confirmed_device(user) is not None:
            return otp_views.start_pending(self.request, user, self.get_success_url())
        return super().form_valid(form)


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: what waits for the user, what is due within 14 days, what is late (portal/worklist.py)."""
    from portal import worklist

    user: User = request.user  # type: ignore[assignment]
    sections = worklist.request_sections(request)
    context: dict[str, Any] = {"groups": worklist.grouped(sections)}
    if user.enterprise_id is None:
        # The jurisdiction at a glance, from the towns the worklist reads anyway.
        context["enterprise_count"], context["active_count"] = worklist.enterprise_counts(user)
    return render(request, "portal/home.html", context)


@login_required
@require_GET
def menu_badges(request: HttpRequest) -> JsonResponse:
    """The menu's badges (url name -> count) for pages that load them after rendering (portal.js)."""
    from portal import worklist

    counts = worklist.badge_counts(worklist.request_sections(request))
    return JsonResponse({"home": sum(counts.values()), **counts})


@login_required
def enterprise_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    base = selectors.enterprise_list(user=user)
    filterset = EnterpriseFilterSet(request.GET or None, queryset=base, user=user)
    queryset = filterset.qs if filterset.is_bound else base
    paginator = Paginator(queryset, _page_size(request))
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "page_sizes": PAGE_SIZES,
        "can_import": rules.may(user, "portal.import_enterprises"),
    }
    template = "portal/_enterprise_table.html" if getattr(request, "htmx", False) else "portal/enterprise_list.html"
    return render(request, template, context)


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    enterprise = visible_or_404(request, selectors.enterprise_list(user=user), pk=pk)
    people = selectors.enterprise_people(user=user, enterprise=enterprise)
    show_personal = sees_personal_data(user, enterprise_id=enterprise.pk)
    can_edit = _enterprise_edit_mode(user, enterprise) is not None
    return render(
        request,
        "portal/enterprise_detail.html",
        {"enterprise": enterprise, "people": people, "show_personal": show_personal, "can_edit": can_edit},
    )


def _enterprise_edit_mode(user: User, enterprise: Any) -> str | None:
    """How the user may edit the enterprise: bureau (every field), self_service (its own clerk), or None."""
    if rules.is_county_staff(user):
        return "bureau"
    if services.may_edit_own_enterprise(user=user, enterprise=enterprise):
        return "self_service"
    return None


@login_required
def enterprise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    enterprise = visible_or_404(request, selectors.enterprise_list(user=user), pk=pk)
    mode = _enterprise_edit_mode(user, enterprise)
    if mode is None:
        raise PermissionDenied("您的角色无权修改企业信息。")
    self_service = mode == "self_service"
    # The form validates a copy: the page keeps showing the record as saved when the service refuses.
    form = EnterpriseForm(request.POST or None, instance=copy.copy(enterprise), user=user, self_service=self_service)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            if self_service:
                services.enterprise_update_by_enterprise(actor=user, enterprise=enterprise, data=data)
            else:
                services.enterprise_update(actor=user, enterprise=enterprise, data=data)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, messages)
        else:
            messages_framework.success(request, "企业信息已保存。")
            return redirect("enterprise-detail", pk=enterprise.pk)
    return render(request, "portal/enterprise_form.html", {"enterprise": enterprise, "form": form})


@login_required
def enterprise_export(request: HttpRequest) -> HttpResponseBase:
    from portal.exports import enterprise_export_response

    user: User = request.user  # type: ignore[assignment]
    return enterprise_export_response(user=user, params=request.GET)


@login_required
def enterprise_import(request: HttpRequest) -> HttpResponseBase:
    from portal.imports import enterprise_import_view

    user: User = request.user  # type: ignore[assignment]
    rules.require(user, "portal.import_enterprises")
    return enterprise_import_view(request, user=user)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rules.require(user, "portal.view_audit_log")
    events = selectors.audit_event_list(user=user)
    action = request.GET.get("action")
    if action:
        events = events.filter(action=action)
    # What happened (事件): one kind, or every kind of a domain ("hazard." …); an unknown value filters nothing.
    kind = request.GET.get("kind", "")
    if kind in AuditKind.values:
        events = events.filter(kind=kind)
    elif kind.endswith(".") and any(value.startswith(kind) for value in AuditKind.values):
        events = events.filter(kind__startswith=kind)
    else:
        kind = ""
    paginator = Paginator(events, 50)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "action": action or "", "kind": kind, "kind_groups": audit_kind_groups()}
    return render(request, "portal/audit_list.html", context)


def _check_database() -> dict[str, Any]:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _check_broker() -> dict[str, Any]:
    from portal.celery import app

    started = time.perf_counter()
    with app.connection_for_write() as conn:
        # One immediate retry (kombu would sleep 2 s before it): a probe must answer quickly.
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return {
        "ok": True,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "custom",
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    checks["worker_heartbeat"] = cache.get("portal:worker-heartbeat")
    healthy = all(isinstance(c, dict) and c.get("ok") for k, c in checks.items() if k != "worker_heartbeat")
    payload = {"status": "ok" if healthy else "error", "checks": checks, "debug": settings.DEBUG}
    return JsonResponse(payload, status=200 if healthy else 503)
