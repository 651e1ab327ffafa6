"""A report job whose worker died (kill -9) comes back from the broker marked "redelivered" (late
acknowledgement), or from the sweep of abandoned jobs (reporting/leases.py): it must finish, once, and
only once its dead holder's heartbeat is past the lease. tests/prod/test_faults.py does the same with
real processes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from reporting import leases, services
from reporting.choices import JobStatus, ReportKind, VersionStatus
from reporting.models import ExportJob, ReportVersion
from reporting.tasks import run_export, run_sign

pytestmark = pytest.mark.django_db

MAY = dt.date(2024, 5, 1)


def deliver(task: Any, job_id: Any, *, redelivered: bool) -> str:
    """Run the task body as the worker does for a message with this delivery flag."""
    task.push_request(id="t-1", retries=0, delivery_info={"redelivered": redelivered})
    try:
        return task.run(str(job_id))  # type: ignore[no-any-return]
    finally:
        task.pop_request()


def past_the_lease() -> time_machine.travel:
    """The clock moved past the lease: a holder that died has stopped renewing its heartbeat."""
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=leases.lease_seconds() + 1), tick=False)


def job_files(job: ExportJob) -> list[str]:
    storage = job.file.storage
    folder = f"reports/exports/{job.created_at:%Y/%m}"
    if not storage.exists(folder):
        return []
    return [name for name in storage.listdir(folder)[1] if name.startswith(str(job.pk))]


def left_running(scenario: Any, cast: Any, file_format: str = "xlsx") -> ExportJob:
    """A job claimed by a worker that then died: running, one attempt, no file."""
    job = services.export_request(
        actor=cast.county_staff, kind=ReportKind.ACCOUNTABILITY, region=scenario.world.county, month=MAY,
        file_format=file_format,
    )  # fmt: skip
    assert services.export_claim(job_id=job.pk, claimant="t-dead")
    return job


def test_a_redelivered_job_left_running_by_a_dead_worker_completes_once(scenario, cast) -> None:
    job = left_running(scenario, cast)
    # A second copy of a message that is not a redelivery (the job may still be running elsewhere) leaves it.
    assert deliver(run_export, job.pk, redelivered=False) == "not pending"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and not job.file
    # Nor does a redelivery while the holder's heartbeat is fresh: it may be alive, running long.
    assert deliver(run_export, job.pk, redelivered=True) == "not pending"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1

    with past_the_lease():
        assert deliver(run_export, job.pk, redelivered=True) == "success"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS and job.attempts == 2 and job.file
    assert len(job_files(job)) == 1
    # Delivered once more (the broker lost the acknowledgement): nothing is built again.
    assert deliver(run_export, job.pk, redelivered=True) == "not pending"
    job.refresh_from_db()
    assert job.attempts == 2 and len(job_files(job)) == 1


def test_two_copies_finishing_keep_one_file(scenario, cast) -> None:
    job = left_running(scenario, cast)
    first = services.export_finish(job_id=job.pk, content=b"first", file_name="a.xlsx")
    second = services.export_finish(job_id=job.pk, content=b"second", file_name="a.xlsx")
    assert second.file.name == first.file.name
    with second.file.open("rb") as handle:
        assert handle.read() == b"first"
    assert len(job_files(job)) == 1


def test_a_redelivered_sign_job_signs_once(scenario, cast) -> None:
    report = services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, campaign=scenario.accountability, month=MAY,
        due_day=23,
    )  # fmt: skip
    version = services.report_submit(
        actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report)
    )
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    assert services.export_claim(job_id=job.pk, claimant="t-dead")  # the worker claimed it ...
    services.report_sign(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )  # ... signed, then died
    signed = ReportVersion.objects.get(pk=version.pk)
    files = (signed.xlsx_file.name, signed.pdf_file.name, signed.xlsx_sha256, signed.pdf_sha256)

    with past_the_lease():
        assert deliver(run_sign, job.pk, redelivered=True) == "success"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS and job.error == ""
    after = ReportVersion.objects.get(pk=version.pk)
    assert after.status == VersionStatus.SIGNED
    assert (after.xlsx_file.name, after.pdf_file.name, after.xlsx_sha256, after.pdf_sha256) == files
    assert ReportVersion.objects.filter(report=report).count() == 1


def test_a_redelivered_sign_job_that_had_not_signed_yet_signs(scenario, cast) -> None:
    report = services.report_get_or_create(
        kind=ReportKind.ACCOUNTABILITY, region=scenario.world.town_a, campaign=scenario.accountability, month=MAY,
        due_day=23,
    )  # fmt: skip
    version = services.report_submit(
        actor=cast.town_a_staff, version=services.report_refresh(actor=None, report=report)
    )
    job = services.sign_request(
        actor=cast.county_leader, version=version, fingerprint=services.shown_fingerprint(version)
    )
    assert services.export_claim(job_id=job.pk, claimant="t-dead")  # claimed, then the worker died before signing
    assert deliver(run_sign, job.pk, redelivered=False) == "not pending"
    with past_the_lease():
        assert deliver(run_sign, job.pk, redelivered=True) == "success"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS and job.attempts == 2
    assert ReportVersion.objects.get(pk=version.pk).status == VersionStatus.SIGNED
