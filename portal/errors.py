"""Error answers with DEBUG=0: JSON for API clients, the standalone Chinese pages for browsers.

Django's own handlers answer every path with templates/4xx.html / 500.html (or, without them, an English
"Not Found"), so an API client that sent JSON got an HTML page back. The pages themselves load nothing (no
static files, no context processors): whatever broke may be what a richer page would need. Also here:
/favicon.ico, which browsers ask for on every page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

API_PREFIX = "/api/"
API_MESSAGE = "服务器处理请求时出错，本次操作未完成。请稍后重试；如果问题持续出现，请联系系统管理员。"
API_NOT_FOUND = "对象不存在，或不在您的数据范围内。"
API_FORBIDDEN = "您的角色无权进行此操作。"


def _json(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(API_MESSAGE, 500)
    return defaults.server_error(request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(API_NOT_FOUND, 404)
    return defaults.page_not_found(request, exception or Exception())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(API_FORBIDDEN, 403)
    return defaults.permission_denied(request, exception or Exception())


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest, *args: Any) -> HttpResponse:
    return HttpResponseRedirect(static("portal/favicon.ico"))
