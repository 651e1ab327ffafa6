"""Bulk steps on the 待办 page (issue 13 §6): a town verifies many rectified general hazards with one comment,
the county confirms or closes many; each hazard through the same service in its own transaction, one result
per hazard, refusals in Chinese, audited as usual. Who may not, and bad input, change nothing."""

from __future__ import annotations

from django.test import Client

from hazards.bulk import bulk_action_of, bulk_actions_for, hazard_bulk_step
from hazards.choices import HazardLevel, HazardStatus
from hazards.models import Hazard, HazardEvent
from portal.choices import AuditAction
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.hazards.conftest import add_evidence, make_hazard

GENERAL = HazardLevel.GENERAL


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _rectified(enterprise, **fields) -> Hazard:  # type: ignore[no-untyped-def]
    hazard = make_hazard(enterprise, level=GENERAL, status=HazardStatus.RECTIFIED, **fields)
    add_evidence(hazard)
    return hazard


def test_the_town_verifies_many_with_one_comment_and_a_result_each(cast: Cast, world: World) -> None:
    first = _rectified(world.enterprise_a)
    second = _rectified(world.enterprise_a2)
    own_work = _rectified(world.enterprise_a, rectified_by=cast.town_a_staff)  # the rectifier never verifies
    still_rectifying = make_hazard(world.enterprise_a, level=GENERAL, status=HazardStatus.RECTIFYING)
    elsewhere = _rectified(world.enterprise_b)  # 高都镇: not this town's
    client = _client(cast.town_a_staff)
    queue = client.get("/hazards/queue/").content.decode()
    assert 'data-testid="bulk-form"' in queue and f'name="hazards" value="{first.pk}"' in queue
    ids = [first.pk, second.pk, own_work.pk, still_rectifying.pk, elsewhere.pk]
    response = client.post(
        "/hazards/queue/bulk/", {"action": "verify", "hazards": ids, "comment": "经现场核查，已整改到位。"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "成功 2 项" in page and "未办理 3 项" in page
    statuses = dict(Hazard.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == HazardStatus.VERIFIED
    assert statuses[own_work.pk] == HazardStatus.RECTIFIED
    assert statuses[still_rectifying.pk] == HazardStatus.RECTIFYING
    assert statuses[elsewhere.pk] == HazardStatus.RECTIFIED
    for hazard in (first, second):
        event = HazardEvent.objects.filter(hazard=hazard, action="verify").get()
        assert event.comment == "经现场核查，已整改到位。" and event.actor == cast.town_a_staff
    assert "整改填报人不能验收自己填报的整改" in page
    assert "隐患不存在或不在您的辖区内" in page
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(elsewhere.pk)).exists()


def test_the_county_confirms_and_closes_in_bulk(cast: Cast, world: World) -> None:
    waiting = [make_hazard(e, status=HazardStatus.PENDING_COUNTY) for e in (world.enterprise_a, world.enterprise_b)]
    asked = make_hazard(world.enterprise_a, status=HazardStatus.CLOSURE_REQUESTED, rectified_on=None)
    assert [a for a, _ in bulk_actions_for(cast.county_staff)] == ["county_confirm", "close"]
    assert bulk_action_of(cast.county_staff, asked) == "close"
    results = hazard_bulk_step(
        actor=cast.county_staff, action="county_confirm", hazard_ids=[h.pk for h in waiting] + [asked.pk]
    )
    assert [r.ok for r in results] == [True, True, False]
    assert "请刷新" in results[2].message or "状态" in results[2].message
    assert set(Hazard.objects.filter(pk__in=[h.pk for h in waiting]).values_list("status", flat=True)) == {
        HazardStatus.CONFIRMED
    }
    response = _client(cast.county_staff).post("/hazards/queue/bulk/", {"action": "close", "hazards": [asked.pk]})
    assert "成功 1 项" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == HazardStatus.CLOSED and asked.verified_by == cast.county_staff


def test_who_may_not_and_bad_input_change_nothing(cast: Cast, world: World) -> None:
    hazard = _rectified(world.enterprise_a)
    pending = make_hazard(world.enterprise_a, status=HazardStatus.PENDING_COUNTY)
    assert bulk_actions_for(cast.clerk) == [] and bulk_actions_for(cast.principal) == []
    assert 'data-testid="bulk-form"' not in _client(cast.clerk).get("/hazards/queue/").content.decode()
    cases = [
        (cast.clerk, {"action": "verify", "hazards": [hazard.pk]}, "请选择要批量办理的事项"),
        (cast.town_a_staff, {"action": "county_confirm", "hazards": [pending.pk]}, "请选择要批量办理的事项"),
        (cast.town_a_staff, {"action": "verify", "hazards": []}, "请勾选要办理的隐患"),
        (cast.town_a_staff, {"action": "verify", "hazards": ["x"]}, "请勾选要办理的隐患"),
        (cast.town_a_staff, {"action": "verify", "hazards": [hazard.pk], "comment": "长" * 1001}, "意见不能超过"),
        (cast.county_staff, {"action": "verify", "hazards": [hazard.pk]}, "请选择要批量办理的事项"),
    ]
    for user, data, message in cases:
        response = _client(user).post("/hazards/queue/bulk/", data, follow=True)
        assert message in response.content.decode(), (user, data)
    hazard.refresh_from_db()
    pending.refresh_from_db()
    assert hazard.status == HazardStatus.RECTIFIED and pending.status == HazardStatus.PENDING_COUNTY
    assert not HazardEvent.objects.filter(action__in=["verify", "county_confirm"]).exists()
    assert Client().post("/hazards/queue/bulk/", {"action": "verify", "hazards": [hazard.pk]}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == HazardStatus.RECTIFIED
