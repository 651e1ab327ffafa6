"""With DEBUG=0 every denial reads in Chinese: the 404 and 403 pages, the API's 404s and 403s (no "No Enterprise
matches the given query."), and /favicon.ico is there (no 404 on every page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.conftest import Cast, World
from tests.token_helpers import issue_token

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def production(settings: Any) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_a_scope_denial_is_the_chinese_404_page(production: None, world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.town_b_staff)
    response = client.get(f"/enterprises/{world.enterprise_a.pk}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and '<html lang="zh-CN">' in body
    assert "Not Found" not in body and "requested resource" not in body
    assert client.get("/no-such-page/").content.decode().count("页面不存在") >= 1


def test_a_role_denial_is_the_chinese_403_page(production: None, world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    response = client.get(f"/enterprises/{world.enterprise_a.pk}/edit/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权操作" in body and "403 Forbidden" not in body


def test_a_csrf_failure_is_chinese(production: None, cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "town_a", "password": "x"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_unknown_api_paths_answer_json_in_chinese(production: None, cast: Cast) -> None:
    response = Client().get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert CHINESE.search(response.json()["detail"])


def test_every_api_404_and_403_is_in_chinese(production: None, world: World, cast: Cast) -> None:
    """The class: every operation with an id, for an id nobody has, answers 404 with a Chinese detail."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(cast.county_staff)}")
    schema = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for path, item in schema["paths"].items():
        if "{id}" not in path:
            continue
        url = path.replace("{id}", "987654321")
        for method in ("get", "post", "patch", "put", "delete"):
            if method not in item:
                continue
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code in (400, 403, 404), (method, path, response.status_code)
            detail = response.json().get("detail", "") if isinstance(response.json(), dict) else ""
            if response.status_code in (403, 404):
                assert CHINESE.search(str(detail)), (method, path, detail)
                assert "matches the given query" not in str(detail)
            checked += 1
    assert checked >= 30
    # An existing enterprise out of scope reads the same.
    other = client.get(f"/api/v1/enterprises/{world.enterprise_other.pk}/")
    assert other.status_code == 404 and other.json()["detail"] == "对象不存在，或不在您的数据范围内。"


def test_the_favicon_is_served(production: None, db: None) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/portal/favicon")
    assert finders.find("portal/favicon.ico")
    with open(finders.find("portal/favicon.ico"), "rb") as icon:  # type: ignore[arg-type]
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_pages_link_the_icon(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    assert 'rel="icon"' in client.get("/").content.decode()
