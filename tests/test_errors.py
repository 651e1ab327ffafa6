"""An unexpected error answers in the client's language: JSON under /api/, the Chinese page elsewhere."""

from __future__ import annotations

import json

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from portal.errors import API_MESSAGE


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [path("api/v1/boom/", _boom), path("boom/", _boom)]
handler500 = "portal.errors.server_error"


@pytest.fixture
def raw_client(settings: object) -> Client:
    settings.ROOT_URLCONF = __name__  # type: ignore[attr-defined]
    client = Client(raise_request_exception=False)
    return client


@pytest.mark.django_db
def test_an_api_error_is_json_in_chinese_without_internals(raw_client: Client) -> None:
    response = raw_client.get("/api/v1/boom/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body == {"detail": API_MESSAGE}
    assert b"hunter2" not in response.content and b"Traceback" not in response.content


@pytest.mark.django_db
def test_a_page_error_is_the_chinese_page(raw_client: Client) -> None:
    response = raw_client.get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "服务暂时不可用" in text and "hunter2" not in text


def test_the_project_urlconf_uses_the_handler() -> None:
    import portal.urls

    assert portal.urls.handler500 == "portal.errors.server_error"
