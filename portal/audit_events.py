"""Audit events of the directory, accounts and sign-in, and the plain record events every app uses.

One function per `AuditKind` (as Saleor's order/events.py): the call site says what happened, the
function decides the row (kind, the older `action`, the structured `extra`, the Chinese summary users
read). Each calls the one low-level writer, `portal.audit.audit_write`.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.audit import audit_write, diff
from portal.choices import AuditAction, AuditKind
from portal.models import AuditEvent, User

# Account fields whose change grants or withdraws power: a change of any of them is a role grant.
GRANT_FIELDS = ("role", "region", "enterprise", "is_superuser", "is_staff", "is_active")


def _model(instance: models.Model) -> str:
    return instance._meta.label_lower


# --- Plain records (any app) -------------------------------------------------------------------


def record_created(
    *,
    actor: User | None,
    instance: models.Model,
    after: dict[str, Any] | None = None,
    detail: str = "",
    actor_name: str = "",
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.RECORD_CREATED, action=AuditAction.CREATE, actor=actor, instance=instance,
        extra={"model": _model(instance)}, after=after, detail=detail, actor_name=actor_name,
    )  # fmt: skip


def record_updated(
    *,
    actor: User | None,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    actor_name: str = "",
) -> AuditEvent:
    changed = sorted(diff(before, after)) if before is not None and after is not None else []
    return audit_write(
        kind=AuditKind.RECORD_UPDATED, action=AuditAction.UPDATE, actor=actor, instance=instance,
        extra={"model": _model(instance), "changed": changed}, before=before, after=after, detail=detail,
        actor_name=actor_name,
    )  # fmt: skip


def record_deleted(
    *, actor: User | None, instance: models.Model, before: dict[str, Any] | None = None, detail: str = ""
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.RECORD_DELETED, action=AuditAction.DELETE, actor=actor, instance=instance,
        extra={"model": _model(instance)}, before=before, detail=detail,
    )  # fmt: skip


def thumbnail_made(*, instance: models.Model) -> AuditEvent:
    return audit_write(
        kind=AuditKind.FILE_THUMBNAIL_MADE, action=AuditAction.UPDATE, actor=None, instance=instance,
        extra={"model": _model(instance)}, detail="生成缩略图",
    )  # fmt: skip


# --- Sign-in and access ------------------------------------------------------------------------


def logged_in(*, user: User) -> AuditEvent:
    return audit_write(kind=AuditKind.AUTH_LOGIN, action=AuditAction.LOGIN, actor=user, instance=user)


def logged_out(*, user: User) -> AuditEvent:
    return audit_write(kind=AuditKind.AUTH_LOGOUT, action=AuditAction.LOGOUT, actor=user, instance=user)


def login_failed(*, user: User | None, username: str) -> AuditEvent:
    # No region path of its own: an unknown name is filed under no county, a known one under the account's.
    return audit_write(
        kind=AuditKind.AUTH_LOGIN_FAILED, action=AuditAction.LOGIN_FAILED, actor=None, instance=user,
        actor_name=username, extra={"username": username}, detail="用户名或密码错误",
    )  # fmt: skip


def signed_out_everywhere(*, actor: User, user: User, tokens: int, sessions: int) -> AuditEvent:
    return audit_write(
        kind=AuditKind.AUTH_SIGNED_OUT_EVERYWHERE, action=AuditAction.LOGOUT, actor=actor, instance=user,
        extra={"tokens": tokens, "sessions": sessions},
        detail=f"退出所有设备：作废 {tokens} 个 API 令牌，结束 {sessions} 个网页会话",
    )  # fmt: skip


def session_ended(*, user: User, ref: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.AUTH_SESSION_ENDED, action=AuditAction.LOGOUT, actor=user, instance=user,
        extra={"session": ref[:8]}, detail=f"结束一个网页登录（{ref[:8]}…）",
    )  # fmt: skip


def access_denied(*, user: User | None, target: models.Model | None, detail: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.ACCESS_DENIED, action=AuditAction.DENIED, actor=user, instance=target,
        extra={"model": _model(target) if target is not None else ""}, detail=detail,
    )  # fmt: skip


# --- Accounts ----------------------------------------------------------------------------------


def user_created(*, actor: User | None, user: User, after: dict[str, Any]) -> AuditEvent:
    return audit_write(
        kind=AuditKind.USER_CREATED, action=AuditAction.CREATE, actor=actor, instance=user,
        extra={"role": user.role, "region_id": user.region_id, "enterprise_id": user.enterprise_id}, after=after,
    )  # fmt: skip


def user_updated(*, actor: User | None, user: User, before: dict[str, Any], after: dict[str, Any]) -> AuditEvent:
    changed = diff(before, after)
    grants = {name: changed[name] for name in GRANT_FIELDS if name in changed}
    if grants:
        return user_role_granted(actor=actor, user=user, before=before, after=after, grants=grants)
    return audit_write(
        kind=AuditKind.USER_UPDATED, action=AuditAction.UPDATE, actor=actor, instance=user,
        extra={"changed": sorted(changed)}, before=before, after=after,
    )  # fmt: skip


def user_role_granted(
    *,
    actor: User | None,
    user: User,
    before: dict[str, Any],
    after: dict[str, Any],
    grants: dict[str, tuple[Any, Any]],
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.USER_ROLE_GRANTED, action=AuditAction.UPDATE, actor=actor, instance=user,
        extra={"changed": sorted(diff(before, after)), "grants": {k: list(v) for k, v in grants.items()}},
        before=before, after=after,
    )  # fmt: skip


def password_changed(*, actor: User | None, user: User) -> AuditEvent:
    own = actor is not None and actor.pk == user.pk
    return audit_write(
        kind=AuditKind.USER_PASSWORD_CHANGED, action=AuditAction.UPDATE, actor=actor, instance=user,
        extra={"by_self": own}, detail="修改密码",
    )  # fmt: skip


def reauthenticated(*, user: User, purpose: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.USER_REAUTHENTICATED, action=AuditAction.UPDATE, actor=user, instance=user,
        extra={"purpose": purpose}, detail=f"{purpose}身份确认通过",
    )  # fmt: skip


def reauth_failed(*, user: User, purpose: str, refused: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.USER_REAUTH_FAILED, action=AuditAction.LOGIN_FAILED, actor=user, instance=user,
        extra={"purpose": purpose, "reason": refused}, detail=f"{purpose}身份确认未通过：{refused}",
    )  # fmt: skip


# --- Two-factor --------------------------------------------------------------------------------


def otp_added(
    *, actor: User | None, user: User, after: dict[str, Any], detail: str, actor_name: str = ""
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.OTP_ADDED, action=AuditAction.OTP_ADDED, actor=actor, instance=user, extra=after,
        after=after, detail=detail, actor_name=actor_name,
    )  # fmt: skip


def otp_removed(
    *, actor: User | None, user: User, detail: str, before: dict[str, Any] | None = None, actor_name: str = ""
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.OTP_REMOVED, action=AuditAction.OTP_REMOVED, actor=actor, instance=user, before=before,
        detail=detail, actor_name=actor_name,
    )  # fmt: skip


def otp_verified(*, user: User, purpose: str, backup_codes_left: int | None = None) -> AuditEvent:
    detail = purpose if backup_codes_left is None else f"{purpose}（使用备用码，剩余 {backup_codes_left} 个）"
    return audit_write(
        kind=AuditKind.OTP_VERIFIED, action=AuditAction.OTP_VERIFIED, actor=user, instance=user,
        extra={"purpose": purpose, "backup_codes_left": backup_codes_left}, detail=detail,
    )  # fmt: skip


def otp_failed(*, user: User, purpose: str, detail: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.OTP_FAILED, action=AuditAction.OTP_FAILED, actor=user, instance=user,
        extra={"purpose": purpose}, detail=detail,
    )  # fmt: skip


def otp_backup_codes_made(*, user: User, codes: int) -> AuditEvent:
    return audit_write(
        kind=AuditKind.OTP_BACKUP_CODES, action=AuditAction.OTP_BACKUP_CODES, actor=user, instance=user,
        extra={"backup_codes": codes}, after={"backup_codes": codes}, detail="重新生成备用码，原备用码作废",
    )  # fmt: skip


def otp_reset(*, actor: User, user: User, devices: int, tokens: int) -> AuditEvent:
    return audit_write(
        kind=AuditKind.OTP_RESET, action=AuditAction.OTP_RESET, actor=actor, instance=user,
        extra={"devices": devices, "tokens": tokens}, before={"devices": devices},
        detail=f"管理员重置两步验证：解绑动态口令并作废备用码，作废 {tokens} 个 API 令牌",
    )  # fmt: skip


# --- API tokens --------------------------------------------------------------------------------


def token_issued(*, user: User, token: dict[str, Any], detail: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.TOKEN_ISSUED, action=AuditAction.TOKEN_ISSUED, actor=user, instance=user,
        extra={"token": token.get("token", "")}, after=token, detail=detail,
    )  # fmt: skip


def token_revoked(
    *, actor: User | None, user: User, token: dict[str, Any], reason: str, actor_name: str = ""
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.TOKEN_REVOKED, action=AuditAction.TOKEN_REVOKED, actor=actor, instance=user,
        extra={"token": token.get("token", ""), "reason": reason}, before=token,
        detail=f"作废 API 令牌 {token.get('token', '')}：{reason}", actor_name=actor_name,
    )  # fmt: skip


# --- The enterprise directory as a file --------------------------------------------------------


def enterprises_exported(*, user: User, rows: int, filters: str) -> AuditEvent:
    return audit_write(
        kind=AuditKind.ENTERPRISES_EXPORTED, action=AuditAction.EXPORT, actor=user,
        extra={"rows": rows, "filters": filters}, detail=f"导出企业名录 {rows} 家；筛选条件：{filters}",
    )  # fmt: skip


def enterprises_imported(
    *, actor: User | None, actor_name: str, summary: str, detail: str, region_path: str, stored_path: str
) -> AuditEvent:
    return audit_write(
        kind=AuditKind.ENTERPRISES_IMPORTED, action=AuditAction.IMPORT, actor=actor, actor_name=actor_name,
        extra={"summary": summary, "file": stored_path}, region_path=region_path,
        detail=f"{detail}：{summary}" + (f"；原文件 {stored_path}" if stored_path else ""),
    )  # fmt: skip


# --- Backup and restore ------------------------------------------------------------------------


def backup_restored(
    *, archive: str, manifest: dict[str, Any], archive_sha256: str, forced: bool, unsigned: bool
) -> AuditEvent:
    # Filed under no region: only a superuser reads it (a restore replaces every county's data at once).
    # Written into the restored database, so its own history says where it came from.
    tables: dict[str, int] = manifest["tables"]
    rows = sum(tables.values())
    return audit_write(
        kind=AuditKind.BACKUP_RESTORED, action=AuditAction.IMPORT, actor=None, actor_name="manage.py",
        region_path="",
        extra={
            "file": archive, "sha256": archive_sha256, "created_at": manifest["created_at"],
            "database_sha256": manifest["database"].get("sha256", ""), "rows": rows, "tables": tables,
            "models": manifest.get("models", {}), "files": manifest["media"]["count"], "forced": forced,
            "unsigned": unsigned,
        },
        detail=f"从备份 {archive}（{manifest['created_at']} 创建）恢复数据库和上传文件：{rows} 行，"
        f"{manifest['media']['count']} 个文件" + ("；未验证签名（--allow-unsigned）" if unsigned else ""),
    )  # fmt: skip
