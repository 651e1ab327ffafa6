"""The OpenAPI schema (/api/schema/) and the docs page (/api/docs/).

The schema must validate with no warning, describe every operation in Chinese and document the
error answers the API really gives (schemathesis relies on that). The docs page must load only
local assets and work under the portal's CSP (`script-src 'self'`, `style-src 'self'`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from tests.conftest import Cast

CHINESE = re.compile(r"[\u4e00-\u9fff]")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(db: None) -> dict[str, Any]:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


# The directory's endpoints (other apps add theirs under /api/v1/ too; they are held to the same
# validation by test_schema_validates_without_warnings).
DIRECTORY = (
    "/api/v1/auth/", "/api/v1/me/", "/api/v1/regions/", "/api/v1/enterprises/", "/api/v1/parent-companies/",
    "/api/v1/people/", "/api/v1/users/", "/api/v1/audit-events/",
)  # fmt: skip


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in schema["paths"].items()
        for method in METHODS
        if method in item and path.startswith(DIRECTORY)
    ]


def test_schema_validates_without_warnings(db: None, tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("openapi: 3.")
    assert "非煤矿山安全监管门户 API" in text


def test_schema_covers_every_endpoint(schema: dict[str, Any]) -> None:
    expected = {
        "/api/v1/auth/token/": {"post"},
        "/api/v1/auth/tokens/": {"get"},
        "/api/v1/auth/tokens/{id}/": {"delete"},
        "/api/v1/auth/logout/": {"post"},
        "/api/v1/auth/logout-all/": {"post"},
        "/api/v1/me/": {"get"},
        "/api/v1/me/tasks/": {"get"},
        "/api/v1/regions/": {"get"},
        "/api/v1/regions/{id}/": {"get"},
        "/api/v1/enterprises/": {"get", "post"},
        "/api/v1/enterprises/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/parent-companies/": {"get", "post"},
        "/api/v1/parent-companies/{id}/": {"get", "put", "patch", "delete"},
        "/api/v1/people/": {"get"},
        "/api/v1/people/{id}/": {"get"},
        "/api/v1/users/": {"get", "post"},
        "/api/v1/users/{id}/": {"get", "put", "patch"},
        "/api/v1/users/{id}/reset-two-factor/": {"post"},
        "/api/v1/audit-events/": {"get"},
        "/api/v1/audit-events/{id}/": {"get"},
    }
    found = {
        path: {m for m in METHODS if m in item} for path, item in schema["paths"].items() if path.startswith(DIRECTORY)
    }
    assert found == expected


def test_every_operation_is_described_in_chinese(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert CHINESE.search(operation.get("summary", "")), where
        assert CHINESE.search(operation.get("description", "")), where
        assert operation["tags"] and all(CHINESE.search(tag) for tag in operation["tags"]), where
        for parameter in operation.get("parameters", []):
            assert CHINESE.search(parameter.get("description", "")), (where, parameter["name"])
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                assert CHINESE.search(response["description"]), (where, code)
    directory_components = {
        "Region", "Enterprise", "EnterpriseInputRequest", "PatchedEnterpriseInputRequest", "ParentCompany",
        "ParentCompanyInputRequest", "PatchedParentCompanyInputRequest", "Person", "User", "UserCreateRequest",
        "UserUpdateRequest", "PatchedUserUpdateRequest", "Me", "MePermissions", "AuditEvent", "LoginRequest", "Token",
        "Error", "ApiToken", "SignOut",
        "TaskSection", "TaskItem",
    }  # fmt: skip
    components = schema["components"]["schemas"]
    assert directory_components <= set(components)
    for name in directory_components:
        component = components[name]
        for field, spec in component.get("properties", {}).items():
            text = spec.get("description", "") + spec.get("title", "")
            if "$ref" in spec or "allOf" in spec:
                continue
            assert CHINESE.search(text), (name, field)


def test_error_answers_are_documented(schema: dict[str, Any]) -> None:
    """The codes the API gives are in the schema, so that a fuzzer sees no undocumented status."""
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        where = f"{method.upper()} {path}"
        if path == "/api/v1/auth/token/":
            assert {"200", "400", "429"} <= codes, where
            assert operation.get("security") in (None, [], [{}]), where
            continue
        assert "401" in codes, where
        if "{id}" in path or (method == "get" and path not in ("/api/v1/me/", "/api/v1/me/tasks/")):
            assert "404" in codes, where
        if method in {"post", "put", "patch"}:
            assert {"400", "403"} <= codes, where
        if method == "delete":
            assert {"204", "403", "404", "409"} <= codes, where
        if path.startswith(("/api/v1/users/", "/api/v1/audit-events/")):
            assert "403" in codes, where
        assert {"tokenAuth", "cookieAuth"} == {name for item in operation["security"] for name in item}, where


def test_filters_and_pagination_are_in_the_schema(schema: dict[str, Any]) -> None:
    params = {p["name"]: p for p in schema["paths"]["/api/v1/enterprises/"]["get"]["parameters"]}
    assert {"q", "town", "industry", "production_status", "risk_grade", "active", "parent_company"} <= set(params)
    assert {"page", "page_size", "ordering"} <= set(params)
    assert params["active"]["schema"]["type"] == "boolean"
    assert params["town"]["schema"]["type"] == "integer"
    assert "-name" in params["ordering"]["schema"]["enum"]
    people = {p["name"]: p for p in schema["paths"]["/api/v1/people/"]["get"]["parameters"]}
    assert people["enterprise"]["schema"]["type"] == "integer"


def test_warnings_endpoints_are_in_the_schema(schema: dict[str, Any]) -> None:
    """The one warnings engine's list (filters kind, region, enterprise, open) and the handling endpoint."""
    listing = schema["paths"]["/api/v1/warnings/"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"kind", "region", "enterprise", "open", "month"} <= set(params)
    assert "overdue_hazard" in params["kind"]["schema"]["enum"] and "licence_expiry" in params["kind"]["schema"]["enum"]
    assert params["enterprise"]["schema"]["type"] == "integer"
    resolve = schema["paths"]["/api/v1/warnings/resolve/"]
    assert set(resolve) & set(METHODS) == {"post"}
    assert {"200", "400", "401", "403"} <= set(resolve["post"]["responses"])
    body = resolve["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"key", "note", "record"} <= set(schema["components"]["schemas"][body]["properties"])
    row = listing["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].rsplit("/", 1)[1]
    assert {"key", "kind", "severity", "subject", "on", "url", "resolution"} <= set(
        schema["components"]["schemas"][row]["properties"]
    )


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str] = []
        self.links: list[str] = []
        self.style_elements = 0
        self.style_attributes = 0
        self._in_script = False
        self.inline_script = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.style_attributes += 1
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in_script = True
        elif tag == "style":
            self.style_elements += 1
        elif tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script += data.strip()


def test_docs_page_loads_local_assets_only(db: None) -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    page = _Assets()
    page.feed(response.content.decode())
    assert page.scripts and all(page.scripts), "every script must have a src (no inline script)"
    assert page.inline_script == ""
    assert page.style_elements == 0 and page.style_attributes == 0
    static = [url for url in [*page.scripts, *page.links] if url and url.startswith("/static/")]
    others = [url for url in [*page.scripts, *page.links] if url and not url.startswith("/static/")]
    assert others == ["/api/docs/?script="], others  # the init script, served by the docs view itself
    assert any("swagger-ui-bundle.js" in url for url in static)
    for url in static:
        assert finders.find(url.removeprefix("/static/")), url
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content and b'"/api/schema/"' in script.content


@pytest.mark.browser
def test_docs_page_works_in_chromium_under_the_csp(live_server: Any, page_factory: Any, cast: Cast) -> None:
    page = page_factory()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    # Logged in with a session, "Try it out" reaches the API as that user.
    client = Client()
    client.force_login(cast.town_a_staff)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 25
    assert page.get_by_text("企业列表", exact=True).count() == 1
    # Swagger UI's own stylesheet applied (served locally).
    assert page.evaluate("getComputedStyle(document.querySelector('.swagger-ui .opblock')).borderRadius") == "4px"

    me = page.locator("#operations-认证-v1_me_retrieve")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    status = me.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"username": "town_a"' in me.locator(".live-responses-table .microlight").first.inner_text()

    assert page.evaluate("window.__csp") == []
    assert not console_errors, console_errors
    assert not failed, failed
