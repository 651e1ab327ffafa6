"""Uploads: a cap on what the request parser keeps of each file, and a spreadsheet kept between its
preview and its confirmation.

``UploadSizeCapHandler`` (first in ``FILE_UPLOAD_HANDLERS``) passes on at most ``UPLOAD_MAX_BYTES + 1``
bytes of each uploaded file: enough for every view to refuse the file by its size, with its own Chinese
message, while the rest of an oversize body is read off the connection and dropped, never stored.

The preview stores the uploaded file and hands the browser a signed token naming it; the
confirmation re-reads that file and validates it again. The token is bound to the uploader, so
nobody else can commit a preview, and it names only files under this kind of upload's folder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler
from django.utils import timezone

from portal.models import User

PREVIEW_MAX_AGE = 2 * 3600  # seconds a preview may wait for its confirmation


class UploadSizeCapHandler(FileUploadHandler):
    """Keeps at most UPLOAD_MAX_BYTES + 1 bytes of each file for the handlers after it (memory or temp file)."""

    kept = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.kept = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        room = int(settings.UPLOAD_MAX_BYTES) + 1 - self.kept
        if room <= 0:
            return None  # dropped: the later handlers never see it
        chunk = raw_data[:room]
        self.kept += len(chunk)
        return chunk

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file (its size is what it was given)


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
