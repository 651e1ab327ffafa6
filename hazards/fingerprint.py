"""What the principal sees and signs of a 重大事故隐患 (主要负责人签字上报), as one SHA-256.

The detail page's sign form and the API post `hazard_fingerprint` of the hazard as shown; the service
refuses the signature when it has changed since (someone edited the hazard, added evidence, or the
criterion's text was corrected), so that what is signed is what was seen. The workflow bookkeeping
(status, timestamps, the signature itself) is left out: the status is checked by the step rules.
"""

from __future__ import annotations

import hashlib
import json

from hazards.models import Hazard, HazardEvidence, MajorHazardCriterion
from portal.audit import snapshot

BOOKKEEPING = frozenset({"status", "updated_at", "created_at", "signed_by", "signed_at", "identity_key"})


def hazard_fingerprint(hazard: Hazard) -> str:
    """SHA-256 of the hazard's content fields, its evidence and its criterion's wording."""
    fields = {name: value for name, value in snapshot(hazard).items() if name not in BOOKKEEPING}
    criterion = (
        MajorHazardCriterion.objects.filter(pk=hazard.criterion_id).values("number", "label", "text").first()
        if hazard.criterion_id
        else None
    )
    evidence = sorted(HazardEvidence.objects.filter(hazard_id=hazard.pk).values_list("pk", flat=True))
    canonical = json.dumps(
        {"hazard": hazard.pk, "fields": fields, "criterion": criterion, "evidence": evidence},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
