"""`{% filter page_title %}`: the browser tab title, the page's own title first and the portal's after."""

from __future__ import annotations

from django import template

register = template.Library()

PORTAL_NAME = "非煤矿山安全监管门户"
SEPARATOR = " · "


@register.filter(is_safe=True)
def page_title(value: str) -> str:
    """ "待办" → "待办 · 非煤矿山安全监管门户"; an empty page title → the portal's name alone."""
    own = " ".join(str(value).split())
    return f"{own}{SEPARATOR}{PORTAL_NAME}" if own else PORTAL_NAME
