"""The claim, heartbeat and sweep of report/sign jobs (reporting/leases.py): a job whose worker died is
requeued once its heartbeat is past the lease, for any worker; a job whose holder is alive never runs a
second time; tests/prod/test_faults.py measures it with real processes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from portal.models import AuditEvent
from reporting import leases, services, tasks
from reporting.choices import JobPurpose, JobStatus, ReportKind
from reporting.models import ExportJob

MAY = dt.date(2024, 5, 1)


def request_job(scenario: Any, cast: Any, month: dt.date = MAY) -> ExportJob:
    # One active job per user × table × format (limits): distinct jobs are of distinct months.
    return services.export_request(
        actor=cast.county_staff, kind=ReportKind.ACCOUNTABILITY, region=scenario.world.county, month=month,
        file_format="xlsx",
    )  # fmt: skip


def later(seconds: float) -> time_machine.travel:
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=False)


@pytest.mark.django_db
def test_a_running_job_is_claimed_again_only_past_its_lease(scenario, cast) -> None:
    job = request_job(scenario, cast)
    assert services.export_claim(job_id=job.pk, claimant="first")
    assert not services.export_claim(job_id=job.pk, claimant="second")  # the holder is alive
    with later(leases.lease_seconds() - 1):
        assert not services.export_claim(job_id=job.pk, claimant="second")
    with later(leases.lease_seconds() + 1):
        assert services.export_claim(job_id=job.pk, claimant="second")
        assert not services.export_claim(job_id=job.pk, claimant="third")  # one taker only
    job.refresh_from_db()
    assert (job.status, job.attempts, job.claimed_by) == (JobStatus.RUNNING, 2, "second")


@pytest.mark.django_db
def test_the_heartbeat_keeps_a_claim_alive_and_renews_only_its_own(scenario, cast) -> None:
    job = request_job(scenario, cast)
    assert services.export_claim(job_id=job.pk, claimant="holder")
    with later(leases.lease_seconds() * 0.8):
        assert leases.export_heartbeat(job_id=job.pk, claimant="holder")
        assert not leases.export_heartbeat(job_id=job.pk, claimant="someone-else")
    # Renewed at 0.8 lease: at 1.5 leases after the claim it is still held.
    with later(leases.lease_seconds() * 1.5):
        assert not services.export_claim(job_id=job.pk, claimant="second")
        assert leases.export_requeue_abandoned() == []
    services.job_succeed(job_id=job.pk)
    assert not leases.export_heartbeat(job_id=job.pk, claimant="holder")  # a finished job is not "running"


@pytest.mark.django_db
def test_the_sweep_requeues_abandoned_jobs_only_and_audits_it(scenario, cast, monkeypatch) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.run_export, "delay", lambda job_id: sent.append(("export", job_id)))
    monkeypatch.setattr(tasks.run_sign, "delay", lambda job_id: sent.append(("sign", job_id)))
    dead, alive, waiting, done = (request_job(scenario, cast, MAY.replace(month=m)) for m in (5, 6, 7, 8))
    assert services.export_claim(job_id=dead.pk, claimant="dead")
    assert services.export_claim(job_id=done.pk, claimant="done")
    services.job_succeed(job_id=done.pk)
    with later(leases.lease_seconds() + 1):
        assert services.export_claim(job_id=alive.pk, claimant="alive")
        result = tasks.requeue_abandoned_jobs.run()
    assert result == {"requeued": [str(dead.pk)]}
    assert sent == [("export", str(dead.pk))]
    states = {job.pk: job.status for job in ExportJob.objects.filter(pk__in=[dead.pk, alive.pk, waiting.pk, done.pk])}
    assert states == {
        dead.pk: JobStatus.PENDING,
        alive.pk: JobStatus.RUNNING,
        waiting.pk: JobStatus.PENDING,
        done.pk: JobStatus.SUCCESS,
    }
    dead.refresh_from_db()
    assert dead.error == leases.REQUEUED_MESSAGE and dead.claimed_by == "" and dead.attempts == 1
    requeued = AuditEvent.objects.filter(detail=leases.REQUEUED_MESSAGE)
    assert [(e.object_id, e.after) for e in requeued] == [(str(dead.pk), {"status": "pending"})]
    # The requeued job is claimed by one worker, with a fresh lease; a second sweep leaves it.
    assert services.export_claim(job_id=dead.pk, claimant="other-worker")
    assert not services.export_claim(job_id=dead.pk, claimant="old-message")
    assert tasks.requeue_abandoned_jobs.run() == {"requeued": []}
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.claimed_by) == (JobStatus.RUNNING, 2, "other-worker")


@pytest.mark.django_db
def test_an_abandoned_sign_job_gets_a_sign_message(scenario, cast, monkeypatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(tasks.run_sign, "delay", lambda job_id: sent.append(job_id))
    job = request_job(scenario, cast)
    ExportJob.objects.filter(pk=job.pk).update(purpose=JobPurpose.SIGN)
    assert services.export_claim(job_id=job.pk, claimant="dead")
    with later(leases.lease_seconds() + 1):
        tasks.requeue_abandoned_jobs.run()
    assert sent == [str(job.pk)]


@pytest.mark.django_db
def test_a_job_whose_holder_dies_at_every_attempt_is_failed_not_requeued_for_ever(scenario, cast, monkeypatch) -> None:
    # e.g. killed at its hard time limit each time: after MAX_ATTEMPTS claims the sweep gives up, audited.
    sent: list[str] = []
    monkeypatch.setattr(tasks.run_export, "delay", lambda job_id: sent.append(job_id))
    job = request_job(scenario, cast)
    for attempt in range(1, leases.MAX_ATTEMPTS + 1):
        with later(attempt * 10 * leases.lease_seconds()):
            assert services.export_claim(job_id=job.pk, claimant=f"worker-{attempt}")
        with later(attempt * 10 * leases.lease_seconds() + leases.lease_seconds() + 1):
            tasks.requeue_abandoned_jobs.run()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.FAILED, leases.MAX_ATTEMPTS, leases.GAVE_UP_MESSAGE)
    assert job.finished_at is not None
    assert len(sent) == leases.MAX_ATTEMPTS - 1  # requeued after each death but the last
    assert AuditEvent.objects.filter(object_id=str(job.pk), detail=leases.GAVE_UP_MESSAGE).count() == 1
    assert not services.export_claim(job_id=job.pk, claimant="late-message")  # a failed job stays failed


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_renews_while_the_task_runs_and_stops_after(scenario, cast, settings) -> None:
    settings.REPORT_JOB_LEASE_SECONDS = 1.2  # heartbeat every 0.2 s
    job = request_job(scenario, cast)
    assert services.export_claim(job_id=job.pk, claimant="holder")
    heartbeat = leases.Heartbeat(job_id=job.pk, claimant="holder").start()
    try:
        time.sleep(2.5)  # twice the lease
        assert leases.export_requeue_abandoned() == []
        assert not services.export_claim(job_id=job.pk, claimant="second")
    finally:
        heartbeat.stop()
    assert heartbeat.beats >= 5
    time.sleep(1.5)  # the holder stopped renewing: past the lease, the job is abandoned
    assert leases.export_requeue_abandoned() == [(str(job.pk), JobPurpose.EXPORT)]


def test_the_report_and_sign_tasks_hold_their_jobs_with_a_heartbeat() -> None:
    for task in (tasks.run_export, tasks.run_sign):
        assert isinstance(task, leases.LeasedJobTask), task.name
    from django.conf import settings

    sweep = settings.CELERY_BEAT_SCHEDULE["reporting-requeue-abandoned-jobs"]
    assert sweep["task"] == tasks.requeue_abandoned_jobs.name
    schedule = sweep["schedule"]
    assert isinstance(schedule, float) and schedule <= 60 and settings.REPORT_JOB_LEASE_SECONDS <= 300


@pytest.mark.django_db(transaction=True)
def test_a_worker_delivery_renews_its_claim_while_the_task_runs(scenario, cast, settings) -> None:
    # As the worker calls it (not eagerly): the heartbeat runs beside the task under the message's id.
    settings.REPORT_JOB_LEASE_SECONDS = 0.6  # heartbeat every 0.2 s
    job = request_job(scenario, cast)
    stamps: list[tuple[str, Any]] = []
    real = leases.export_heartbeat

    def recording(*, job_id: Any, claimant: str) -> bool:
        renewed = real(job_id=job_id, claimant=claimant)
        if renewed:
            stamps.append((claimant, ExportJob.objects.get(pk=job_id).heartbeat_at))
        return renewed

    settings_build = tasks.build_file

    def slow_build(**kwargs: Any) -> bytes:
        time.sleep(1.0)  # a build longer than the lease
        return settings_build(**kwargs)

    import unittest.mock

    with (
        unittest.mock.patch.object(leases, "export_heartbeat", recording),
        unittest.mock.patch.object(tasks, "build_file", slow_build),
    ):
        tasks.run_export.push_request(id="message-1", retries=0, is_eager=False, delivery_info={})
        try:
            assert tasks.run_export(str(job.pk)) == "success"
        finally:
            tasks.run_export.pop_request()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS and job.attempts == 1 and job.claimed_by == "message-1"
    assert len(stamps) >= 3 and {claimant for claimant, _ in stamps} == {"message-1"}
    assert stamps[-1][1] > job.started_at
