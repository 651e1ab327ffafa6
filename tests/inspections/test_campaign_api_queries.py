"""`GET /api/v1/campaigns/`: a fixed number of queries (≤ 10) for every role, however many campaigns and parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inspections.models import Campaign
from tests.conftest import Cast, World


def _campaigns(world: World, n: int) -> None:
    for i in range(n):
        campaign = Campaign.objects.create(
            name=f"查询数测试行动{i}", issuing_region=world.county, start_date=dt.date(2025, 1, 1 + i),
            end_date=dt.date(2025, 6, 30),
        )  # fmt: skip
        campaign.phases.create(name="部署", start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 1, 31))


def _list_queries(user: Any) -> int:
    client = APIClient()
    client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/campaigns/").status_code == 200
    # The list shows no phases, checklists, quotas or deliverables: it does not read them.
    parts = ("campaignphase", "checklist", "quota", "deliverable")
    assert not [q["sql"] for q in queries.captured_queries if any(p in q["sql"] for p in parts)]
    return len(queries.captured_queries)


def test_campaign_list_queries_are_few_and_constant(cast: Cast, world: World) -> None:
    users = [getattr(cast, f.name) for f in dataclasses.fields(cast)]
    _campaigns(world, 2)
    before = [_list_queries(user) for user in users]
    _campaigns(world, 6)
    assert [_list_queries(user) for user in users] == before
    assert max(before) <= 10
