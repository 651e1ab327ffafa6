from __future__ import annotations

import re

from django import forms


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
