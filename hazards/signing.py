"""The principal's re-authentication before 签字上报 of a major hazard (page and API alike).

A signature is signing (issue 13 §5): the principal types the password again, and the 动态口令 (or a
backup code) once 两步验证 is enrolled — `portal.reauth`, exactly as for the self-check and the monthly
tables. Called after the role and status checks (`hazards.steps.run_step`) and before
`services.hazard_sign_report`, outside its transaction: a refusal's lockout counters and audit rows stay.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from portal import reauth
from portal.models import User

PURPOSE = "重大事故隐患签字"


def hazard_sign_authenticate(*, request: Any, actor: User, password: str, otp_code: str = "") -> None:
    """Passes when `password` (and, with a device enrolled, `otp_code`) is the signer's own; otherwise raises
    ValidationError on the `password` field with portal.reauth's one Chinese refusal. Audited either way."""
    try:
        reauth.reauthenticate(request=request, user=actor, password=password, otp_code=otp_code, purpose=PURPOSE)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
