"""Select widgets that write their <option>s in Python.

Django renders a select through its form templates: one option dict (`create_option`) and one template
include (`select_option.html`, with `attrs.html`) per option. A province-wide filter offers ~1,000 towns and
up to 500 enterprises, and the superuser's field-work lists spent most of their time writing options.
These widgets write the same markup (same attributes, escaping and selection rule as
`ChoiceWidget.optgroups`) straight from the choices.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe


class _QuickOptions:
    """Mixin for the ChoiceWidget subclasses that render as <select>."""

    allow_multiple_selected: bool
    choices: Any

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)  # type: ignore[attr-defined]
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True  # as Select.get_context adds it
        chosen = set(self.format_value(value))  # type: ignore[attr-defined]
        parts = [f'<select name="{escape(name)}"{flatatt(final_attrs)}>']
        has_selected = False
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):
                parts.append(f'<optgroup label="{escape(option_value)}">')
                group = option_label
            else:
                group = [("" if option_value is None else option_value, option_label)]
            for sub_value, sub_label in group:
                # ChoiceWidget.optgroups' rule: a single select marks its first match only.
                selected = (not has_selected or self.allow_multiple_selected) and str(sub_value) in chosen
                has_selected |= selected
                mark = " selected" if selected else ""
                parts.append(f'<option value="{escape(sub_value)}"{mark}>{conditional_escape(sub_label)}</option>')
            if isinstance(option_label, list | tuple):
                parts.append("</optgroup>")
        parts.append("</select>")
        # Every value and label above went through escape()/conditional_escape(), the names and attributes
        # through flatatt (which escapes): the markup is safe.
        return mark_safe("".join(parts))  # noqa: S308 - escaped piece by piece above  # nosec B308, B703 # escaped


class QuickSelect(_QuickOptions, forms.Select):
    pass


class QuickSelectMultiple(_QuickOptions, forms.SelectMultiple):
    pass
