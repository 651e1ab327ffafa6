"""The hazards API in the OpenAPI schema: every endpoint present, described in Chinese, its error answers
documented (the whole schema's validation with --fail-on-warn is tests/test_api_schema.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

CHINESE = re.compile(r"[\u4e00-\u9fff]")
METHODS = ("get", "post", "put", "patch", "delete")
HAZARD_PATHS = (
    "/api/v1/hazards/", "/api/v1/hazard-extensions/", "/api/v1/hazard-evidence/", "/api/v1/hazard-criteria/",
    "/api/v1/work-queue/", "/api/v1/notifications/",
)  # fmt: skip
STEPS = (
    "sign-report", "confirm-town", "confirm-county", "send-back", "supervise", "start-rectification",
    "request-closure", "close", "mark-rectified", "verify", "recheck", "admin-amend",
)  # fmt: skip


@pytest.fixture
def schema(db: None) -> dict[str, Any]:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in schema["paths"].items()
        for method in METHODS
        if method in item and path.startswith(HAZARD_PATHS)
    ]


def test_every_hazard_endpoint_is_in_the_schema(schema: dict[str, Any]) -> None:
    expected = {
        "/api/v1/hazards/": {"get", "post"},
        "/api/v1/hazards/{id}/": {"get", "patch"},
        "/api/v1/hazards/{id}/events/": {"get"},
        "/api/v1/hazards/{id}/evidence/": {"get", "post"},
        "/api/v1/hazards/{id}/extensions/": {"get", "post"},
        "/api/v1/hazard-extensions/": {"get"},
        "/api/v1/hazard-extensions/{id}/": {"get"},
        "/api/v1/hazard-extensions/{id}/decide/": {"post"},
        "/api/v1/hazard-evidence/{id}/": {"get"},
        "/api/v1/hazard-evidence/{id}/file/": {"get"},
        "/api/v1/hazard-criteria/": {"get", "post"},
        "/api/v1/hazard-criteria/{id}/": {"get", "patch"},
        "/api/v1/work-queue/": {"get"},
        "/api/v1/notifications/": {"get"},
        "/api/v1/notifications/mark-read/": {"post"},
        **{f"/api/v1/hazards/{{id}}/{step}/": {"post"} for step in STEPS},
    }
    found = {path: {m for m in METHODS if m in item} for path, item in schema["paths"].items()}
    found = {path: methods for path, methods in found.items() if path.startswith(HAZARD_PATHS)}
    assert found == expected


def test_hazard_operations_are_described_in_chinese(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    assert len(ops) == 33
    for path, method, operation in ops:
        where = f"{method.upper()} {path}"
        assert CHINESE.search(operation.get("summary", "")), where
        assert CHINESE.search(operation.get("description", "")), where
        assert operation["tags"] and all(CHINESE.search(tag) for tag in operation["tags"]), where
        for parameter in operation.get("parameters", []):
            assert CHINESE.search(parameter.get("description", "")), (where, parameter["name"])
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                assert CHINESE.search(response["description"]), (where, code)


def test_hazard_components_describe_their_fields_in_chinese(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    names = [
        "Hazard", "HazardDetail", "HazardReportInputRequest", "PatchedHazardUpdateInputRequest", "StepInputRequest",
        "SendBackInputRequest", "SuperviseInputRequest", "StartRectificationInputRequest", "Criterion",
        "EvidenceUploadRequest", "Extension", "Event", "Evidence", "Notification", "WorkQueueItem",
    ]  # fmt: skip
    for name in names:
        assert name in components, name
        for field, spec in components[name].get("properties", {}).items():
            if "$ref" in spec or "allOf" in spec:
                continue
            assert CHINESE.search(spec.get("description", "") + spec.get("title", "")), (name, field)


def test_error_answers_are_documented(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        where = f"{method.upper()} {path}"
        assert "401" in codes, where
        if "{id}" in path:
            assert "404" in codes, where
        if method in {"post", "patch"} and path != "/api/v1/notifications/mark-read/":
            assert {"400", "403"} <= codes, where
        if path.rstrip("/").rsplit("/", 1)[-1] in STEPS or path.endswith("/decide/"):
            assert "409" in codes, where
        assert {"tokenAuth", "cookieAuth"} == {name for item in operation["security"] for name in item}, where


def test_filters_are_in_the_schema(schema: dict[str, Any]) -> None:
    params = {p["name"]: p for p in schema["paths"]["/api/v1/hazards/"]["get"]["parameters"]}
    assert {"q", "level", "status", "town", "enterprise", "category", "overdue", "supervised"} <= set(params)
    assert {"page", "page_size", "ordering"} <= set(params)
    assert params["overdue"]["schema"]["type"] == "boolean"
    assert params["town"]["schema"]["type"] == "integer"
