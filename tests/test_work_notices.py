"""Notify where work arrives (issue 13 §2): who is told, and who is not, when a table is submitted, a
self-check is ready to sign or submitted, and an enterprise files its ledger. In-app always, e-mail when a
server is configured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from hazards.ledger import ledger_import
from hazards.models import Notification
from inspections import services as inspection_services
from inspections.answered import self_check_fingerprint
from inspections.models import Campaign, ChecklistArea, ChecklistItem
from portal.choices import Role
from portal.models import User
from reporting import services as report_services
from reporting.choices import ReportKind
from tests.conftest import Cast, World
from tests.factories import UserFactory
from tests.hazards.conftest import catalogue  # noqa: F401 - the catalogue fixture
from tests.hazards.ledger_xlsx import row, simple


def told(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("message", flat=True))


def everyone_told(cast: Cast) -> set[str]:
    return {name for name, user in cast.all().items() if Notification.objects.filter(recipient=user).exists()}


@pytest.fixture
def campaign(world: World) -> Campaign:
    campaign = Campaign.objects.create(
        name="2026年非煤矿山专项检查", document_number="泽应急发〔2026〕1号", issuing_region=world.county,
        start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 8, 30),
    )  # fmt: skip
    area = ChecklistArea.objects.create(campaign=campaign, order=1, title="主要负责人履职")
    ChecklistItem.objects.create(area=area, order=1, text="是否建立安全生产责任制")
    ChecklistItem.objects.create(area=area, order=2, text="是否开展隐患排查")
    return campaign


def _draft(campaign: Campaign, region: Any) -> Any:
    report = report_services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=region, campaign=campaign, month=dt.date(2026, 5, 1), due_day=23
    )
    return report_services.report_refresh(actor=None, report=report)


def test_a_town_table_submitted_tells_the_county_staff(cast: Cast, world: World, campaign: Campaign) -> None:
    second = UserFactory(username="county_2", role=Role.COUNTY_STAFF, region=world.county)
    report_services.report_submit(actor=cast.town_a_staff, version=_draft(campaign, world.town_a))
    assert everyone_told(cast) == {"county_staff"}
    assert told(cast.county_staff) == told(second)
    assert "巴公镇2026年5月“追责问责情况统计表”" in told(cast.county_staff)[0]
    assert "已报送" in told(cast.county_staff)[0]


def test_the_county_table_submitted_waits_for_the_leader(cast: Cast, world: World, campaign: Campaign) -> None:
    version = _draft(campaign, world.county)
    report_services.report_submit(actor=cast.county_staff, version=version)
    assert everyone_told(cast) == {"county_leader"}
    assert "待分管负责人签字" in told(cast.county_leader)[0]
    # submitting the same version again tells nobody twice
    report_services.report_submit(actor=cast.county_staff, version=version)
    assert len(told(cast.county_leader)) == 1


def test_a_refused_submission_tells_nobody(cast: Cast, world: World, campaign: Campaign) -> None:
    with pytest.raises(report_services.ReportError):
        report_services.report_submit(actor=cast.town_b_staff, version=_draft(campaign, world.town_a))
    assert everyone_told(cast) == set()


def test_the_principal_is_asked_to_sign_once_every_item_is_answered(
    cast: Cast, world: World, campaign: Campaign
) -> None:
    report = inspection_services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    first, second = (answer.item for answer in report.answers.order_by("item__order"))
    inspection_services.self_check_answer(actor=cast.clerk, report=report, item=first, answer="yes")
    assert everyone_told(cast) == set()  # one item still open
    inspection_services.self_check_answer(actor=cast.clerk, report=report, item=second, answer="yes")
    assert everyone_told(cast) == {"principal"}
    assert "请主要负责人核对后签字报送" in told(cast.principal)[0]
    # a changed answer is no new arrival
    inspection_services.self_check_answer(actor=cast.clerk, report=report, item=second, answer="no", note="整改中")
    assert len(told(cast.principal)) == 1


def test_the_principal_answering_it_themselves_is_not_told(cast: Cast, world: World, campaign: Campaign) -> None:
    report = inspection_services.self_check_start(
        actor=cast.principal, campaign=campaign, enterprise=world.enterprise_a
    )
    for answer in report.answers.all():
        inspection_services.self_check_answer(actor=cast.principal, report=report, item=answer.item, answer="yes")
    assert everyone_told(cast) == set()


def test_a_signed_self_check_tells_its_town(cast: Cast, world: World, campaign: Campaign) -> None:
    report = inspection_services.self_check_start(actor=cast.clerk, campaign=campaign, enterprise=world.enterprise_a)
    report.answers.update(answer="yes")
    inspection_services.self_check_sign(
        actor=cast.principal, report=report, signer=cast.principal, fingerprint=self_check_fingerprint(report)
    )
    assert everyone_told(cast) == {"town_a_staff"}
    assert "已报送“2026年非煤矿山专项检查”自查自改报告（主要负责人王建国签字）" in told(cast.town_a_staff)[0]


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_an_enterprise_ledger_tells_its_town(cast: Cast, world: World, media: Path) -> None:
    result = ledger_import(source=simple([row()]), enterprise=world.enterprise_a, actor=cast.clerk)
    assert result.committed
    assert everyone_told(cast) == {"town_a_staff"}
    assert told(cast.town_a_staff) == ["泽州县示范矿业有限公司上传了隐患台账：新增 1 条，更新 0 条，未变 0 条。"]


def test_a_ledger_filed_by_the_town_does_not_tell_the_town(cast: Cast, world: World, media: Path) -> None:
    ledger_import(source=simple([row()]), enterprise=world.enterprise_a, actor=cast.town_a_staff)
    assert "town_a_staff" not in everyone_told(cast)
    assert {"clerk", "principal"} <= everyone_told(cast)  # as before: the enterprise hears of it


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_table_notices_are_emailed_when_configured(
    cast: Cast, world: World, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.county_leader.pk).update(email="leader@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        report_services.report_submit(actor=cast.county_staff, version=_draft(campaign, world.county))
    assert [message.to for message in mail.outbox] == [["leader@example.cn"]]
    assert mail.outbox[0].subject == "非煤矿山安全监管门户：月度报表待办"
    assert "待分管负责人签字" in mail.outbox[0].body


def test_no_email_with_the_console_backend(
    cast: Cast, world: World, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    User.objects.filter(pk=cast.county_leader.pk).update(email="leader@example.cn")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            report_services.report_submit(actor=cast.county_staff, version=_draft(campaign, world.county))
        assert callbacks == []
    assert len(told(cast.county_leader)) == 1


def test_the_table_page_submit_tells_the_county(cast: Cast, world: World, campaign: Campaign) -> None:
    from django.test import Client

    from inspections.choices import DeliverableKind, DeliverableSchedule, DeliverableSubmitter, DeliverableTable
    from inspections.models import Deliverable

    Deliverable.objects.create(
        campaign=campaign, order=1, name="追责问责情况统计表", submitter=DeliverableSubmitter.TOWN, recipients="县局",
        kind=DeliverableKind.MONTHLY_TABLE, schedule=DeliverableSchedule.MONTHLY, day_of_month=23,
        table=DeliverableTable.ACCOUNTABILITY,
    )  # fmt: skip
    version = _draft(campaign, world.town_a)
    client = Client()
    client.force_login(cast.town_a_staff)
    url = f"/reports/accountability/{world.town_a.code}/2026-05/act/"
    response = client.post(url, {"action": "submit", "version": version.pk})
    assert response.status_code == 302
    assert everyone_told(cast) == {"county_staff"}
