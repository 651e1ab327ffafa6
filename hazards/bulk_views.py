"""The bulk step of the 待办 page (hazards.bulk): one comment, many hazards, one result per hazard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hazards import bulk
from hazards.choices import HazardAction
from portal.limits import TEXT_COMMENT
from portal.models import User


@login_required
@require_POST
def bulk_step(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    action = request.POST.get("action", "")
    allowed = dict(bulk.bulk_actions_for(user))
    ids = [int(value) for value in request.POST.getlist("hazards") if value.isdigit() and len(value) < 12]
    comment = request.POST.get("comment", "").strip()
    error = ""
    if action not in allowed:
        error = "请选择要批量办理的事项。"
    elif not ids:
        error = "请勾选要办理的隐患。"
    elif len(ids) > bulk.MAX_ITEMS:
        error = f"一次最多批量办理 {bulk.MAX_ITEMS} 项隐患。"
    elif len(comment) > TEXT_COMMENT:
        error = f"意见不能超过 {TEXT_COMMENT} 字。"
    if error:
        messages.error(request, error)
        return redirect("hazards:work-queue")
    results = bulk.hazard_bulk_step(actor=user, action=action, hazard_ids=ids, comment=comment)
    done = sum(1 for r in results if r.ok)
    context = {
        "results": results,
        "label": HazardAction(action).label,
        "done": done,
        "refused": len(results) - done,
        "comment": comment,
        "active_tab": "queue",
    }
    return render(request, "hazards/bulk_result.html", context)
