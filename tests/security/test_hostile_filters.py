"""Every list page's filter parameters, with hostile values, answer without a server error; an out-of-scope id
in a filter is logged as 越权访问 like a direct lookup (pages and API)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World

HOSTILE = [
    "99999999999999999999",
    "-1",
    "0",
    "a/b",
    "../../etc/passwd",
    "中文",
    "",
    "1.5",
    "NaN",
    "2024-13-45",
    "' OR '1'='1",
    "<script>x</script>",
    "%",
    "x" * 300,
]
SKIP_PREFIXES = ("admin/", "api/", "otp/", "static/", "media/", "favicon", "logout", "healthz")


def _walk(resolver: Any, prefix: str = "") -> list[str]:
    found: list[str] = []
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _walk(pattern, prefix + route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(?P" not in route and "^" not in route:
            found.append(prefix + route)
    return found


def list_pages() -> list[str]:
    return sorted({"/" + path for path in _walk(get_resolver()) if not path.startswith(SKIP_PREFIXES)})


def get_forms(html: str, page: str) -> list[tuple[str, list[str]]]:
    """(action, parameter names) of every GET form of the page."""
    forms = []
    for attributes, body in re.findall(r"<form([^>]*)>(.*?)</form>", html, re.S | re.I):
        if re.search(r'method="post"', attributes, re.I):
            continue
        action = re.search(r'action="([^"]*)"', attributes)
        names = sorted(set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', body)))
        names = [name for name in names if name != "csrfmiddlewaretoken"]
        if names:
            forms.append(((action.group(1) if action and action.group(1) else page), names))
    return forms


def test_every_list_page_survives_hostile_filter_values(world: World, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    walked = 0
    failures: list[str] = []
    for page in list_pages():
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for action, names in get_forms(response.content.decode(), page):
            for name in [*names, "page", "page_size", "ordering"]:
                for value in HOSTILE:
                    url = f"{action}?{urlencode({name: value})}"
                    answer = client.get(url)
                    if answer.status_code >= 500:
                        failures.append(f"{url} → {answer.status_code}")
                    walked += 1
                # The parameter given twice (a list), and every parameter hostile at once.
                pair = client.get(f"{action}?{urlencode([(name, '1'), (name, 'a/b')])}")
                if pair.status_code >= 500:
                    failures.append(f"{action} {name}×2 → {pair.status_code}")
            everything = client.get(f"{action}?{urlencode({name: HOSTILE[0] for name in names})}")
            if everything.status_code >= 500:
                failures.append(f"{action} all → {everything.status_code}")
    assert not failures, failures
    assert walked > 500, walked


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("/reports/open/?kind=accountability&region=a/b&month=2024-05", None),
        ("/hazards/?town=99999999999999999999", None),
        ("/enterprises/?town=99999999999999999999", None),
    ],
)
def test_the_reported_500s(world: World, cast: Cast, url: str, region: Any) -> None:
    client = Client()
    client.force_login(cast.county_staff)
    response = client.get(url)
    assert response.status_code in (200, 302, 400, 404), response.status_code


def _denied(user: Any) -> int:
    return AuditEvent.objects.filter(action=AuditAction.DENIED, actor=user).count()


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("/api/v1/hazards/?town={pk}", "other_town"),
        ("/api/v1/hazards/?enterprise={pk}", "enterprise_other"),
        ("/api/v1/enterprises/?town={pk}", "other_town"),
        ("/api/v1/enforcement-records/?town={pk}", "other_town"),
    ],
)
def test_an_out_of_scope_id_in_an_api_filter_is_logged(world: World, cast: Cast, url: str, target: str) -> None:
    client = APIClient()
    client.force_authenticate(cast.county_staff)
    response = client.get(url.format(pk=getattr(world, target).pk))
    assert response.status_code == 400
    assert _denied(cast.county_staff) == 1
    # An id that names nothing is a plain 400, not an attempt on another scope; nor is an in-scope one.
    assert client.get(url.format(pk=987654321)).status_code == 400
    assert client.get(url.format(pk=99999999999999999999)).status_code == 400
    in_scope = world.town_a if target.endswith("town") else world.enterprise_a
    assert client.get(url.format(pk=in_scope.pk)).status_code == 200
    assert _denied(cast.county_staff) == 1


@pytest.mark.parametrize(
    ("url", "target"),
    [("/hazards/?town={pk}", "other_town"), ("/hazards/?enterprise={pk}", "enterprise_other"),
     ("/enterprises/?town={pk}", "other_town")],
)  # fmt: skip
def test_an_out_of_scope_id_in_a_page_filter_is_logged(world: World, cast: Cast, url: str, target: str) -> None:
    client = Client()
    client.force_login(cast.town_a_staff)
    response = client.get(url.format(pk=getattr(world, target).pk))
    assert response.status_code < 500
    assert _denied(cast.town_a_staff) == 1
    assert world.enterprise_other.name not in response.content.decode()


@pytest.mark.parametrize(
    ("member", "url", "target"),
    [
        ("county_staff", "/api/v1/people/?enterprise={pk}", "enterprise_other"),
        ("county_staff", "/api/v1/regions/?parent={pk}", "other_county"),
        ("admin", "/api/v1/users/?region={pk}", "other_county"),
        ("admin", "/api/v1/users/?enterprise={pk}", "enterprise_other"),
    ],
)
def test_an_out_of_scope_id_in_an_id_filter_matches_nothing_and_is_logged(
    world: World, cast: Cast, member: str, url: str, target: str
) -> None:
    user = getattr(cast, member)
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url.format(pk=getattr(world, target).pk))
    assert response.status_code == 200 and response.json()["count"] == 0
    assert _denied(user) == 1
    assert client.get(url.format(pk=987654321)).json()["count"] == 0
    assert _denied(user) == 1
