"""DRF's exception handler, with the parse errors it words in English said in Chinese.

DRF builds "Multipart form parse error - ..." and "JSON parse error - ..." from the parser's own
exception text, which no translation catalogue covers; an API client of a county bureau should read
what went wrong in the same language as every other message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NOT_FOUND = "对象不存在，或不在您的数据范围内。"
FORBIDDEN = "您的角色无权进行此操作。"
CSRF_FAILED = "CSRF 校验失败：以网页登录调用接口时，写操作须带 X-CSRFToken 请求头。请刷新页面后重试。"
PARSE_MESSAGES = {
    "Multipart form parse error": "上传的表单数据无法解析（例如文件名过长或内容不完整），请检查后重新提交。",
    "JSON parse error": "请求内容不是有效的 JSON，请检查后重新提交。",
}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's get_object_or_404 says "No Enterprise matches the given query.": every 404 and 403 of the API
    # answers in Chinese (a view's own Chinese message is kept).
    if isinstance(exc, Http404):
        message = str(exc.args[0]) if exc.args else ""
        exc = NotFound(message if _chinese(message) else NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        message = str(exc.args[0]) if exc.args else ""
        exc = PermissionDenied(message if _chinese(message) else FORBIDDEN)
    elif isinstance(exc, PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        exc = PermissionDenied(CSRF_FAILED)
    elif isinstance(exc, NotFound | PermissionDenied) and not _chinese(str(exc.detail)):
        exc = NotFound(NOT_FOUND) if isinstance(exc, NotFound) else PermissionDenied(FORBIDDEN)
    if isinstance(exc, ParseError):
        text = str(exc.detail)
        for prefix, message in PARSE_MESSAGES.items():
            if text.startswith(prefix):
                exc = ParseError(message)
                break
    return drf_exception_handler(exc, context)
