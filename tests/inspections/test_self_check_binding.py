"""The principal signs the 自查自改报告 they saw, and a signed report keeps the words it answered
(README "Signature binding").

The page's sign form and the API post `self_check_fingerprint` of the report as shown; anything shown that
changes before the signature (an answer, a note, evidence, the summary, linked hazards, the checklist's
wording) makes the service refuse with a Chinese message and sign nothing. The signature stores the
checklist and the campaign's details as answered; the signed report's page and API read that copy.
Runs on SQLite and PostgreSQL (`--db=postgresql`); the race at the end needs PostgreSQL's row locks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from inspections import services
from inspections.answered import self_check_fingerprint
from inspections.models import Campaign, ChecklistItem, SelfCheckReport
from portal.models import AuditEvent
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import make_hazard

QUESTION = "每月在生产现场"
CHANGED = "是否每月在生产现场带班作业不少于5个工作日（修订后的表述）"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def answered(cast: Cast, world: World, campaign: Campaign) -> SelfCheckReport:
    report = services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    for row in report.answers.select_related("item"):
        if not row.answer:
            services.self_check_answer(actor=cast.clerk, report=report, item=row.item, answer="yes")
    return SelfCheckReport.objects.get(pk=report.pk)


def page_fingerprint(client: Client, report: SelfCheckReport) -> str:
    page = client.get(report.get_absolute_url()).content.decode()
    found = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page)
    assert found, "the page offers no sign form"
    return found.group(1)


def sign_page(client: Client, report: SelfCheckReport, fingerprint: str | None) -> Any:
    data = {"password": TEST_PASSWORD, "confirm": "on", "unexplained_confirmed": "on"}
    if fingerprint is not None:
        data["fingerprint"] = fingerprint
    return client.post(f"/inspections/self-checks/{report.pk}/sign/", data)


def assert_not_signed(report: SelfCheckReport) -> None:
    fresh = SelfCheckReport.objects.get(pk=report.pk)
    assert fresh.status == "draft" and fresh.signed_at is None and fresh.checklist_snapshot == {}
    assert not AuditEvent.objects.filter(object_id=str(report.pk), detail__startswith="主要负责人签字报送").exists()


def _item(report: SelfCheckReport) -> ChecklistItem:
    return report.answers.select_related("item").get(item__text__startswith=QUESTION).item


CHANGES: dict[str, Callable[[Cast, World, SelfCheckReport], Any]] = {
    "answer": lambda cast, world, report: services.self_check_answer(
        actor=cast.clerk, report=report, item=_item(report), answer="no"
    ),
    "note": lambda cast, world, report: services.self_check_answer(
        actor=cast.clerk, report=report, item=_item(report), answer="yes", note="补充说明"
    ),
    "evidence": lambda cast, world, report: services.self_check_add_evidence(
        actor=cast.clerk,
        answer=report.answers.get(item=_item(report)),
        upload=SimpleUploadedFile("考勤.pdf", b"%PDF-1.5 x"),
    ),
    "summary": lambda cast, world, report: services.self_check_update(
        actor=cast.clerk, report=report, summary="新综述"
    ),
    "hazards": lambda cast, world, report: services.self_check_update(
        actor=cast.clerk, report=report, hazards=[make_hazard(world.enterprise_a)]
    ),
    "question": lambda cast, world, report: ChecklistItem.objects.filter(pk=_item(report).pk).update(text=CHANGED),
    "expected": lambda cast, world, report: ChecklistItem.objects.filter(pk=_item(report).pk).update(
        expected_answer="no"
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_anything_shown_changed_before_the_signature_refuses_it(
    cast: Cast, world: World, campaign83: Campaign, change: str
) -> None:
    report = answered(cast, world, campaign83)
    shown = self_check_fingerprint(report)
    CHANGES[change](cast, world, report)
    assert self_check_fingerprint(SelfCheckReport.objects.get(pk=report.pk)) != shown
    with pytest.raises(ValidationError, match="打开页面后报告内容已有变化"):
        services.self_check_sign(actor=cast.principal, report=report, signer=cast.principal, fingerprint=shown)
    assert_not_signed(report)
    fresh = SelfCheckReport.objects.get(pk=report.pk)
    signed = services.self_check_sign(
        actor=cast.principal, report=fresh, signer=cast.principal, fingerprint=self_check_fingerprint(fresh)
    )
    assert signed.status == "submitted"


def test_the_page_posts_what_it_showed(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = answered(cast, world, campaign83)
    principal = _client(cast.principal)
    shown = page_fingerprint(principal, report)
    assert shown == self_check_fingerprint(report)
    services.self_check_answer(actor=cast.clerk, report=report, item=_item(report), answer="no")  # meanwhile
    refused = sign_page(principal, report, shown)
    assert refused.status_code == 400 and "打开页面后报告内容已有变化" in refused.content.decode()
    missing = sign_page(principal, report, None)  # a form without the fingerprint signs nothing either
    assert missing.status_code == 400 and "打开页面后报告内容已有变化" in missing.content.decode()
    assert_not_signed(report)
    ok = sign_page(principal, report, page_fingerprint(principal, report))
    assert ok.status_code == 302
    signed = SelfCheckReport.objects.get(pk=report.pk)
    assert signed.status == "submitted" and signed.answers.get(item=_item(report)).answer == "no"


def test_an_answer_saved_on_the_page_updates_that_page_only(cast: Cast, world: World, campaign83: Campaign) -> None:
    """The town fills in the answers and the principal signs in person on the same page: htmx swaps the new
    fingerprint into that page's sign form. A page opened before the change still carries the old one."""
    report = answered(cast, world, campaign83)
    town, principal = _client(cast.town_a_staff), _client(cast.principal)
    other_page = page_fingerprint(principal, report)
    saved = town.post(
        f"/inspections/self-checks/{report.pk}/items/{_item(report).pk}/",
        {"answer": "no", "note": "当面核对后更正"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    swapped = re.search(r'name="fingerprint" id="id_fingerprint" value="([0-9a-f]{64})" hx-swap-oob="true"', saved)
    assert swapped and swapped.group(1) == self_check_fingerprint(report) != other_page
    refused = sign_page(principal, report, other_page)
    assert refused.status_code == 400 and "打开页面后报告内容已有变化" in refused.content.decode()
    on_device = town.post(
        f"/inspections/self-checks/{report.pk}/sign/",
        {
            "username": "principal",
            "password": TEST_PASSWORD,
            "confirm": "on",
            "unexplained_confirmed": "on",
            "fingerprint": swapped.group(1),
        },
    )
    assert on_device.status_code == 302
    assert SelfCheckReport.objects.get(pk=report.pk).status == "submitted"


def test_the_api_posts_what_it_read(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = answered(cast, world, campaign83)
    api = APIClient()
    api.force_authenticate(cast.principal)
    url = f"/api/v1/self-check-reports/{report.pk}/"
    shown = api.get(url).json()["fingerprint"]
    assert shown == self_check_fingerprint(report)
    without = api.post(f"{url}sign/", {"password": TEST_PASSWORD}, format="json")
    assert without.status_code == 400 and "fingerprint" in without.json()
    services.self_check_update(actor=cast.clerk, report=report, summary="签字前改了综述")
    refused = api.post(f"{url}sign/", {"password": TEST_PASSWORD, "fingerprint": shown}, format="json")
    assert refused.status_code == 400 and "打开页面后报告内容已有变化" in str(refused.json())
    assert_not_signed(report)
    again = api.get(url).json()["fingerprint"]
    signed = api.post(f"{url}sign/", {"password": TEST_PASSWORD, "fingerprint": again}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "submitted"


def test_an_inactive_or_foreign_signer_signs_nothing(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = answered(cast, world, campaign83)
    shown = self_check_fingerprint(report)
    for signer in (cast.clerk, cast.town_a_staff):
        with pytest.raises(PermissionDenied):
            services.self_check_sign(actor=signer, report=report, signer=signer, fingerprint=shown)
    cast.principal.is_active = False
    cast.principal.save()
    with pytest.raises(PermissionDenied, match="签字账号已停用"):
        services.self_check_sign(actor=cast.principal, report=report, signer=cast.principal, fingerprint=shown)
    assert_not_signed(report)


def test_a_signed_report_keeps_the_words_it_answered(cast: Cast, world: World, campaign83: Campaign) -> None:
    report = answered(cast, world, campaign83)
    item = _item(report)
    services.self_check_answer(actor=cast.clerk, report=report, item=item, answer="yes", note="已履职")
    old_text, old_campaign = item.text, campaign83.name
    area = item.area
    old_area = area.title
    fresh = SelfCheckReport.objects.get(pk=report.pk)
    services.self_check_sign(
        actor=cast.principal, report=fresh, signer=cast.principal, fingerprint=self_check_fingerprint(fresh)
    )
    stored = SelfCheckReport.objects.get(pk=report.pk).checklist_snapshot
    assert stored["items"][str(item.pk)]["text"] == old_text and stored["campaign"]["name"] == old_campaign

    # the bureau edits the checklist and the campaign afterwards (as its admin page saves them)
    item.text, item.expected_answer, item.guidance = CHANGED, "no", "修订后的要求"
    item.save()
    area.title = "修订后的检查方面"
    area.save()
    campaign83.name, campaign83.document_number = "修订后的行动名称", "泽应急发〔2099〕1号"
    campaign83.save()

    for viewer in (cast.principal, cast.town_a_staff, cast.county_staff):
        page = _client(viewer).get(report.get_absolute_url()).content.decode()
        assert old_text in page and CHANGED not in page
        assert old_area in page and "修订后的检查方面" not in page
        # the report's heading names the campaign as answered (the breadcrumb links to the campaign as it is now)
        heading = re.search(r'data-testid="campaign-shown">([^<]*)', page)
        assert heading and heading.group(1).startswith(f"{old_campaign}（泽应急发〔2024〕83号）")
        assert "修订后的要求" not in page
        # answered "是" against "合规回答：是": still compliant (the edited expected answer would say otherwise)
        block = page.split(f'id="item-{item.pk}"', 1)[1].split('id="item-', 1)[0]
        assert old_text in block and "已履职" in block and "不符合" not in block
    api = APIClient()
    api.force_authenticate(cast.county_staff)
    data = api.get(f"/api/v1/self-check-reports/{report.pk}/").json()
    row = next(a for a in data["answers"] if a["item"] == item.pk)
    assert row["text"] == old_text and row["expected_answer"] == "yes" and row["note"] == "已履职"
    assert data["campaign_name"] == old_campaign
    listed = api.get("/api/v1/self-check-reports/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    listed_row = next(a for r in rows if r["id"] == report.pk for a in r["answers"] if a["item"] == item.pk)
    assert listed_row["text"] == old_text

    # a draft (another enterprise's) reads the checklist as it is now
    draft = services.self_check_start(actor=cast.town_a_staff, campaign=campaign83, enterprise=world.enterprise_a2)
    page = _client(cast.town_a_staff).get(draft.get_absolute_url()).content.decode()
    assert CHANGED in page and "修订后的行动名称" in page


# --- a race on PostgreSQL row locks -----------------------------------------------------------------


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
def test_race_answer_edit_against_the_signature(cast: Cast, world: World, campaign83: Campaign) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks: run with --db=postgresql")
    report = answered(cast, world, campaign83)
    shown = self_check_fingerprint(report)
    item = _item(report)
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
        "sign": lambda: services.self_check_sign(
            actor=cast.principal, report=report, signer=cast.principal, fingerprint=shown
        ),
        "edit": lambda: services.self_check_answer(actor=cast.clerk, report=report, item=item, answer="no"),
    }
    threads = [threading.Thread(target=run, args=pair) for pair in calls.items()]
    with transaction.atomic():
        SelfCheckReport.objects.select_for_update().get(pk=report.pk)
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
    fresh = SelfCheckReport.objects.get(pk=report.pk)
    answer = fresh.answers.get(item=item).answer
    if outcomes["sign"] == "ok":  # signed first: the edit is refused, what was signed is what was shown
        assert "不能再修改" in outcomes["edit"] and answer == "yes" and fresh.status == "submitted"
    else:  # edited first: the signature of the old content is refused
        assert "打开页面后报告内容已有变化" in outcomes["sign"] and answer == "no" and fresh.status == "draft"
