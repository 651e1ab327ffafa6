"""DRF's exception handler, with the parse errors it words in English said in Chinese.

DRF builds "Multipart form parse error - ..." and "JSON parse error - ..." from the parser's own
exception text, which no translation catalogue covers; an API client of a county bureau should read
what went wrong in the same language as every other message.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PARSE_MESSAGES = {
    "Multipart form parse error": "上传的表单数据无法解析（例如文件名过长或内容不完整），请检查后重新提交。",
    "JSON parse error": "请求内容不是有效的 JSON，请检查后重新提交。",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ParseError):
        text = str(exc.detail)
        for prefix, message in PARSE_MESSAGES.items():
            if text.startswith(prefix):
                exc = ParseError(message)
                break
    return drf_exception_handler(exc, context)
