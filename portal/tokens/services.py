"""Writes of API tokens and sign-outs: every issue and every revocation writes an audit row.

A token is revoked by its owner (one device, or 「退出所有设备」), by a password change or reset, by
deactivating the account, and when two-step verification is switched on or reset (a token issued on the
password alone must not outlive it). Expired tokens stop working at once (`authentication`) and are
deleted by the nightly `portal.tasks.purge_expired_api_tokens`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from portal import audit_events
from portal.audit import current_ip
from portal.models import User
from portal.tokens.models import ApiToken, absolute_lifetime, hash_key, idle_lifetime

KEY_BYTES = 30  # 40 characters of URL-safe base64


def _describe(token: ApiToken) -> dict[str, Any]:
    return {"token": f"{token.prefix}…", "device": token.device}


@transaction.atomic
def api_token_issue(*, user: User, device: str = "") -> tuple[ApiToken, str]:
    """A new token for one device; returns the row and the key (shown to the client once, never stored)."""
    if not user.is_active:
        raise ValueError("inactive user")
    key = secrets.token_urlsafe(KEY_BYTES)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_key(key),
        prefix=key[:8],
        device=device.strip()[:200],
        created_at=now,
        expires_at=now + absolute_lifetime(),
        created_ip=current_ip.get(),
        auth_hash=user.get_session_auth_hash(),
    )
    audit_events.token_issued(
        user=user,
        token=_describe(token),
        detail=f"签发 API 令牌 {token.prefix}…，闲置 {_hours(idle_lifetime())} 小时或满 "
        f"{_hours(absolute_lifetime())} 小时后失效",
    )
    return token, key


def _hours(delta: dt.timedelta) -> int:
    return round(delta.total_seconds() / 3600)


def _revoke(*, actor: User | None, tokens: list[ApiToken], reason: str, actor_name: str = "") -> int:
    ApiToken.objects.filter(pk__in=[token.pk for token in tokens]).delete()
    for token in tokens:
        audit_events.token_revoked(
            actor=actor, user=token.user, token=_describe(token), reason=reason, actor_name=actor_name
        )
    return len(tokens)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken, reason: str = "用户作废") -> None:
    """One token, by its owner (the view looked it up among `ApiToken.objects.owned_by(actor)`)."""
    if token.user_id != actor.pk:
        raise ValueError("a token is revoked by its owner only")
    _revoke(actor=actor, tokens=[token], reason=reason)


@transaction.atomic
def api_token_revoke_all(*, actor: User | None, user: User, reason: str, actor_name: str = "") -> int:
    """Every token of `user` (password change or reset, deactivation, two-step verification changed)."""
    tokens = list(ApiToken.objects.filter(user=user).select_related("user").select_for_update(of=("self",)))
    return _revoke(actor=actor, tokens=tokens, reason=reason, actor_name=actor_name)


def _user_sessions(user: User) -> list[Session]:
    """The live database sessions logged in as `user` (the session store is the database)."""
    found = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) == str(user.pk):
            found.append(session)
    return found


def session_ref(session_key: str) -> str:
    """How a page names a session: a digest (the key itself is a credential and is never shown)."""
    return hash_key(session_key)[:20]


def user_session_list(*, user: User) -> list[dict[str, Any]]:
    """The user's live web sessions: reference and expiry (idle end), newest expiry first."""
    sessions = sorted(_user_sessions(user), key=lambda s: s.expire_date, reverse=True)
    return [{"ref": session_ref(s.session_key), "expire_date": s.expire_date, "key": s.session_key} for s in sessions]


def user_session_count(*, user: User) -> int:
    return len(_user_sessions(user))


@transaction.atomic
def user_session_end(*, actor: User, ref: str) -> bool:
    """Ends one of the actor's own web sessions (named by its reference); False when there is none such."""
    for session in _user_sessions(actor):
        if session_ref(session.session_key) == ref:
            Session.objects.filter(session_key=session.session_key).delete()
            audit_events.session_ended(user=actor, ref=ref)
            return True
    return False


@transaction.atomic
def user_sign_out_everywhere(*, actor: User, user: User) -> tuple[int, int]:
    """「退出所有设备」: every API token and every web session of the user; returns (tokens, sessions)."""
    if actor.pk != user.pk:
        raise ValueError("only the user signs themselves out everywhere")
    tokens = api_token_revoke_all(actor=actor, user=user, reason="退出所有设备")
    sessions = _user_sessions(user)
    Session.objects.filter(session_key__in=[s.session_key for s in sessions]).delete()
    audit_events.signed_out_everywhere(actor=actor, user=user, tokens=tokens, sessions=len(sessions))
    return tokens, len(sessions)


@transaction.atomic
def api_token_purge_expired() -> int:
    """Deletes the tokens past their lifetime (they already stopped working); one audit row per token."""
    alive = ApiToken.objects.alive().values("pk")
    expired = list(ApiToken.objects.exclude(pk__in=alive).select_related("user"))
    return _revoke(actor=None, tokens=expired, reason="已过期，自动清除", actor_name="系统任务")


__all__ = [
    "api_token_issue",
    "api_token_purge_expired",
    "api_token_revoke",
    "api_token_revoke_all",
    "session_ref",
    "user_session_count",
    "user_session_end",
    "user_session_list",
    "user_sign_out_everywhere",
]
