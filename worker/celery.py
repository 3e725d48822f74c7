"""The Celery worker and beat: the web's Celery app (webapp.celery_app, configured from Django's
settings) plus the task modules and the periodic checks. Workers: `celery -A worker worker -Q index`
for imports and indexing, `-Q llm --concurrency=1` for the local LLM; `celery -A worker beat`."""
import os

from celery.schedules import crontab
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

from webapp.celery_app import app  # noqa: E402  (after the settings module is named)

app.conf.include = ["worker.tasks"]
app.conf.beat_schedule = {
    # Re-queue jobs of every type whose worker stopped mid-way (killed, machine lost).
    "requeue-stale-jobs": {"task": "jobs.requeue_stale", "schedule": 60.0},
    # Publish vectors that were stored but whose publish step never ran.
    "publish-pending-vectors": {"task": "papers.index_publish_pending", "schedule": 60.0},
    # Harvest every feed whose own interval has passed (feeds.* go to the default queue, index).
    "harvest-due-feeds": {"task": "feeds.harvest_due", "schedule": 300.0},
    # Digests once a day (each reader gets theirs daily or weekly, as they chose), on the index queue.
    "send-digests": {"task": "library.send_digests", "schedule": crontab(hour=6, minute=0)},
    # A map of the field for the published index version, if its publish message was lost.
    "map-published-index": {"task": "maps.fieldmap_build", "schedule": 300.0},
}


@worker_process_init.connect
def _preload_llm(**_):
    """The llm-queue worker (started with LLM_PRELOAD=1) loads the model once per process,
    before its first task, instead of inside the first report's time limit."""
    from django.conf import settings

    if settings.LLM_PRELOAD:
        from inference import load_engine

        load_engine()
