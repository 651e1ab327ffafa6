"""Uploads of field work (photos, evidence, 执法文书, deliverables): checked by content, not by name.

The allowed types, size and pixel bounds are declared once, in `portal.upload_types` (PHOTOS for
inspection photos, DOCUMENTS for the rest, as for hazard evidence); this is field work's door to it.
"""

from __future__ import annotations

from typing import Any

from portal.upload_types import DOCUMENTS, PHOTOS, check_upload

IMAGE_EXTENSIONS = PHOTOS.extensions
DOCUMENT_EXTENSIONS = DOCUMENTS.extensions


def validate_upload(upload: Any, *, images_only: bool = False) -> str:
    """Checks an uploaded file; returns the name to store it under (its original name, cut to 200
    characters, with its type's extension when it carried none)."""
    purpose = PHOTOS if images_only else DOCUMENTS
    return check_upload(upload, name=getattr(upload, "name", "") or "", purpose=purpose).stored_name
