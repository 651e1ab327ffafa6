"""drf-spectacular postprocessing: the error answers every operation can give, documented where a view
did not list them itself (found by schemathesis, tests/security/test_api_fuzz.py).

- 401: every operation that needs a login (a missing or wrong token).
- 404: every operation on `{id}` (not found, or outside the user's scope), and every paginated list
  (a page number past the last page: DRF answers 404 "无效页面").
- 400: every list or nested list with filter parameters (a value the filter does not accept).

A response a view documents itself is never replaced.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
# Query parameters that never answer 400: DRF ignores a bad page size or ordering.
NOT_FILTERS = {"page", "page_size", "ordering", "format"}


def _error(description: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": description,
    }


def _field_errors() -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
        "description": '筛选条件有误：按参数列出的中文错误信息，例如 {"enterprise": ["…"]}。',
    }


def document_generic_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    if "Error" not in result.get("components", {}).get("schemas", {}):
        return result
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            security = operation.get("security")
            if security and {} not in security:
                responses.setdefault("401", _error("未登录，或令牌无效。"))
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "{id}" in path:
                responses.setdefault("404", _error("对象不存在，或不在您的数据范围内。"))
            if method == "get" and "page" in query:
                responses.setdefault("404", _error("页码超出范围（无效页面）。"))
            if method == "get" and query - NOT_FILTERS:
                responses.setdefault("400", _field_errors())
    return result
