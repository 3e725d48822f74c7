"""Celery tasks: load by id, call a service, record state. Nothing else lives here."""
from celery import shared_task

from webapp.papers import services


# acks_late + reject_on_worker_lost: a worker killed mid-import gets the message redelivered;
# the compare-and-set claim on the job row makes a second delivery harmless.
@shared_task(name="papers.import_run", acks_late=True, reject_on_worker_lost=True)
def import_run(job_id: int) -> None:
    services.import_job_run(job_id=job_id)


@shared_task(name="papers.requeue_stale")
def requeue_stale() -> list[int]:
    return services.import_jobs_requeue_stale()
