"""Celery tasks of idea runs, on the `llm` queue (the `llm.` prefix routes them there).
Thin: receive an id, call the service, which claims the row and records state."""
from celery import shared_task

from webapp.ideas import services


# acks_late + reject_on_worker_lost: a worker killed mid-run gets the message redelivered; the
# compare-and-set claim on the run row makes a second delivery harmless. The soft limit raises
# inside the run, which marks it failed with the reason; the hard limit backs it.
@shared_task(name="llm.ideas_run", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=services.time_limit_s(), time_limit=services.time_limit_s() + 30)
def ideas_run(run_id: int) -> None:
    services.idea_run_run(run_id=run_id)


@shared_task(name="llm.ideas_requeue_stale")
def ideas_requeue_stale() -> list[int]:
    """Beat: put back idea runs whose worker died."""
    return services.idea_runs_requeue_stale()
