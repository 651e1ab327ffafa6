"""The client's address: REMOTE_ADDR, or — behind trusted reverse proxies — the address the outermost of them
saw, read from X-Forwarded-For. Used by the lockout (django-axes, per user name + address) and the audit log.

TRUSTED_PROXY_COUNT is the number of proxies in front of the portal that each append to X-Forwarded-For
(nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`). With N of them, the client is the
N-th entry from the right; whatever a client wrote to the left of it is ignored, so a forged header changes
nothing. 0 (the default) trusts no header: REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _valid(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    meta = getattr(request, "META", {}) or {}
    remote = meta.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    if len(forwarded) < count:
        # Not (all) through the proxies: the one address we know.
        return remote
    return _valid(forwarded[-count]) or remote
