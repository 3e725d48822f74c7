"""Celery tasks of novelty reports, on the `llm` queue (the `llm.` prefix routes them there).
Thin: receive an id, call the service, which claims the row and records state."""
from celery import shared_task

from webapp.reports import services


# acks_late + reject_on_worker_lost: a worker killed mid-report gets the message redelivered;
# the compare-and-set claim on the report row makes a second delivery harmless. The soft limit
# raises inside the run, which marks the report failed with the reason; the hard limit backs it.
@shared_task(name="llm.report_run", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=services.time_limit_s(), time_limit=services.time_limit_s() + 30)
def report_run(report_id: int) -> None:
    services.report_run(report_id=report_id)


@shared_task(name="llm.reports_requeue_stale")
def reports_requeue_stale() -> list[int]:
    """Beat: put back reports whose worker died."""
    return services.reports_requeue_stale()
