from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from portal.choices import RegionLevel
from portal.models import Enterprise, ParentCompany, Region, User
from portal.services import ENTERPRISE_EDITABLE_FIELDS, ENTERPRISE_SELF_SERVICE_FIELDS
from portal.validators import normalize_credit_code


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续输错多次后账号将被暂时锁定。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    username = forms.CharField(label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(label="密码", max_length=128, strip=False, widget=forms.PasswordInput)


class EnterpriseForm(forms.ModelForm):  # type: ignore[type-arg]
    """The enterprise edit page. Admins and county staff get every field (town and parent company within
    their scope); the enterprise clerk only services.ENTERPRISE_SELF_SERVICE_FIELDS — the rest is shown as
    text (`read_only`), and the service refuses a change to it anyway."""

    class Meta:
        model = Enterprise
        fields = list(ENTERPRISE_EDITABLE_FIELDS)
        widgets = {"license_expiry": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, user: User, self_service: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.self_service = self_service
        self.read_only: list[tuple[str, str]] = []
        if self_service:
            for name in [name for name in self.fields if name not in ENTERPRISE_SELF_SERVICE_FIELDS]:
                self.read_only.append((str(self.fields[name].label), self._display(name)))
                del self.fields[name]
        else:
            town = self.fields["town"]
            assert isinstance(town, forms.ModelChoiceField)
            town.queryset = Region.objects.visible_to(user).filter(level=RegionLevel.TOWN)
            parent = self.fields["parent_company"]
            assert isinstance(parent, forms.ModelChoiceField)
            parent.queryset = ParentCompany.objects.visible_to(user)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def _display(self, name: str) -> str:
        display = getattr(self.instance, f"get_{name}_display", None)
        value = display() if display is not None else getattr(self.instance, name)
        return str(value) if value not in (None, "") else "—"

    def clean_credit_code(self) -> str:
        return normalize_credit_code(self.cleaned_data["credit_code"])
