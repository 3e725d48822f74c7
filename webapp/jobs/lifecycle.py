"""The one lifecycle of every background job row (imports, novelty reports, idea runs).

    job_enqueue(job)            send the job's task by name once the row is committed
    job_claim(model, id, token) compare-and-set: take a queued job, or a silent one, under the cap
    with job_running(job, token) as run:  heartbeat by time, stages, failure with the reason
    with job_work(job, task, *args):  work for a job outside its claim (indexing chunks), listed while it runs
    jobs_recover()              workers on start, and beat: re-send the jobs and work of dead holders, then
                                the silent ones of every type; fail those past the cap

A redelivered or re-queued task finds the job held by a live worker or finished and does nothing,
so a worker restart neither loses nor duplicates a job. A thread keeps the holder's liveness key
in Redis (webapp.jobs.liveness) and the row's heartbeat fresh while the job runs, so a live
worker inside one long step (a kernel build, a slow batch) never looks dead; a killed one is
known dead ALIVE_TTL_S after its last beat (and, when Redis cannot say, JOB_STALE_AFTER_S)."""
from __future__ import annotations

import logging
import threading
import time
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
from webapp.jobs import liveness
from webapp.jobs.liveness import ALIVE_TTL_S
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
    """Compare-and-set: take a queued job, or a running one whose holder is dead (its liveness
    key expired) or silent (no heartbeat for JOB_STALE_AFTER_S), unless it used up its attempts.
    False: a live worker holds it, it is finished, or it is past its cap (then failed by
    jobs_recover with the reason)."""
    liveness.alive_mark(token)  # before the row names the token, so no claimer finds it unmarked
    now = timezone.now()
    silent = Q(heartbeat__lt=_stale_before()) | Q(heartbeat=None)
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING) & (silent | _dead_holder(model, job_id))
    rows = model.objects.filter(claimable, pk=job_id, attempts__lt=model.max_attempts)
    claimed = bool(rows.update(status=JobStatus.RUNNING, claim=token, heartbeat=now, attempts=F("attempts") + 1,
                               started_at=Coalesce(F("started_at"), now)))
    if not claimed:
        liveness.alive_clear(token)
    return claimed


def _dead_holder(model: type[Job], job_id: int) -> Q:
    """Matches the job's current claim if its holder is dead: its liveness key is gone, and its
    heartbeat missed a beat (dead_after_s), so that a Redis restart, which loses every key until
    the holders renew them, does not make live holders look dead."""
    claim = model.objects.filter(pk=job_id, status=JobStatus.RUNNING, heartbeat__lt=_alive_before()).exclude(
        claim="").values_list("claim", flat=True).first()
    return Q(claim=claim) if claim and liveness.dead([claim]) else Q(pk__in=[])


def dead_after_s() -> float:
    """How long after its last heartbeat a holder without a liveness key counts as dead: one
    database beat and one renewal missed, and never less than the key's TTL."""
    return max(ALIVE_TTL_S, settings.JOB_HEARTBEAT_S + ALIVE_TTL_S / 3 + 2)


def _alive_before():
    return timezone.now() - timezone.timedelta(seconds=dead_after_s())


def job_held_alive(model: type[Job], job_id: int) -> bool:
    """A live worker holds the job (a redelivered task should wait for it to finish or die)."""
    claim = model.objects.filter(pk=job_id, status=JobStatus.RUNNING).values_list("claim", flat=True).first()
    return bool(claim) and not liveness.dead([claim]) and liveness.alive_holder(claim) is not None


class Heartbeat:
    """From a thread of its own (with its own database connection) until stopped: renews the
    liveness key of `token` every ALIVE_TTL_S / 3 and touches `rows`' heartbeat every
    JOB_HEARTBEAT_S; `lost` turns true once the job's row no longer matches `rows` (its claim
    taken). A row this thread cannot see (not yet committed, as inside a test's transaction)
    is not a lost claim."""

    def __init__(self, job: Job, rows, token: str):
        self.rows, self.token, self.lost = rows, token, False
        self.row = type(job).objects.filter(pk=job.pk)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        liveness.alive_mark(self.token)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        liveness.alive_clear(self.token)

    def _beat(self) -> None:
        tick = min(ALIVE_TTL_S / 3, settings.JOB_HEARTBEAT_S)
        last = time.monotonic()
        try:
            while not self._stop.wait(tick):
                liveness.alive_mark(self.token)
                if time.monotonic() - last >= settings.JOB_HEARTBEAT_S - tick / 2:
                    self.touch()
                    last = time.monotonic()
        finally:
            connection.close()  # this thread's own connection

    def touch(self) -> None:
        try:
            self.lost = self.lost or not self.rows.update(heartbeat=timezone.now()) and self.row.exists()
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
    with Heartbeat(job, type(job).objects.filter(pk=job.pk, claim=token), token) as beat:
        run = JobRun(job, token, beat)
        try:
            yield run
        except LostClaim:
            log.warning("%s %s was taken over by another worker; stopping", job.noun, job.pk)
            run.lost = True
        except Exception as exc:
            log.exception("%s %s failed", job.noun, job.pk)
            job_fail(job, failure_reason(job, exc), token=token)


