"""Two people confirming the same hazard at the same moment, on real PostgreSQL row locks.

Runs under `pytest --db=postgresql` (tests/services.py starts the server); skipped on SQLite, which
has no row locks (the stale-state rule itself is tested on every backend in test_workflow.py).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from hazards import services
from hazards.choices import HazardAction, HazardStatus
from hazards.models import Hazard, HazardEvent
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard, second_town_a_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_two_confirmations_at_once_make_one_event(world: World, cast: Cast, catalogue: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks: run with --db=postgresql")
    hazard = make_hazard(world.enterprise_a, status=HazardStatus.PENDING_TOWN)
    colleague = second_town_a_staff(world)
    start = threading.Barrier(3)
    outcomes: dict[str, str] = {}

    def confirm(name: str, user: User) -> None:
        seen = Hazard.objects.get(pk=hazard.pk)  # both read 待镇确认 before either acts
        try:
            start.wait(timeout=10)
            services.hazard_town_confirm(actor=user, hazard=seen)
            outcomes[name] = "ok"
        except services.HazardStateChanged as exc:
            outcomes[name] = " ".join(exc.messages)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=confirm, args=("first", cast.town_a_staff)),
        threading.Thread(target=confirm, args=("second", colleague)),
    ]
    with transaction.atomic():
        # Hold the row so that both confirmations queue up on its lock, then let them race.
        Hazard.objects.select_for_update().get(pk=hazard.pk)
        for thread in threads:
            thread.start()
        start.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(outcomes) == ["first", "second"] and list(outcomes.values()).count("ok") == 1
    refused = [message for message in outcomes.values() if message != "ok"]
    assert len(refused) == 1 and "该隐患状态已变更为“待县确认”" in refused[0]
    assert HazardEvent.objects.filter(hazard=hazard, action=HazardAction.TOWN_CONFIRM).count() == 1
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.PENDING_COUNTY
