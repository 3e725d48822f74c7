"""The Celery worker and beat: the web's Celery app (webapp.celery_app, configured from Django's
settings) plus the task modules and the periodic checks. Workers: `celery -A worker worker -Q index`
for imports and indexing, `-Q llm --concurrency=1` for the local LLM; `celery -A worker beat`.
Every worker also consumes the `control` queue (the job checks), whatever -Q says, so that the
checks never wait behind an indexing backlog; and a worker that starts recovers at once the
jobs of workers that died (webapp.jobs.lifecycle.jobs_recover_on_start)."""
import os
import threading

from celery.schedules import crontab
from celery.signals import celeryd_after_setup, worker_process_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

from webapp.celery_app import app  # noqa: E402  (after the settings module is named)

app.conf.include = ["worker.tasks"]
app.conf.beat_schedule = {
    # Re-queue jobs of every type whose worker stopped mid-way (killed, machine lost).
    "requeue-stale-jobs": {"task": "jobs.requeue_stale", "schedule": 30.0},
    # Publish vectors that were stored but whose publish step never ran.
    "publish-pending-vectors": {"task": "papers.index_publish_pending", "schedule": 60.0},
    # Harvest every feed whose own interval has passed (feeds.* go to the default queue, index).
    "harvest-due-feeds": {"task": "feeds.harvest_due", "schedule": 300.0},
    # A map of the field for the published index version, if its publish message was lost.
    "map-published-index": {"task": "maps.fieldmap_build", "schedule": 300.0},
    # Digests once a day (each reader gets theirs daily or weekly, as they chose), on the index queue.
    "send-digests": {"task": "library.send_digests", "schedule": crontab(hour=6, minute=0)},
}


CONTROL_QUEUE = "control"
_recovery_stop = threading.Event()


@celeryd_after_setup.connect
def _consume_control(sender, instance, **_):
    instance.app.amqp.queues.select_add(CONTROL_QUEUE)


@worker_ready.connect
def _recover_on_start(**_):
    """In the worker's main process, beside the pool: what dead workers left is sent again now,
    not when a visibility timeout or beat's stale check comes round."""
    from webapp.jobs.lifecycle import jobs_recover_on_start

    _recovery_stop.clear()
    threading.Thread(target=jobs_recover_on_start, args=(_recovery_stop,), name="job-recovery", daemon=True).start()


@worker_shutdown.connect
def _stop_recovery(**_):
    _recovery_stop.set()


@worker_process_init.connect
def _preload_llm(**_):
    """The llm-queue worker (started with LLM_PRELOAD=1) loads the model once per process,
    before its first task, instead of inside the first report's time limit."""
    from django.conf import settings

    if settings.LLM_PRELOAD:
        from inference import load_engine

        load_engine()
