"""Celery tasks: load by id, call one service. Nothing else lives here; the web sends these by
name (webapp.jobs.lifecycle.task_send), so the names are the interface.

acks_late + reject_on_worker_lost: a pool process killed mid-job gets the message redelivered at
once; the compare-and-set claim on the job row makes a second delivery harmless. A delivery that
finds the job held by a worker that still looks alive waits for it (`_wait_for_holder`): the
dead process's liveness key expires and its heartbeat ages past lifecycle.dead_after_s(), and the
next try takes the job over. A
whole worker killed is recovered by the next worker to start (worker.celery) and by beat. A
soft time limit raises inside the job, which marks it failed with the reason; the hard limit
backs it."""
from celery import shared_task
from django.conf import settings

from webapp.feeds import services as feeds
from webapp.ideas import services as ideas
from webapp.imports import services as imports
from webapp.ideas.models import IdeaRun
from webapp.imports.models import ImportJob
from webapp.jobs import lifecycle
from webapp.maps import services as maps
from webapp.library import digests, watch
from webapp.reports import services as reports
from webapp.reports.models import NoveltyReport

INDEX_RETRIES = 3
# Tries of a delivery that found its job held by a live-looking worker: enough for a dead
# holder's key to expire, few enough that a duplicate of a live job's message goes away.
HOLDER_WAITS = 3
_KEEP = dict(acks_late=True, reject_on_worker_lost=True)


def _wait_for_holder(task, model, job_id: int, ran) -> None:
    """`ran` is None when the job was not taken: if a live-looking worker holds it, try again
    once its liveness key would have expired (the holder may be a pool process just killed)."""
    if ran is None and task.request.retries < HOLDER_WAITS and lifecycle.job_held_alive(model, job_id):
        raise task.retry(countdown=lifecycle.dead_after_s() + 1, max_retries=HOLDER_WAITS)


@shared_task(name="papers.import_run", bind=True, **_KEEP)
def import_run(self, job_id: int) -> None:
    _wait_for_holder(self, ImportJob, job_id, imports.import_job_run(job_id=job_id))


@shared_task(name="papers.index_plan")
def index_plan(job_id: int | None = None) -> int:
    return imports.import_index_plan(job_id=job_id)


# Idempotent (a chunk only indexes papers still unindexed), so redelivery is harmless.
@shared_task(name="papers.index_chunk", bind=True, max_retries=INDEX_RETRIES, default_retry_delay=10, **_KEEP)
def index_chunk(self, ids: list[int], job_id: int | None = None) -> None:
    try:
        last = imports.import_index_chunk(ids=ids, job_id=job_id)
    except Exception as exc:
        if self.request.retries >= INDEX_RETRIES:
            imports.import_job_fail(job_id=job_id, message=f"indexing failed: {exc}")
            raise
        raise self.retry(exc=exc)
    if last:
        index_publish.delay(job_id)


# job_id stays in the signature for messages already queued; publishing finishes every job whose
# papers are all in.
@shared_task(name="papers.index_publish", acks_late=True)
def index_publish(job_id: int | None = None) -> int:
    return imports.import_index_publish()


@shared_task(name="papers.index_publish_pending")
def index_publish_pending() -> int | None:
    """Beat: publish vectors stored but not yet published."""
    return imports.import_index_publish_pending()


# A harvest claims its row, so a redelivered message finds it held or finished.
@shared_task(name="feeds.harvest_run", **_KEEP)
def harvest_run(harvest_id: int) -> None:
    feeds.harvest_run(job_id=harvest_id)


@shared_task(name="feeds.harvest_due")
def harvest_due() -> list[int]:
    """Beat: start a harvest of every feed whose interval has passed."""
    return feeds.feeds_harvest_due()


@shared_task(name="llm.report_run", bind=True, soft_time_limit=settings.REPORT_TIME_LIMIT_S,
             time_limit=settings.REPORT_TIME_LIMIT_S + 30, **_KEEP)
def report_run(self, report_id: int) -> None:
    _wait_for_holder(self, NoveltyReport, report_id, reports.report_run(report_id=report_id))


@shared_task(name="llm.ideas_run", bind=True, soft_time_limit=settings.IDEAS_TIME_LIMIT_S,
             time_limit=settings.IDEAS_TIME_LIMIT_S + 30, **_KEEP)
def ideas_run(self, run_id: int) -> None:
    _wait_for_holder(self, IdeaRun, run_id, ideas.idea_run_run(run_id=run_id))


# The name stays: beat schedules and queued messages of earlier versions use it.
# A map of the field per published index version: queued by the publish signal (and beat),
# built by a claim on its row, so a duplicate message is harmless.
@shared_task(name="maps.fieldmap_build")
def fieldmap_build(version: int | None = None) -> int | None:
    job = maps.fieldmap_request(version=version)
    return job.pk if job else None


@shared_task(name="maps.fieldmap_run", **_KEEP)
def fieldmap_run(job_id: int) -> None:
    maps.fieldmap_run(job_id=job_id)


@shared_task(name="jobs.requeue_stale")
def requeue_stale() -> dict[str, list[int]]:
    """Beat: put back the jobs (and indexing chunks) of dead or silent workers; fail those past
    their attempts."""
    return lifecycle.jobs_recover()


# Novelty watch after each published index version (webapp.library.signals), and the first
# reading of a newly saved idea; both store one reading per idea and version, so a rerun is harmless.
@shared_task(name="library.watch_run")
def watch_run(version: int | None = None) -> int:
    return len(watch.watch_run(version=version))


@shared_task(name="library.watch_idea")
def watch_idea(idea_id: int) -> None:
    watch.watch_idea(idea_id=idea_id)


@shared_task(name="library.send_digests")
def send_digests() -> dict[str, int]:
    """Beat, daily: every reader who is due gets their digest (manage.py send_digests)."""
    run = digests.digests_send()
    return {"built": len(run.built), "sent": run.sent, "failed": run.failed}

