"""The claim of a running report or sign job, kept alive by a heartbeat, so that a job whose whole worker
died (kill -9, the out-of-memory killer, the machine) is taken up again within minutes instead of after
the broker's visibility timeout (an hour on Redis).

The rule, declared here once and read by the claim (services.export_claim), the heartbeat and the sweep:

* a job is **claimable** when it is pending, or running under a claim whose heartbeat is older than
  REPORT_JOB_LEASE_SECONDS (its worker is gone). A claim is one conditional UPDATE, so of two deliveries
  of the same job (a redelivered message, the sweep's new message) exactly one gets it, and a job whose
  holder is alive is never run a second time concurrently;
* while a task holds a job, a thread of the worker process renews the heartbeat every sixth of the
  lease (`Heartbeat`, started around the task by `LeasedJobTask`); it renews only its own claim
  (`claimed_by` is the message's task id), so a holder that lost its claim cannot keep it alive;
* beat runs `reporting.tasks.requeue_abandoned_jobs` every REPORT_JOB_SWEEP_SECONDS: each running job
  past its lease goes back to pending (audited) and gets a new message, for any live worker.

A job is therefore redelivered at most lease + sweep interval (+ the wait for a free worker) after its
worker died: about two minutes with the defaults (90 s, 30 s).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from celery import Task
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from reporting import audit_events as report_events
from reporting.choices import JobStatus
from reporting.models import ExportJob

logger = logging.getLogger(__name__)

REQUEUED_MESSAGE = "执行任务的进程已停止响应，任务已重新排队，将由其他进程继续完成。"
# A job whose holder dies at every attempt (killed at its hard time limit, or one that takes the worker
# down with it) is not queued again for ever: after this many claims the sweep marks it failed.
MAX_ATTEMPTS = 3
GAVE_UP_MESSAGE = f"已尝试 {MAX_ATTEMPTS} 次仍未完成（执行进程中断或超过时限），任务已终止。请重新申请，或联系管理员。"


def lease_seconds() -> float:
    return float(settings.REPORT_JOB_LEASE_SECONDS)


def heartbeat_interval() -> float:
    return max(0.2, lease_seconds() / 6)


def abandoned(now: dt.datetime | None = None) -> Q:
    """Running, but nobody has renewed the claim within the lease (a claim from before heartbeats
    existed counts from its start)."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=lease_seconds())
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def claimable(now: dt.datetime | None = None) -> Q:
    """What a delivery of the job may claim: pending, or abandoned."""
    return Q(status=JobStatus.PENDING) | abandoned(now)


def export_heartbeat(*, job_id: Any, claimant: str) -> bool:
    """The holder is alive: renews its own claim only. False when the claim is no longer its own."""
    return bool(
        ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, claimed_by=claimant).update(
            heartbeat_at=timezone.now()
        )
    )


def export_requeue_abandoned() -> list[tuple[str, str]]:
    """Every abandoned job back to pending, each by a conditional UPDATE (a holder that renews its heartbeat
    meanwhile keeps it) and audited. Returns (job id, purpose) of the jobs requeued, for new messages."""
    requeued: list[tuple[str, str]] = []
    for job in ExportJob.objects.filter(abandoned()).select_related("region"):
        if job.attempts >= MAX_ATTEMPTS:
            _give_up(job)
            continue
        updated = (
            ExportJob.objects.filter(pk=job.pk)
            .filter(abandoned())
            .update(status=JobStatus.PENDING, progress=0, claimed_by="", heartbeat_at=None, error=REQUEUED_MESSAGE)
        )
        if not updated:
            continue
        report_events.export_requeued(job=job, reason=REQUEUED_MESSAGE)
        logger.warning("report job %s abandoned by %s (attempt %s): requeued", job.pk, job.claimed_by, job.attempts)
        requeued.append((str(job.pk), str(job.purpose)))
    return requeued


def _give_up(job: ExportJob) -> None:
    failed = (
        ExportJob.objects.filter(pk=job.pk)
        .filter(abandoned())
        .update(status=JobStatus.FAILED, error=GAVE_UP_MESSAGE, finished_at=timezone.now())
    )
    if failed:
        report_events.export_given_up(job=job, reason=GAVE_UP_MESSAGE)
        logger.warning("report job %s abandoned at attempt %s: given up", job.pk, job.attempts)


class Heartbeat:
    """A daemon thread renewing one claim every `interval` seconds until stopped (it uses its own
    database connection and closes it when done)."""

    def __init__(self, *, job_id: Any, claimant: str, interval: float | None = None) -> None:
        self.job_id = job_id
        self.claimant = claimant
        self.interval = interval if interval is not None else heartbeat_interval()
        self.beats = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if export_heartbeat(job_id=self.job_id, claimant=self.claimant):
                        self.beats += 1
                    elif self.beats:  # had the claim, lost it (taken over after a stall): say so once
                        if not self.lost:
                            logger.error("report job %s: claim of %s lost", self.job_id, self.claimant)
                        self.lost = True
                except Exception:  # the database away for a moment: the next beat tries again
                    logger.exception("report job %s: heartbeat failed", self.job_id)
                    connection.close()
        finally:
            connection.close()


class LeasedJobTask(Task):  # type: ignore[misc]
    """Base of the tasks that hold an ExportJob (first argument: its id): a heartbeat runs beside the task
    for the whole call. It renews the claim the task makes with its own task id (`claimed_by`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        job_id = args[0] if args else kwargs.get("job_id")
        if self.request.is_eager or job_id is None:
            return super().__call__(*args, **kwargs)
        heartbeat = Heartbeat(job_id=job_id, claimant=self.request.id or "").start()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            heartbeat.stop()
