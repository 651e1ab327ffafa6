"""A spreadsheet kept between its preview and its confirmation.

The preview stores the uploaded file and hands the browser a signed token naming it; the
confirmation re-reads that file and validates it again. The token is bound to the uploader, so
nobody else can commit a preview, and it names only files under this kind of upload's folder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.models import User

PREVIEW_MAX_AGE = 2 * 3600  # seconds a preview may wait for its confirmation


@dataclass(frozen=True)
class PreviewStore:
    folder: str  # under the default storage, e.g. "imports/enterprises"
    salt: str  # one per kind of upload, so a token of one importer is refused by another

    def save(self, data: bytes) -> str:
        today = timezone.localdate()
        return default_storage.save(f"{self.folder}/{today:%Y/%m}/{uuid.uuid4().hex}.xlsx", ContentFile(data))

    def sign(self, *, user: User, path: str, file_name: str) -> str:
        return signing.dumps({"u": user.pk, "p": path, "n": file_name}, salt=self.salt, compress=True)

    def unsign(self, token: str, *, user: User) -> tuple[str, str]:
        """(stored path, original file name); BadSignature (also when expired) for anything else."""
        payload = signing.loads(token, salt=self.salt, max_age=PREVIEW_MAX_AGE)
        path, file_name = str(payload.get("p", "")), str(payload.get("n", ""))
        if payload.get("u") != user.pk or not path.startswith(f"{self.folder}/") or ".." in path:
            raise signing.BadSignature("not this user's upload")
        return path, file_name

    def read(self, path: str) -> bytes:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
