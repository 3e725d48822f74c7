"""The one lifecycle of every background job row (imports, novelty reports, idea runs).

    job_enqueue(job)            send the job's task by name once the row is committed
    job_claim(model, id, token) compare-and-set: take a queued job, or a silent one, under the cap
    with job_running(job, token) as run:  heartbeat by time, stages, failure with the reason
    jobs_requeue_stale()        beat: re-send silent jobs of every type; fail those past the cap

A redelivered or re-queued task finds the job held (fresh heartbeat) or finished and does nothing,
so a worker restart neither loses nor duplicates a job. The heartbeat is kept fresh by a thread
while the job runs, so a live worker inside one long step (a kernel build, a slow batch) never
looks dead, and a dead one goes stale JOB_STALE_AFTER_S after its last beat."""
from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from webapp.celery_app import app as celery_app
from webapp.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)


class LostClaim(RuntimeError):
    """Another worker took the job over (this one was presumed dead): stop without writing."""


def task_send(task_name: str, *args) -> None:
    """Send a Celery task by its name (routed to its queue by webapp.celery_app)."""
    celery_app.send_task(task_name, args=list(args))


def job_enqueue(job: Job, task_name: str = "") -> None:
    """Send the job's task once the transaction that created the row commits (a worker must
    find the row)."""
    name = task_name or job.task_name
    transaction.on_commit(lambda: task_send(name, job.pk))


def job_new_token() -> str:
    return uuid.uuid4().hex


def _stale_before():
    return timezone.now() - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_S)


def job_claim(model: type[Job], job_id: int, token: str) -> bool:
    """Compare-and-set: take a queued job, or a running one whose worker went silent (no
    heartbeat for JOB_STALE_AFTER_S), unless it used up its attempts. False: another worker
    holds it, it is finished, or it is past its cap (beat then fails it with the reason)."""
    now = timezone.now()
    silent = Q(heartbeat__lt=_stale_before()) | Q(heartbeat=None)
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING) & silent
    rows = model.objects.filter(claimable, pk=job_id, attempts__lt=model.max_attempts)
    return bool(rows.update(status=JobStatus.RUNNING, claim=token, heartbeat=now, attempts=F("attempts") + 1,
                            started_at=Coalesce(F("started_at"), now)))


class Heartbeat:
    """Touches `rows`' heartbeat every JOB_HEARTBEAT_S from a thread of its own (with its own
    database connection) until stopped; `lost` turns true once no row matches (claim taken)."""

    def __init__(self, rows):
        self.rows, self.lost = rows, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_S):
                self.touch()
        finally:
            connection.close()  # this thread's own connection

    def touch(self) -> None:
        try:
            self.lost = self.lost or not self.rows.update(heartbeat=timezone.now())
        except Exception:  # a busy database must not kill the job; the next beat retries
            log.warning("job heartbeat failed", exc_info=True)


class JobRun:
    """The running job as its service sees it: record a stage (and progress fields), finish."""

    def __init__(self, job: Job, token: str, heartbeat: Heartbeat):
        self.job, self.token, self.heartbeat = job, token, heartbeat
        self.lost = False

    def held(self):
        return type(self.job).objects.filter(pk=self.job.pk, claim=self.token, status=JobStatus.RUNNING)

    def update(self, **fields) -> None:
        """Write fields (and a heartbeat) if this worker still holds the job; else LostClaim."""
        if self.heartbeat.lost or not self.held().update(heartbeat=timezone.now(), **fields):
            raise LostClaim(f"{self.job.noun} {self.job.pk} was taken over")

    def stage(self, stage: str, **fields) -> None:
        self.update(stage=stage, **fields)

    def finish(self, status: str = JobStatus.DONE, **fields) -> None:
        finished_at = timezone.now() if status in (JobStatus.DONE, JobStatus.FAILED) else None
        self.update(status=status, stage="", finished_at=finished_at, **fields)

    def result(self) -> Job | None:
        """The job as saved, or None when another worker took it over."""
        return None if self.lost else type(self.job).objects.get(pk=self.job.pk)


def failure_reason(job: Job, exc: Exception) -> str:
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"the {job.noun} ran past its time limit ({job.time_limit_s()} s)"
    return f"{type(exc).__name__}: {exc}"[:500]


def job_fail(job: Job, message: str, token: str | None = None) -> None:
    """Mark the job failed with the reason (only if `token` still holds it, when given)."""
    rows = type(job).objects.filter(pk=job.pk).exclude(status=JobStatus.DONE)
    if token is not None:
        rows = rows.filter(claim=token)
    rows.update(status=JobStatus.FAILED, stage="", error=message, finished_at=timezone.now())


@contextmanager
def job_running(job: Job, token: str) -> Iterator[JobRun]:
    """Run a claimed job: a heartbeat thread keeps the claim alive; a lost claim stops the work
    quietly (run.result() is None); any error (the soft time limit included) marks the job failed
    with the reason. A BaseException (the worker being killed) leaves the row for beat to resume."""
    with Heartbeat(type(job).objects.filter(pk=job.pk, claim=token)) as beat:
        run = JobRun(job, token, beat)
        try:
            yield run
        except LostClaim:
            log.warning("%s %s was taken over by another worker; stopping", job.noun, job.pk)
            run.lost = True
        except Exception as exc:
            log.exception("%s %s failed", job.noun, job.pk)
            job_fail(job, failure_reason(job, exc), token=token)


@contextmanager
def job_alive(job: Job) -> Iterator[Heartbeat]:
    """Keep a job's heartbeat fresh during work done outside a claim (an import's indexing
    chunks, which any worker may take)."""
    with Heartbeat(type(job).objects.filter(pk=job.pk, status__in=job.active_statuses)) as beat:
        yield beat


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def jobs_requeue_stale() -> dict[str, list[int]]:
    """Beat, for every job type: a job whose worker went silent (killed, machine lost) is sent
    again, once per stale period; one that used up its attempts is failed with the reason."""
    return {model._meta.label: _requeue_stale(model) for model in job_models()}


def _requeue_stale(model: type[Job]) -> list[int]:
    stale = _stale_before()
    silent = model.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat=None), created_at__lt=stale,
                                  status__in=model.active_statuses)
    silent.filter(attempts__gte=model.max_attempts).update(
        status=JobStatus.FAILED, stage="", finished_at=timezone.now(),
        error=f"the worker stopped {model.max_attempts} times; not retried again")
    rows = list(silent.values_list("pk", "status"))
    # A running job keeps its stale heartbeat so that the re-sent task can claim it; the others
    # are bumped so that a message waiting in a long queue is not sent again every minute.
    model.objects.filter(pk__in=[pk for pk, _ in rows]).exclude(status=JobStatus.RUNNING).update(
        heartbeat=timezone.now())
    for pk, status in rows:
        task_send(model.resume_task(status), pk)
    return [pk for pk, _ in rows]
