"""A body the API cannot parse gets a Chinese 400, not DRF's English parser text."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.api.exceptions import PARSE_MESSAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(cast.county_staff)
    return client


def test_malformed_json_is_refused_in_chinese(api: APIClient) -> None:
    response = api.post("/api/v1/enterprises/", data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": PARSE_MESSAGES["JSON parse error"]}


def test_malformed_multipart_is_refused_in_chinese(api: APIClient) -> None:
    # A boundary announced in the header but never used in the body: Django's parser gives up.
    response = api.generic(
        "POST",
        "/api/v1/ledger-uploads/",
        data=b'--other\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": PARSE_MESSAGES["Multipart form parse error"]}
