"""The lockout keys on user name + client address; behind the documented TLS proxy the address comes from the
proxy's X-Forwarded-For (TRUSTED_PROXY_COUNT), so one client's failures do not lock everyone out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from portal.choices import AuditAction
from portal.client_ip import client_ip
from portal.models import AuditEvent
from tests.conftest import Cast
from tests.factories import TEST_PASSWORD

PROXY = "10.0.0.1"


def _via_proxy(client_address: str, forged: str = "") -> dict[str, str]:
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


def _fail(times: int, username: str, **meta: str) -> None:
    for _ in range(times):
        Client(**meta).post("/login/", {"username": username, "password": "wrong"})


@pytest.mark.parametrize(
    ("count", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "192.0.2.7"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "203.0.113.9"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, PROXY),  # not through both proxies
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-address"}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "2001:db8::1"}, "2001:db8::1"),
    ],
)
def test_the_client_address(settings: Any, count: int, meta: dict[str, str], expected: str) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected


def test_behind_the_proxy_one_client_locks_only_itself(cast: Cast, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    _fail(settings.AXES_FAILURE_LIMIT, "town_a", **_via_proxy("203.0.113.9"))
    locked = Client(**_via_proxy("203.0.113.9"))
    assert locked.post("/login/", {"username": "town_a", "password": TEST_PASSWORD}).status_code == 429
    # A forged header does not get the same client out of its lock …
    forged = Client(**_via_proxy("203.0.113.9", forged="198.51.100.1"))
    assert forged.post("/login/", {"username": "town_a", "password": TEST_PASSWORD}).status_code == 429
    # … while the account's owner at another address, through the same proxy, logs in (web and API).
    owner = Client(**_via_proxy("198.51.100.20"))
    assert owner.post("/login/", {"username": "town_a", "password": TEST_PASSWORD}).status_code == 302
    api = APIClient(**_via_proxy("198.51.100.21"))
    response = api.post("/api/v1/auth/token/", {"username": "town_a", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    # The audit log records the client, not the proxy.
    addresses = set(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).values_list("ip_address", flat=True))
    assert addresses == {"203.0.113.9"}
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, ip_address="198.51.100.20").exists()


def test_without_a_trusted_proxy_the_header_is_ignored(cast: Cast, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    _fail(settings.AXES_FAILURE_LIMIT, "town_a", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    # Another X-Forwarded-For from the same address changes nothing: the lock is on REMOTE_ADDR.
    client = Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert client.post("/login/", {"username": "town_a", "password": TEST_PASSWORD}).status_code == 429
    assert (
        Client(REMOTE_ADDR="192.0.2.8").post("/login/", {"username": "town_a", "password": TEST_PASSWORD}).status_code
        == 302
    )
    # The lock is per user name: another account from the locked address still logs in.
    assert (
        Client(REMOTE_ADDR="192.0.2.7").post("/login/", {"username": "town_b", "password": TEST_PASSWORD}).status_code
        == 302
    )
