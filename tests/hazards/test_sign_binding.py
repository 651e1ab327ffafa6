"""主要负责人签字上报 binds the major hazard the principal saw (README "Signature binding").

The detail page's sign form and the API post `hazard_fingerprint` of the hazard as shown; an edit of the
hazard, new evidence or a corrected criterion in between makes the service refuse (409 with a Chinese
message) and sign nothing. Runs on SQLite and PostgreSQL (`--db=postgresql`); the race needs row locks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from hazards import services
from hazards.choices import HazardAction, HazardStatus
from hazards.fingerprint import hazard_fingerprint
from hazards.models import Hazard, HazardEvent
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD, UserFactory
from tests.hazards.conftest import add_evidence, make_hazard

S = HazardStatus
MESSAGE = "打开页面后该隐患的内容或材料已有修改，未签字"

pytestmark = pytest.mark.usefixtures("catalogue")

CHANGES: dict[str, Callable[[Cast, Hazard], Any]] = {
    "edited": lambda cast, hazard: services.hazard_update(
        actor=cast.clerk, hazard=hazard, data={"description": "北采场+320平台边坡浮石（核实后更正）"}
    ),
    "evidence": lambda cast, hazard: add_evidence(hazard, cast.clerk),
    # The national catalogue is corrected by the superuser only (a county's admin may not touch it).
    "criterion": lambda cast, hazard: services.criterion_update(
        actor=UserFactory(username="root", role="", is_superuser=True, is_staff=True),
        criterion=hazard.criterion,
        data={"text": "更正后的判定依据条文"},
    ),
}


def assert_not_signed(hazard: Hazard) -> None:
    fresh = Hazard.objects.get(pk=hazard.pk)
    assert fresh.status == S.DRAFT and fresh.signed_by is None and fresh.signed_at is None
    assert not HazardEvent.objects.filter(hazard=hazard, action=HazardAction.SIGN_REPORT).exists()


def page_fingerprint(client: Client, hazard: Hazard) -> str:
    page = client.get(reverse("hazards:hazard-detail", args=[hazard.pk])).content.decode()
    found = re.search(r'name="sign-fingerprint" value="([0-9a-f]{64})"', page)
    assert found, "the page offers no 签字"
    return found.group(1)


def sign_page(client: Client, hazard: Hazard, fingerprint: str | None) -> Any:
    data = {"sign-seen_status": S.DRAFT, "sign-comment": "属实", "sign-password": TEST_PASSWORD, "sign-confirm": "on"}
    if fingerprint is not None:
        data["sign-fingerprint"] = fingerprint
    return client.post(reverse("hazards:hazard-step", args=[hazard.pk, "sign"]), data)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_after_the_page_was_shown_refuses_the_signature(world: World, cast: Cast, change: str) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    shown = hazard_fingerprint(hazard)
    CHANGES[change](cast, hazard)
    with pytest.raises(services.HazardStateChanged, match=MESSAGE):
        services.hazard_sign_report(actor=cast.principal, hazard=hazard, fingerprint=shown)
    assert_not_signed(hazard)
    fresh = Hazard.objects.get(pk=hazard.pk)
    signed = services.hazard_sign_report(actor=cast.principal, hazard=fresh, fingerprint=hazard_fingerprint(fresh))
    assert signed.status == S.PENDING_TOWN and signed.signed_by == cast.principal


def test_the_page_posts_what_it_showed(client: Client, world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    client.force_login(cast.principal)
    shown = page_fingerprint(client, hazard)
    assert shown == hazard_fingerprint(hazard)
    CHANGES["edited"](cast, hazard)  # the clerk corrects the description meanwhile
    refused = sign_page(client, hazard, shown)
    assert refused.status_code == 409 and MESSAGE in refused.content.decode()
    missing = sign_page(client, hazard, None)
    assert missing.status_code == 409 and MESSAGE in missing.content.decode()
    assert_not_signed(hazard)
    signed = sign_page(client, hazard, page_fingerprint(client, hazard))
    assert signed.status_code == 302
    assert Hazard.objects.get(pk=hazard.pk).status == S.PENDING_TOWN


def test_the_api_posts_what_it_read(world: World, cast: Cast) -> None:
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    api = APIClient()
    api.force_authenticate(cast.principal)
    url = f"/api/v1/hazards/{hazard.pk}/"
    shown = api.get(url).json()["fingerprint"]
    assert shown == hazard_fingerprint(hazard)
    without = api.post(f"{url}sign-report/", {"password": TEST_PASSWORD}, format="json")
    assert without.status_code == 400 and "fingerprint" in str(without.json())
    CHANGES["evidence"](cast, hazard)
    refused = api.post(f"{url}sign-report/", {"fingerprint": shown, "password": TEST_PASSWORD}, format="json")
    assert refused.status_code == 409 and MESSAGE in str(refused.json())
    assert_not_signed(hazard)
    # who may not sign is refused whatever they post
    clerk = APIClient()
    clerk.force_authenticate(cast.clerk)
    fresh = api.get(url).json()["fingerprint"]
    signing = {"fingerprint": fresh, "password": TEST_PASSWORD}
    assert clerk.post(f"{url}sign-report/", signing, format="json").status_code == 403
    assert_not_signed(hazard)
    signed = api.post(f"{url}sign-report/", signing, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == S.PENDING_TOWN


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_edit_against_the_signature(world: World, cast: Cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks: run with --db=postgresql")
    hazard = make_hazard(world.enterprise_a, status=S.DRAFT)
    shown = hazard_fingerprint(hazard)
    outcomes: dict[str, str] = {}
    start = threading.Barrier(3)

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            call()
            outcomes[name] = "ok"
        except (ValidationError, PermissionDenied) as exc:
            outcomes[name] = f"refused: {exc}"
        finally:
            connection.close()

    calls = {
        "sign": lambda: services.hazard_sign_report(
            actor=cast.principal, hazard=Hazard.objects.get(pk=hazard.pk), fingerprint=shown
        ),
        "edit": lambda: CHANGES["edited"](cast, Hazard.objects.get(pk=hazard.pk)),
    }
    threads = [threading.Thread(target=run, args=pair) for pair in calls.items()]
    with transaction.atomic():
        Hazard.objects.select_for_update().get(pk=hazard.pk)
        for thread in threads:
            thread.start()
        start.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["edit", "sign"] and list(outcomes.values()).count("ok") == 1, outcomes
    fresh = Hazard.objects.get(pk=hazard.pk)
    if outcomes["sign"] == "ok":  # signed first: the enterprise may no longer rewrite what was signed
        assert "重大事故隐患上报后" in outcomes["edit"] and fresh.description == hazard.description
        assert fresh.status == S.PENDING_TOWN
    else:  # edited first: the signature of the old wording is refused
        assert MESSAGE in outcomes["sign"] and fresh.status == S.DRAFT and "核实后更正" in fresh.description
