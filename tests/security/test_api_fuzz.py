"""schemathesis against the API, in-process (the WSGI app), as authenticated users.

The OpenAPI document the portal serves (/api/schema/) drives the generation: every operation gets a
few generated requests, sent with a token of county staff (the main API user) and of a superuser,
over a database with the cast, hazards (with evidence and an extension request) and the seed
campaigns. Each answer must be no 5xx, a documented status code, the documented content type,
headers and body schema. Business-rule 400s on valid-looking input are answers the schema documents,
so the "positive data must be accepted" check is not run.

Every operation is run by hand with hypothesis (`operation.as_strategy()`) rather than through
schemathesis' pytest plugin, whose lazy fixture loading sets `Function._nodeid`, gone in pytest 9;
all failing operations are reported together. Bounded and repeatable: a few examples per operation,
a fixed seed (derandomize), no shrinking; the regression tests below pin what it found.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hazards.choices import HazardLevel, HazardStatus
from hazards.criteria import load_catalogue_file
from hazards.models import MajorHazardCriterion
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import add_evidence, add_extension, make_hazard
from tests.token_helpers import issue_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation (105 operations): county staff, the main API user, gets more; the superuser sees the same
# operations with wider data and rights. About 40 s for both on an idle 2-core machine.
MAX_EXAMPLES = {"county_staff": 6, "superuser": 3}

ENDS_THE_TOKEN = ("/api/v1/auth/logout", "/api/v1/auth/tokens/")

_RAW: dict[str, Any] = {}


def raw_schema() -> dict[str, Any]:
    """The served OpenAPI document (JSON), fetched once per session: it does not depend on the data."""
    if not _RAW:
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        _RAW.update(response.json())
    return copy.deepcopy(_RAW)


@pytest.fixture
def api_schema(db: None) -> Any:
    schema = schemathesis.openapi.from_dict(raw_schema())
    schema.app = get_wsgi_application()
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    # As django.test.Client does: the WSGI handler must not close the test's database connection at the
    # end of each request (on PostgreSQL every later query would fail with "connection already closed").
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(world: World, cast: Cast) -> dict[str, str]:
    """The cast, with data behind the endpoints (hazards with evidence and an extension request; the seed
    campaigns come from their data migration); the tokens of county staff and of a superuser."""
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()
    major = make_hazard(world.enterprise_a, status=HazardStatus.REPORTED)
    add_evidence(major, cast.clerk)
    add_extension(major, cast.clerk)
    make_hazard(world.enterprise_b, level=HazardLevel.GENERAL)
    superuser = User.objects.create_superuser(username="root", password="Root-pass-2024!", role=cast.admin.role)
    superuser.region = world.county
    superuser.save(update_fields=["region"])
    return {
        "county_staff": issue_token(cast.county_staff),
        "superuser": issue_token(superuser),
    }


FUZZ = dict(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def fuzz(schema: Any, token: str, max_examples: int) -> list[str]:
    """Every operation of the schema, a few generated requests each; the failures, one line per operation."""
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # What may revoke the fuzzing token itself runs last: before, it would turn every later operation into 401s.
    operations.sort(key=lambda operation: operation.path.startswith(ENDS_THE_TOKEN))
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(max_examples=max_examples, **FUZZ)
        def check(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every failing operation is reported
            failures.append(f"{operation.label}: {error}")
    return failures


def test_api_as_county_staff(api_schema: Any, fuzz_data: dict[str, str]) -> None:
    failures = fuzz(api_schema, fuzz_data["county_staff"], MAX_EXAMPLES["county_staff"])
    assert not failures, "\n\n".join(failures)


def test_api_as_superuser(api_schema: Any, fuzz_data: dict[str, str]) -> None:
    failures = fuzz(api_schema, fuzz_data["superuser"], MAX_EXAMPLES["superuser"])
    assert not failures, "\n\n".join(failures)


# --- regressions: what the fuzzing found, one plain test each -----------------------------------------

BIG = "629340372298580214415360"  # beyond a 64-bit id: the database driver overflowed (500)


def token_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")


def test_ledger_upload_list_with_an_id_beyond_64_bits_matches_nothing(cast: Cast) -> None:
    client = token_client(cast.county_staff)
    response = client.get(f"/api/v1/ledger-uploads/?enterprise={BIG}")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert client.get("/api/v1/ledger-uploads/?enterprise=²").status_code == 200  # isdigit() but not int()


def test_upload_for_an_enterprise_id_beyond_64_bits_is_a_400(cast: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = token_client(cast.county_staff).post(
        "/api/v1/ledger-uploads/", {"file": SimpleUploadedFile("台账.xlsx", b"PK"), "enterprise": BIG}
    )
    assert response.status_code == 400
    assert "enterprise" in response.json()


def test_mark_read_with_an_id_beyond_64_bits_is_a_400(cast: Cast) -> None:
    response = token_client(cast.clerk).post(
        "/api/v1/notifications/mark-read/", {"ids": [1, int(BIG)]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "ids" in response.json()


def test_generic_errors_are_documented(db: None) -> None:
    schema = raw_schema()
    paths = schema["paths"]
    assert "404" in paths["/api/v1/campaigns/"]["get"]["responses"]  # a page past the last one
    assert {"401", "404"} <= set(paths["/api/v1/exams/{id}/"]["get"]["responses"])
    assert "400" in paths["/api/v1/duty-logs/"]["get"]["responses"]  # a filter value refused
    assert "401" not in paths["/api/v1/auth/token/"]["post"]["responses"]  # no login needed there
    # The upload's 400 is either the file's preview or field errors: documented as an object.
    upload_400 = paths["/api/v1/ledger-uploads/"]["post"]["responses"]["400"]
    assert upload_400["content"]["application/json"]["schema"]["type"] == "object"


@pytest.mark.parametrize("value", ["0340-10-05", "9999-12-31"])
def test_enterprise_dates_outside_the_present_era_are_refused(world: World, cast: Cast, value: str) -> None:
    client = token_client(cast.county_staff)
    url = f"/api/v1/enterprises/{world.enterprise_a.pk}/"
    response = client.patch(url, {"license_expiry": value}, content_type="application/json")
    assert response.status_code == 400
    assert "请检查年份" in response.json()["license_expiry"][0]
    ok = client.patch(url, {"license_expiry": "2027-06-30"}, content_type="application/json")
    assert ok.status_code == 200, ok.content
    world.enterprise_a.refresh_from_db()
    assert world.enterprise_a.license_expiry.isoformat() == "2027-06-30"
