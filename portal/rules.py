"""Who may do what, in one place (after NetBox's `RestrictedQuerySet.restrict(user, action)`).

Three questions, asked by services (which enforce), pages and API permission classes (which show, hide
or refuse) and the admin:

    may(user, action, obj=None)         -> bool
    require(user, action, obj=None)     -> None, or the classified refusal: PermissionDenied when the
                                           role may not, ValidationError when the object's status
                                           does not allow it (both with the Chinese wording)
    restrict(queryset, user, action)    -> the rows of `queryset` the user may see *and* act on

An action is "app.verb" ("hazards.close", "reporting.sign", "portal.import_enterprises"). Scope comes
first and is not repeated here: `may`/`require` on an object assume it was fetched through
`visible_to(user)` (out of scope is a 404 before any rule is asked); `restrict` starts from
`visible_to(user)` itself. A rule then adds role and status.

portal declares its own actions below; the apps above it register theirs when they are ready
(`<app>/rules.py`, imported by the app's AppConfig.ready), because portal never imports them. The named
role predicates (`is_admin`, `is_county_staff`, `acts_for_region`, …) are the only spelling of
"superuser or role in …" in the code base.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models

from portal.choices import RegionLevel, Role
from portal.scoping import path_within

_Q = TypeVar("_Q", bound=models.QuerySet[Any])

# --- Role predicates ----------------------------------------------------------------------------

ADMINS = frozenset({Role.ADMIN})
# The county bureau's desk: who writes and imports the enterprise directory.
COUNTY_DESK = frozenset({Role.ADMIN, Role.COUNTY_STAFF})


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


def has_role(user: Any, roles: Collection[str]) -> bool:
    """A signed-in user whose role is one of `roles`; a superuser holds every role."""
    if not is_signed_in(user):
        return False
    return bool(user.is_superuser or user.role in roles)


def is_admin(user: Any) -> bool:
    """管理员 (or a superuser)."""
    return has_role(user, ADMINS)


def is_county_staff(user: Any) -> bool:
    """县局: its 管理员 or 股室 (or a superuser) — who keep the enterprise directory."""
    return has_role(user, COUNTY_DESK)


def is_region_admin(user: Any) -> bool:
    """A 管理员 account bound to a region (not a superuser: that one is everywhere)."""
    return bool(is_signed_in(user) and user.role == Role.ADMIN and user.region_id is not None)


def acts_for_region(user: Any, region: Any) -> bool:
    """Whether `user` administers `region`: a superuser everywhere, a region's 管理员 in its own subtree."""
    if is_superuser(user):
        return True
    return bool(is_region_admin(user) and region is not None and path_within(region.path, user.region_path))


def leads_county(user: Any) -> bool:
    """A 分管负责人 of a county (the account that signs the county's tables)."""
    return bool(
        getattr(user, "role", "") == Role.COUNTY_LEADER
        and user.region is not None
        and user.region.level == RegionLevel.COUNTY
    )


