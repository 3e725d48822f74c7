"""Celery tasks: load by id, call a service, record state. Nothing else lives here."""
from celery import shared_task

from webapp.papers import indexing, services

RETRIES = 3


# acks_late + reject_on_worker_lost: a worker killed mid-import gets the message redelivered;
# the compare-and-set claim on the job row makes a second delivery harmless.
@shared_task(name="papers.import_run", acks_late=True, reject_on_worker_lost=True)
def import_run(job_id: int) -> None:
    services.import_job_run(job_id=job_id)


@shared_task(name="papers.index_plan")
def index_plan(job_id: int | None = None) -> int:
    return indexing.index_job_plan(job_id=job_id)


# Idempotent (a chunk only indexes papers still unindexed), so redelivery is harmless.
@shared_task(name="papers.index_chunk", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=RETRIES, default_retry_delay=10)
def index_chunk(self, ids: list[int], job_id: int | None = None) -> None:
    try:
        indexing.papers_index_chunk(ids=ids, job_id=job_id)
    except Exception as exc:
        if self.request.retries >= RETRIES:
            services.job_fail(job_id=job_id, message=f"indexing failed: {exc}")
            raise
        raise self.retry(exc=exc)
    if job_id is not None and indexing.job_chunks_done(job_id=job_id):
        index_publish.delay(job_id)


@shared_task(name="papers.index_publish", acks_late=True)
def index_publish(job_id: int | None = None) -> int:
    return indexing.index_publish(job_id=job_id)


@shared_task(name="papers.requeue_stale")
def requeue_stale() -> list[int]:
    """Beat: put back jobs whose worker died; publish vectors stored but not yet published."""
    indexing.index_publish_if_pending()
    return services.import_jobs_requeue_stale()
