"""A leader's signature binds the figures the leader saw (README "Signature binding").

The 签字 click carries `shown_fingerprint` of the submitted version the page showed; the sign job (run
later, on the worker) signs only while the version still gives it, the records still give its figures and
the leader is still an active 分管负责人 of the county. While a sign job is pending, the version is neither
re-submitted nor refreshed. Every interleaving below runs on SQLite and on PostgreSQL (`--db=postgresql`);
the two races at the end need PostgreSQL's row locks.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from inspections.models import EnforcementRecord
from portal.choices import Role
from portal.models import AuditEvent
from reporting import services
from reporting.choices import JobStatus, ReportKind, VersionStatus
from reporting.figures import ReportError
from reporting.models import ExportJob, ReportVersion
from reporting.tasks import run_sign
from tests.factories import TEST_PASSWORD

MAY = dt.date(2024, 5, 1)
TABLE = reverse("reporting:table", args=["accountability", "140525108", "2024-05"])
ACT = reverse("reporting:act", args=["accountability", "140525108", "2024-05"])


def submitted(scenario: Any, cast: Any) -> ReportVersion:
    report = services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, campaign=scenario.accountability, month=MAY,
        due_day=23,
    )  # fmt: skip
    return services.report_submit(actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report))


def change_a_figure(scenario: Any) -> None:
    EnforcementRecord.objects.filter(pk=scenario.records["pen_a2"].pk).update(amount=Decimal("3.25"))


def assert_nothing_frozen(version: ReportVersion) -> None:
    fresh = ReportVersion.objects.get(pk=version.pk)
    assert fresh.status == VersionStatus.SUBMITTED
    assert fresh.signed_at is None and fresh.signed_by is None
    assert not fresh.xlsx_file and not fresh.pdf_file and fresh.xlsx_sha256 == "" and fresh.pdf_sha256 == ""
    assert not AuditEvent.objects.filter(object_id=str(version.pk), detail="分管负责人签字，报表冻结").exists()


def run_job(job: ExportJob) -> tuple[str, ExportJob]:
    outcome = run_sign.apply(args=[str(job.pk)]).get()
    job.refresh_from_db()
    return outcome, job


def page_fingerprint(client: Any) -> str:
    page = client.get(TABLE).content.decode()
    found = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page)
    assert found, "the table page offers no 签字"
    return found.group(1)


# --- sequential interleavings (every backend) ---------------------------------------------------------


@pytest.mark.django_db
def test_happy_path_signs_what_was_shown(scenario, cast) -> None:
    version = submitted(scenario, cast)
    shown = services.shown_fingerprint(version)
    job = services.sign_request(actor=cast.county_leader, version=version, fingerprint=shown)
    assert job.fingerprint == shown and job.status == JobStatus.PENDING
    assert run_job(job) == ("success", job)
    signed = ReportVersion.objects.get(pk=version.pk)
    assert signed.status == VersionStatus.SIGNED and signed.signed_by == cast.county_leader
    assert signed.figures == version.figures and signed.fingerprint == version.fingerprint


@pytest.mark.django_db
def test_sign_requested_then_figures_changed_then_resubmit_refused_and_the_job_refuses(scenario, cast) -> None:
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    change_a_figure(scenario)
    with pytest.raises(ReportError, match="签字申请正在处理中"):
        services.report_submit(actor=cast.town_a_staff, version=version)
    assert ReportVersion.objects.get(pk=version.pk).submitted_at == version.submitted_at  # nothing re-submitted
    outcome, job = run_job(job)
    assert outcome == "failed" and job.status == JobStatus.FAILED and "报送后数据已发生变化" in job.error
    assert_nothing_frozen(version)
    # the job has failed: the town may now re-submit, and the leader signs the new figures they are shown
    again = services.report_submit(actor=cast.town_a_staff, version=version)
    assert again.fingerprint != version.fingerprint and again.figures != version.figures
    second = services.sign_request(
        actor=cast.county_leader, version=again, fingerprint=services.shown_fingerprint(again)
    )
    assert run_job(second)[0] == "success"
    assert ReportVersion.objects.get(pk=version.pk).figures == again.figures


@pytest.mark.django_db
def test_resubmitted_after_the_page_was_shown_the_click_is_refused(scenario, cast) -> None:
    version = submitted(scenario, cast)
    shown = services.shown_fingerprint(version)  # what the leader's page showed
    change_a_figure(scenario)
    services.report_submit(actor=cast.town_a_staff, version=version)  # re-submitted with other figures
    with pytest.raises(ReportError, match="申请签字时看到的报表已被重新报送或发生变化"):
        services.sign_request(actor=cast.county_leader, version=version, fingerprint=shown)
    assert not ExportJob.objects.filter(purpose="sign").exists()
    # the same figures re-submitted by someone else also change what the signed files print (填表人, date)
    fresh = ReportVersion.objects.get(pk=version.pk)
    shown = services.shown_fingerprint(fresh)
    services.report_submit(actor=cast.town_a_staff, version=fresh)
    assert ReportVersion.objects.get(pk=version.pk).fingerprint == fresh.fingerprint  # same figures ...
    with pytest.raises(ReportError, match="已被重新报送"):  # ... but another submission
        services.sign_request(actor=cast.county_leader, version=fresh, fingerprint=shown)
    for wrong in ("", "0" * 64):
        with pytest.raises(ReportError, match="已被重新报送"):
            services.sign_request(actor=cast.county_leader, version=fresh, fingerprint=wrong)


@pytest.mark.django_db
def test_the_job_signs_only_the_fingerprint_it_was_given(scenario, cast) -> None:
    """Whatever changed the version under a pending job (a path that forgot the pending rule), the job
    compares the version with what the leader was shown, not with the records alone."""
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    ReportVersion.objects.filter(pk=version.pk).update(submitted_at=timezone.now() + dt.timedelta(minutes=1))
    outcome, job = run_job(job)
    assert outcome == "failed" and "申请签字时看到的报表已被重新报送或发生变化" in job.error
    assert_nothing_frozen(version)
    with pytest.raises(ReportError, match="已被重新报送"):
        services.report_sign(actor=cast.county_leader, version=version, fingerprint=job.fingerprint)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"is_active": False}, "签字人账号已停用"),
        ({"role": Role.COUNTY_STAFF}, "只有本县的分管负责人可以签字"),
        ({"region": "other_county"}, "只有本县的分管负责人可以签字"),
    ],
    ids=["deactivated", "role-changed", "moved-county"],
)
def test_sign_requested_then_the_signer_loses_the_right_the_job_refuses(scenario, cast, change, message) -> None:
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    leader = cast.county_leader
    for field, value in change.items():
        setattr(leader, field, getattr(scenario.world, value) if field == "region" else value)
    leader.save()
    outcome, job = run_job(job)
    assert outcome == "failed" and job.status == JobStatus.FAILED and message in job.error
    assert_nothing_frozen(version)


@pytest.mark.django_db
def test_sign_pending_blocks_resubmit_and_refresh_until_the_job_ends(scenario, cast) -> None:
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    for status in (JobStatus.PENDING, JobStatus.RUNNING):
        ExportJob.objects.filter(pk=job.pk).update(status=status)
        with pytest.raises(ReportError, match="签字申请正在处理中"):
            services.report_submit(actor=cast.town_a_staff, version=version)
        with pytest.raises(ReportError, match="签字申请正在处理中"):
            services.report_refresh(actor=cast.town_a_staff, report=version.report)
        # the nightly/beat refresh (no actor) leaves the submitted version as it is, without failing its step
        assert services.report_refresh(actor=None, report=version.report).pk == version.pk
    assert ReportVersion.objects.get(pk=version.pk).submitted_at == version.submitted_at
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    assert services.report_submit(actor=cast.town_a_staff, version=version).status == VersionStatus.SUBMITTED


@pytest.mark.django_db
def test_the_page_posts_what_it_showed(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    client.force_login(cast.county_leader)
    shown = page_fingerprint(client)
    assert shown == services.shown_fingerprint(version)
    change_a_figure(scenario)
    # the records changed: the page shows other figures than the version and offers no 签字
    page = client.get(TABLE).content.decode()
    assert 'name="fingerprint"' not in page and "填报单位重新报送后才能签字" in page
    services.report_submit(actor=cast.town_a_staff, version=version)
    # the leader clicks on the page opened before the re-submission: refused, nothing queued
    response = client.post(
        ACT, {"action": "sign", "version": version.pk, "fingerprint": shown, "password": TEST_PASSWORD}, follow=True
    )
    assert "申请签字时看到的报表已被重新报送或发生变化" in response.content.decode()
    response = client.post(
        ACT, {"action": "sign", "version": version.pk, "password": TEST_PASSWORD}, follow=True
    )  # no fingerprint
    assert "已被重新报送" in response.content.decode()
    assert not ExportJob.objects.filter(purpose="sign").exists()
    # reloaded, the page shows the new figures and their fingerprint: that one signs
    fresh = page_fingerprint(client)
    assert fresh != shown
    response = client.post(
        ACT, {"action": "sign", "version": version.pk, "fingerprint": fresh, "password": TEST_PASSWORD}
    )
    job = ExportJob.objects.get(purpose="sign")
    assert response["Location"] == reverse("reporting:export", args=[job.pk])
    # while it is pending, the town's 重新报送 and 生成草稿 are refused with the reason
    client.force_login(cast.town_a_staff)
    for action in ("submit", "refresh"):
        response = client.post(ACT, {"action": action, "version": version.pk}, follow=True)
        assert "签字申请正在处理中" in response.content.decode()
    assert run_job(job)[0] == "success"


@pytest.mark.django_db
def test_who_may_not_sign_even_with_the_right_fingerprint(scenario, cast, client) -> None:
    version = submitted(scenario, cast)
    shown = services.shown_fingerprint(version)
    for outsider in (cast.town_a_staff, cast.county_staff, cast.admin, cast.city_viewer, cast.other_county_staff):
        with pytest.raises(ReportError, match="分管负责人"):
            services.sign_request(actor=outsider, version=version, fingerprint=shown)
    cast.county_leader.is_active = False
    cast.county_leader.save()
    with pytest.raises(ReportError, match="分管负责人"):
        services.sign_request(actor=cast.county_leader, version=version, fingerprint=shown)
    client.force_login(cast.town_a_staff)  # the filing unit: sees the table, may not sign it
    response = client.post(
        ACT, {"action": "sign", "version": version.pk, "fingerprint": shown, "password": TEST_PASSWORD}, follow=True
    )
    assert "只有本县的分管负责人可以签字" in response.content.decode()
    client.force_login(cast.county_staff)  # nothing to submit or sign on a town's table: not found
    assert (
        client.post(
            ACT, {"action": "sign", "version": version.pk, "fingerprint": shown, "password": TEST_PASSWORD}
        ).status_code
        == 404
    )
    assert not ExportJob.objects.filter(purpose="sign").exists()
    assert_nothing_frozen(version)


# --- races on PostgreSQL row locks ------------------------------------------------------------------


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the first look is kept for the whole transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _race(version: ReportVersion, calls: dict[str, Any]) -> dict[str, str]:
    """Queue every call on the version's row lock, then release them together."""
    outcomes: dict[str, str] = {}
    start = threading.Barrier(len(calls) + 1)

    def run(name: str, call: Any) -> None:
        try:
            start.wait(timeout=10)
            outcomes[name] = str(call())
        except ReportError as exc:
            outcomes[name] = f"refused: {exc.message}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    with transaction.atomic():
        ReportVersion.objects.select_for_update().get(pk=version.pk)
        for thread in threads:
            thread.start()
        start.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == len(calls)
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(calls)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_sign_job_against_resubmission(scenario, cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks: run with --db=postgresql")
    version = submitted(scenario, cast)
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    change_a_figure(scenario)
    outcomes = _race(
        version,
        {
            "sign": lambda: run_sign.apply(args=[str(job.pk)]).get(),
            "submit": lambda: services.report_submit(actor=cast.town_a_staff, version=version).status,
        },
    )
    # whichever went first, the job refuses (the records changed after the submission the leader saw, or the
    # version was re-submitted): nothing is frozen under the leader's name. The re-submission is refused while
    # the job is pending or running; it goes through only once the job has failed.
    assert outcomes["sign"] == "failed", outcomes
    assert_nothing_frozen(version)
    job.refresh_from_db()
    if outcomes["submit"].startswith("refused: "):
        assert "签字申请正在处理中" in outcomes["submit"]
        assert ReportVersion.objects.get(pk=version.pk).submitted_at == version.submitted_at
    else:
        assert outcomes["submit"] == VersionStatus.SUBMITTED and "报送后数据已发生变化" in job.error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_sign_click_against_resubmission(scenario, cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks: run with --db=postgresql")
    version = submitted(scenario, cast)
    shown = services.shown_fingerprint(version)
    change_a_figure(scenario)
    outcomes = _race(
        version,
        {
            "click": lambda: services.sign_request(actor=cast.county_leader, version=version, fingerprint=shown).pk,
            "submit": lambda: services.report_submit(actor=cast.town_a_staff, version=version).status,
        },
    )
    refused = [name for name, outcome in outcomes.items() if outcome.startswith("refused: ")]
    assert len(refused) == 1, outcomes  # one of them wins the lock, the other is refused
    if refused == ["submit"]:
        assert "签字申请正在处理中" in outcomes["submit"]
        job = ExportJob.objects.get(purpose="sign")
        assert run_job(job)[0] == "failed"  # the records changed after the submission the leader saw
    else:
        assert "已被重新报送" in outcomes["click"] and not ExportJob.objects.filter(purpose="sign").exists()
    assert_nothing_frozen(version)


# --- the API: POST /api/v1/report-versions/{id}/sign/ -------------------------------------------------


@pytest.mark.django_db
def test_the_api_posts_what_it_read(scenario, cast) -> None:
    from rest_framework.test import APIClient

    version = submitted(scenario, cast)
    leader = APIClient()
    leader.force_authenticate(cast.county_leader)
    detail = leader.get(f"/api/v1/reports/{version.report_id}/").json()
    shown = next(v for v in detail["versions"] if v["id"] == version.pk)["sign_fingerprint"]
    assert shown == services.shown_fingerprint(version)
    url = f"/api/v1/report-versions/{version.pk}/sign/"
    without = leader.post(url, {}, format="json")
    assert without.status_code == 400 and "fingerprint" in without.json()
    town = APIClient()
    town.force_authenticate(cast.town_a_staff)
    refused = town.post(url, {"fingerprint": shown}, format="json")
    assert refused.status_code == 403 and "分管负责人" in str(refused.json())
    change_a_figure(scenario)
    services.report_submit(actor=cast.town_a_staff, version=version)  # re-submitted after it was read
    stale = leader.post(url, {"fingerprint": shown, "password": TEST_PASSWORD}, format="json")
    assert stale.status_code == 409 and "已被重新报送" in stale.json()["detail"]
    assert not ExportJob.objects.filter(purpose="sign").exists()
    fresh = services.shown_fingerprint(ReportVersion.objects.get(pk=version.pk))
    accepted = leader.post(url, {"fingerprint": fresh, "password": TEST_PASSWORD}, format="json")
    assert accepted.status_code == 202 and accepted.json()["purpose"] == "sign"
    job = ExportJob.objects.get(pk=accepted.json()["id"])
    assert job.fingerprint == fresh
    # pending: the town's re-submission is refused; then the leader is deactivated before the job runs
    with pytest.raises(ReportError, match="签字申请正在处理中"):
        services.report_submit(actor=cast.town_a_staff, version=version)
    cast.county_leader.is_active = False
    cast.county_leader.save()
    outcome, job = run_job(job)
    assert outcome == "failed" and "签字人账号已停用" in job.error
    assert_nothing_frozen(version)