# --- The registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One action. `check(user, obj)` raises the refusal; `allow(user, obj)` answers yes/no (it may be
    stricter than `check`, e.g. "the rectifier never verifies" shows no button); `rows(queryset, user)`
    narrows visible rows to those the action applies to. A rule without `rows` that needs no object
    (`per_object=False`) restricts to all visible rows or none."""

    action: str
    check: Callable[[Any, Any], None]
    allow: Callable[[Any, Any], bool]
    rows: Callable[[Any, Any], Any] | None = None
    per_object: bool = True


_RULES: dict[str, Rule] = {}


def register(
    action: str,
    *,
    allow: Callable[[Any, Any], bool] | None = None,
    check: Callable[[Any, Any], Any] | None = None,
    refusal: str | Callable[[Any, Any], str] = "",
    rows: Callable[[Any, Any], Any] | None = None,
    per_object: bool = True,
) -> Rule:
    """Declares `action` once. Give `allow` (with the Chinese `refusal`), or `check` (which raises its own
    classified refusal), or both when the yes/no answer is stricter than the refusal."""
    if action in _RULES:
        raise ImproperlyConfigured(f"Permission rule {action!r} is declared twice.")
    if allow is None and check is None:
        raise ImproperlyConfigured(f"Permission rule {action!r} needs allow or check.")
    if check is None:
        if not refusal:
            raise ImproperlyConfigured(f"Permission rule {action!r} needs a refusal text.")
        check = _refuse_unless(allow, refusal)  # type: ignore[arg-type]
    rule = Rule(action, check, allow or _allowed_by(check), rows, per_object)
    _RULES[action] = rule
    return rule


def _refuse_unless(allow: Callable[[Any, Any], bool], refusal: str | Callable[[Any, Any], str]) -> Callable[..., None]:
    def check(user: Any, obj: Any) -> None:
        if not allow(user, obj):
            raise PermissionDenied(refusal(user, obj) if callable(refusal) else refusal)

    return check


def _allowed_by(check: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def allow(user: Any, obj: Any) -> bool:
        try:
            check(user, obj)
        except (PermissionDenied, ValidationError):
            return False
        return True

    return allow


def rule(action: str) -> Rule:
    try:
        return _RULES[action]
    except KeyError:
        raise ImproperlyConfigured(f"No permission rule {action!r} is registered.") from None


def actions(prefix: str = "") -> list[str]:
    """The registered actions (of one app with prefix "hazards.")."""
    return sorted(name for name in _RULES if name.startswith(prefix))


def may(user: Any, action: str, obj: Any = None) -> bool:
    return bool(rule(action).allow(user, obj))


def require(user: Any, action: str, obj: Any = None) -> None:
    rule(action).check(user, obj)


def permitted(user: Any, names: Iterable[str], obj: Any = None) -> list[str]:
    """Of `names`, the actions `user` may take on `obj` (for buttons), in the given order."""
    return [name for name in names if may(user, name, obj)]


def restrict(queryset: _Q, user: Any, action: str) -> _Q:
    """The rows of `queryset` in `user`'s scope on which `action` is allowed (one query, no row loop)."""
    found = rule(action)
    visible = queryset.visible_to(user)  # type: ignore[attr-defined]
    if found.rows is not None:
        return found.rows(visible, user)  # type: ignore[no-any-return]
    if not found.per_object:
        return visible if found.allow(user, None) else visible.none()  # type: ignore[no-any-return]
    raise ImproperlyConfigured(f"Permission rule {action!r} decides per object and has no row filter.")


# --- Field ownership ---------------------------------------------------------------------------
# Which fields of an object a user may change now, declared by the app that owns the model
# (hazards/fields.py for a hazard): `editable` keeps those of `names` the user may change, `refused`
# maps each refused one to its Chinese reason.


@dataclass(frozen=True)
class FieldOwnership:
    editable: Callable[[Any, Any, Iterable[str]], list[str]]
    refused: Callable[[Any, Any, Iterable[str]], dict[str, str]]


_FIELDS: dict[str, FieldOwnership] = {}


def register_fields(
    model_label: str,
    *,
    editable: Callable[[Any, Any, Iterable[str]], list[str]],
    refused: Callable[[Any, Any, Iterable[str]], dict[str, str]],
) -> None:
    if model_label in _FIELDS:
        raise ImproperlyConfigured(f"Field ownership of {model_label} is declared twice.")
    _FIELDS[model_label] = FieldOwnership(editable, refused)


def _ownership(obj: Any) -> FieldOwnership:
    label = obj._meta.label
    try:
        return _FIELDS[label]
    except KeyError:
        raise ImproperlyConfigured(f"No field ownership is registered for {label}.") from None


def editable_fields(user: Any, obj: Any, names: Iterable[str]) -> list[str]:
    """Those of `names` that `user` may change on `obj` now (the inputs a form shows)."""
    return _ownership(obj).editable(user, obj, names)


def refused_fields(user: Any, obj: Any, names: Iterable[str]) -> dict[str, str]:
    """Those of `names` that `user` may not change on `obj` now, each with its reason."""
    return _ownership(obj).refused(user, obj, names)


# --- portal's own actions -----------------------------------------------------------------------

register(
    "portal.view_audit_log",
    allow=lambda user, _obj: is_admin(user),
    refusal="只有管理员可以查看操作日志。",
    per_object=False,
)
register(
    "portal.import_enterprises",
    allow=lambda user, _obj: bool(is_signed_in(user) and user.is_active and is_county_staff(user)),
    refusal="只有县局管理员或股室可以导入企业名录。",
    per_object=False,
)
register(
    "portal.write_enterprises",
    allow=lambda user, _obj: is_county_staff(user),
    refusal="您的角色无权进行此操作。",
    per_object=False,
)
