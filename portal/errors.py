"""The 500 page with DEBUG=0: JSON for API clients, the standalone Chinese page for browsers.

Django's own handler answers every path with templates/500.html, so an API client that sent JSON got an
HTML page back. The page itself loads nothing (no static files, no context processors): whatever broke
may be what a richer page would need.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
API_MESSAGE = "服务器处理请求时出错，本次操作未完成。请稍后重试；如果问题持续出现，请联系系统管理员。"


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": API_MESSAGE}, status=500, json_dumps_params={"ensure_ascii": False})
    return defaults.server_error(request)
