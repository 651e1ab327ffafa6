from __future__ import annotations

import re

from django import forms

from portal.otp.services import is_backup_code, normalize_code


class CodeForm(forms.Form):
    code = forms.CharField(
        label="动态口令",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self) -> str:
        # Authenticator apps show "123 456": the space is accepted.
        code = re.sub(r"\s", "", str(self.cleaned_data["code"]))
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError("请输入验证器中显示的 6 位数字。")
        return code


class SecondFactorForm(CodeForm):
    """The login's second step: the authenticator's 6 digits, or one of the backup codes (备用码)."""

    code = forms.CharField(
        label="动态口令或备用码",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self) -> str:
        code = normalize_code(str(self.cleaned_data["code"]))
        if not (re.fullmatch(r"\d{6}", code) or is_backup_code(code)):
            raise forms.ValidationError("请输入验证器中显示的 6 位数字，或一个 8 位备用码。")
        return code
