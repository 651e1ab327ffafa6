"""What a signed file says about its signature, and finding the signed version an uploaded file is.

The verification code (校验码) is a short HMAC (keyed by SECRET_KEY, salted for this purpose) of what is
fixed before the files are built: the version's id and number, its fingerprint (figures and records), the
signer and the signing time. A file cannot carry its own checksum, so the code vouches for the signature
and the files' SHA-256 (stored on the version) for the bytes: the verification page hashes an upload and
looks that up among the signed versions the user may see.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal.models import User
from portal.scoping import log_denied
from reporting.models import ReportVersion

CODE_SALT = "reporting.signing.verification-code"
CODE_LENGTH = 12


def verification_code(*, version: ReportVersion, signer_id: int, signed_at: dt.datetime) -> str:
    """12 characters of base32 in groups of four, e.g. "ABCD-EFGH-JKLM"."""
    message = "|".join(
        [str(version.pk), str(version.number), version.fingerprint, str(signer_id), signed_at.isoformat()]
    )
    digest = salted_hmac(CODE_SALT, message, algorithm="sha256").digest()
    text = base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]
    return "-".join(text[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_of(version: ReportVersion) -> str:
    """The code of a signed version (recomputed from what is stored: the same as printed in its files)."""
    if version.signed_by_id is None or version.signed_at is None:
        return ""
    return verification_code(version=version, signer_id=version.signed_by_id, signed_at=version.signed_at)


def signer_name(user: User) -> str:
    return user.full_name or user.username


def seal_line(*, version: ReportVersion, signer: User, signed_at: dt.datetime) -> str:
    """The footer printed in the signed Excel and PDF."""
    local = timezone.localtime(signed_at)
    code = verification_code(version=version, signer_id=signer.pk, signed_at=signed_at)
    return (
        f"签字人：{signer_name(signer)}　签字时间：{local:%Y-%m-%d %H:%M:%S}　"
        f"版本号：第{version.number}版　校验码：{code}"
    )


@dataclass(frozen=True)
class Match:
    version: ReportVersion
    file_format: str  # "xlsx" or "pdf"
    code: str


def find_signed(*, user: User, content: bytes) -> Match | None:
    """The signed version (among those `user` may see) one of whose files is byte for byte `content`.

    A file identical to a signed version outside the user's scope is answered as not found, with a
    越权访问 row."""
    digest = hashlib.sha256(content).hexdigest()
    lookup = Q(xlsx_sha256=digest) | Q(pdf_sha256=digest)
    visible = ReportVersion.objects.visible_to(user)
    version = (
        visible.filter(lookup, signed_at__isnull=False)
        .select_related("report__region", "report__campaign", "signed_by")
        .order_by("-signed_at")
        .first()
    )
    if version is None:
        hidden = ReportVersion.objects.filter(lookup, signed_at__isnull=False).values_list("pk", flat=True).first()
        if hidden is not None:
            log_denied(
                user=user,
                model=ReportVersion,
                lookup={"pk": hidden},
                detail="核验已签字文件：与本辖区以外的已签字版本一致",
                visible=visible,
            )
        return None
    file_format = "xlsx" if version.xlsx_sha256 == digest else "pdf"
    return Match(version=version, file_format=file_format, code=code_of(version))
