"""API tokens for tests: issued by the service, as the login endpoint issues them."""

from __future__ import annotations

from portal.models import User
from portal.tokens.models import ApiToken, hash_key
from portal.tokens.services import api_token_issue


def issue_token(user: User, device: str = "测试") -> str:
    """A new API token of `user` (the key, as the client gets it)."""
    return api_token_issue(user=user, device=device)[1]


def token_row(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=hash_key(key))
