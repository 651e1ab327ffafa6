"""Request-size limits declared once, without Django: the settings read them, and so does the reverse
proxy's configuration (deploy/render_nginx.py, and the value docker-compose.yml gives the proxy, which
tests/test_infra.py checks against this rule)."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# Room for the multipart envelope and the form's other fields around a file of the largest size, so
# that a file just over UPLOAD_MAX_BYTES reaches the portal and gets its precise Chinese message.
MULTIPART_ENVELOPE_BYTES = 1024 * 1024


def upload_max_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The largest uploaded file (UPLOAD_MAX_BYTES)."""
    return int(environ.get("UPLOAD_MAX_BYTES", str(DEFAULT_UPLOAD_MAX_BYTES)))


def request_body_max_bytes(upload_max: int) -> int:
    """The largest request body: one file of `upload_max` bytes with its envelope. Bigger bodies are
    refused by the proxy (413) before they are read, and by Django (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    return upload_max + MULTIPART_ENVELOPE_BYTES