def work_group(job: Job) -> str:
    return f"{job._meta.label}:{job.pk}"


class Work:
    """Work for a job outside its claim while it runs: `left(*args)` lists what remains of it (the
    arguments its task would need to finish it), so a dead worker's share is sent again, not all."""

    def __init__(self, job: Job, task_name: str, heartbeat: Heartbeat):
        self.group, self.task_name, self.heartbeat = work_group(job), task_name, heartbeat

    def left(self, *args) -> None:
        liveness.work_add(self.group, self.heartbeat.token, {"task": self.task_name, "args": list(args)})


@contextmanager
def job_work(job: Job, task_name: str, *args) -> Iterator[Work]:
    """Work for a job done outside its claim (an import's indexing chunk, which any worker may
    take): keeps the job's heartbeat fresh meanwhile, and lists the work (its task and
    arguments) while it runs, so that jobs_recover sends it again if this worker dies."""
    token = job_new_token()
    liveness.alive_mark(token)  # before it is listed: a listed token without a key is dead
    rows = type(job).objects.filter(pk=job.pk, status__in=job.active_statuses)
    with Heartbeat(job, rows, token) as beat:
        work = Work(job, task_name, beat)
        work.left(*args)
        try:
            yield work
        finally:
            liveness.work_remove(work.group, token)


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def jobs_recover() -> dict[str, list[int]]:
    """Workers on start, and beat, for every job type: a job whose holder is dead (liveness key
    expired) is queued again at once, with the work its dead workers left (indexing chunks);
    one whose worker went silent is sent again, once per stale period; one that used up its
    attempts is failed with the reason. Returns the ids sent again per type."""
    return {model._meta.label: sorted(set(_requeue_dead(model) + _resend_orphaned_work(model) + _requeue_stale(model)))
            for model in job_models()}


def _cap_reached(model: type[Job]) -> str:
    return f"the worker stopped {model.max_attempts} times; not retried again"


def _requeue_dead(model: type[Job]) -> list[int]:
    """Running jobs whose holder died go back to the queue (one compare-and-set per job, so two
    workers recovering at once send it once); the dead run counted as an attempt at its claim."""
    held = dict(model.objects.filter(status=JobStatus.RUNNING, heartbeat__lt=_alive_before()).exclude(
        claim="").values_list("claim", "pk"))
    requeued = []
    for claim in liveness.dead(list(held)):
        rows = model.objects.filter(pk=held[claim], status=JobStatus.RUNNING, claim=claim)
        if rows.filter(attempts__gte=model.max_attempts).update(
                status=JobStatus.FAILED, stage="", finished_at=timezone.now(), error=_cap_reached(model)):
            continue
        if rows.update(status=JobStatus.QUEUED, claim="", heartbeat=timezone.now()):
            log.warning("%s %s: its worker died; queued again", model.noun, held[claim])
            task_send(model.task_name, held[claim])
            requeued.append(held[claim])
    return requeued


def _resend_orphaned_work(model: type[Job]) -> list[int]:
    resent = []
    active = model.objects.filter(status__in=model.active_statuses).exclude(status=JobStatus.QUEUED)
    for job in active.only("pk"):
        for work in liveness.work_orphaned(work_group(job)):
            log.warning("%s %s: a worker died during %s; sent again", model.noun, job.pk, work["task"])
            task_send(work["task"], *work["args"])
            resent.append(job.pk)
    return resent


def _requeue_stale(model: type[Job]) -> list[int]:
    stale = _stale_before()
    silent = model.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat=None), created_at__lt=stale,
                                  status__in=model.active_statuses)
    silent.filter(attempts__gte=model.max_attempts).update(
        status=JobStatus.FAILED, stage="", finished_at=timezone.now(), error=_cap_reached(model))
    rows = list(silent.values_list("pk", "status"))
    # A running job keeps its stale heartbeat so that the re-sent task can claim it; the others
    # are bumped so that a message waiting in a long queue is not sent again every minute.
    model.objects.filter(pk__in=[pk for pk, _ in rows]).exclude(status=JobStatus.RUNNING).update(
        heartbeat=timezone.now())
    for pk, status in rows:
        task_send(model.resume_task(status), pk)
    return [pk for pk, _ in rows]


def jobs_recover_on_start(stop: threading.Event | None = None) -> None:
    """A worker that starts recovers at once what dead workers left, and again every third of
    the liveness TTL for three TTLs (a worker killed just before keeps its keys up to a TTL, and
    its job's heartbeat must be a TTL old): a job is back within seconds of its holder's death
    being known."""
    stop = stop or threading.Event()
    for _ in range(10):
        try:
            recovered = {label: ids for label, ids in jobs_recover().items() if ids}
            if recovered:
                log.warning("recovered jobs left by dead workers: %s", recovered)
        except Exception:  # the database or Redis still starting: the next pass, or beat, retries
            log.warning("job recovery on worker start failed", exc_info=True)
        finally:
            connection.close()
        if stop.wait(ALIVE_TTL_S / 3):
            return
