"""Self-check fit and finish (issue 13 §6): the sign page lists the 不符合 answers that have neither a 说明 nor
a hazard and asks to confirm them; the hazards are picked from a checkbox list; the 未回答 counter follows
the answers saved with htmx."""

from __future__ import annotations

import re

from django.test import Client

from inspections import services
from inspections.models import Campaign, SelfCheckReport
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import make_hazard


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _answered(cast: Cast, world: World, campaign: Campaign) -> SelfCheckReport:
    """Every item answered so that it complies, except one 不符合 answer without a note."""
    report = services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    rows = list(report.answers.select_related("item").filter(answer=""))
    for row in rows[1:]:
        services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer=row.item.expected_answer)
    bad = "no" if rows[0].item.expected_answer == "yes" else "yes"
    services.self_check_answer(actor=cast.clerk, report=report, item=rows[0].item, answer=bad)
    return report


def _sign(client: Client, report: SelfCheckReport, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(report.get_absolute_url()).content.decode()
    shown = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page)
    assert shown
    data = {"password": TEST_PASSWORD, "confirm": "on", "fingerprint": shown.group(1), **extra}
    return client.post(f"/inspections/self-checks/{report.pk}/sign/", data)


def test_an_unexplained_non_compliance_is_listed_and_must_be_confirmed(
    cast: Cast, world: World, campaign83: Campaign
) -> None:
    report = _answered(cast, world, campaign83)
    unexplained = services.self_check_unexplained(report)
    assert len(unexplained) == 1
    principal = _client(cast.principal)
    page = principal.get(report.get_absolute_url()).content.decode()
    assert 'data-testid="unexplained"' in page and unexplained[0].item.text[:20] in page
    refused = _sign(principal, report)
    assert refused.status_code == 400
    assert "请补充，或勾选确认后再签字" in refused.content.decode()
    report.refresh_from_db()
    assert report.status != "submitted"
    signed = _sign(principal, report, unexplained_confirmed="on")
    assert signed.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_note_or_an_attached_hazard_explains_it(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = _answered(cast, world, campaign83)
    row = services.self_check_unexplained(report)[0]
    services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer=row.answer, note="已整改")
    assert services.self_check_unexplained(report) == []
    services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer=row.answer, note="")
    assert len(services.self_check_unexplained(report)) == 1
    hazard = make_hazard(world.enterprise_a)
    services.self_check_update(actor=cast.clerk, report=report, summary="", hazards=[hazard])
    assert services.self_check_unexplained(report) == []
    principal = _client(cast.principal)
    assert 'data-testid="unexplained"' not in principal.get(report.get_absolute_url()).content.decode()
    assert _sign(principal, report).status_code == 302  # nothing to confirm
    report.refresh_from_db()
    assert report.status == "submitted"


def test_hazards_are_picked_from_a_checkbox_list(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    own = make_hazard(world.enterprise_a)
    other = make_hazard(world.enterprise_b)
    page = _client(cast.clerk).get(report.get_absolute_url()).content.decode()
    assert "<select" not in page.split('data-testid="hazard-picker"')[1].split("</fieldset>")[0]
    assert f'type="checkbox" name="hazards" value="{own.pk}"' in page
    assert f'value="{other.pk}"' not in page
    assert "data-picker-filter" in page
    saved = _client(cast.clerk).post(
        f"/inspections/self-checks/{report.pk}/summary/", {"summary": "", "hazards": [own.pk, other.pk]}
    )
    assert saved.status_code == 302
    assert list(report.hazards.all()) == [own]  # out of scope ids are ignored


def test_the_unanswered_counter_follows_the_answers(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign83, enterprise=world.enterprise_a)
    client = _client(cast.clerk)
    missing = report.answers.filter(answer="").count()
    page = client.get(report.get_absolute_url()).content.decode()
    assert f'data-testid="unanswered-count">{missing}<' in page
    row = report.answers.filter(answer="").select_related("item").first()
    assert row is not None
    saved = client.post(
        f"/inspections/self-checks/{report.pk}/items/{row.item_id}/",
        {"answer": "yes", "note": ""},
        HTTP_HX_REQUEST="true",
    )
    body = saved.content.decode()
    assert 'id="unanswered-note"' in body and 'hx-swap-oob="true"' in body
    assert f'data-testid="unanswered-count">{missing - 1}<' in body
