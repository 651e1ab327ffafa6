"""统一社会信用代码 (GB 32100-2015) and other directory validators."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError

# The 31 characters of the code alphabet, in the order that gives their values 0..30
# (I, O, S, V and Z are never used).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a code."""
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """Upper case, no spaces, full-width letters and digits folded to ASCII."""
    folded = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in value)
    return "".join(folded.split()).upper()


def validate_credit_code(value: str) -> None:
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            "统一社会信用代码应为18位，当前为%(n)d位。", code="credit_code_length", params={"n": len(code)}
        )
    bad = sorted({ch for ch in code if ch not in _CREDIT_VALUES})
    if bad:
        raise ValidationError(
            "统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z）。",
            code="credit_code_chars",
            params={"chars": "、".join(bad)},
        )
    if not code[2:8].isdigit():
        raise ValidationError("统一社会信用代码第3至8位应为登记管理机关行政区划码（数字）。", code="credit_code_region")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            "统一社会信用代码校验码错误：第18位应为 %(expected)s，实为 %(actual)s。",
            code="credit_code_check",
            params={"expected": expected, "actual": code[17]},
        )


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# Dates in the directory (licence and certificate expiry) are real calendar dates of the present era:
# a year such as 0340 is a typing error, not a date to store (found by schemathesis on the API).
PLAUSIBLE_DATES = (dt.date(1950, 1, 1), dt.date(2099, 12, 31))


def validate_plausible_date(value: dt.date | None) -> None:
    low, high = PLAUSIBLE_DATES
    if value is not None and not low <= value <= high:
        raise ValidationError(
            "日期 %(value)s 不在 %(low)s 至 %(high)s 之间，请检查年份。",
            code="date_out_of_range",
            params={"value": value.isoformat(), "low": low.isoformat(), "high": high.isoformat()},
        )


# Characters that change nothing on screen but make two names differ: zero-width characters and the
# bidirectional controls (LRM/RLM, embeddings, overrides, isolates, the Arabic letter mark).
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean_name(value: str) -> str:
    """A name as stored: invisible characters removed, outer spaces trimmed, inner runs of spaces made one."""
    return " ".join(INVISIBLE.sub("", value or "").split())


def name_key(value: str) -> str:
    """What two names are compared by: NFKC (full-width letters, digits and brackets folded), invisible
    characters removed, spaces ignored, case folded. Names that display alike get the same key."""
    folded = unicodedata.normalize("NFKC", INVISIBLE.sub("", value or ""))
    return "".join(INVISIBLE.sub("", folded).split()).casefold()
