"""The Celery app. Workers: `celery -A worker worker -Q index` for imports and indexing,
`-Q llm --concurrency=1` for the local LLM; `celery -A worker beat` for periodic checks."""
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("research")
# All CELERY_* settings come from Django's settings (and so from the environment).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["worker.tasks", "worker.report_tasks", "worker.idea_tasks"]
app.conf.task_default_queue = "index"
app.conf.task_routes = {"llm.*": {"queue": "llm"}, "papers.*": {"queue": "index"}}


@worker_process_init.connect
def _preload_llm(**_):
    """The llm-queue worker (started with LLM_PRELOAD=1) loads the model once per process,
    before its first task, instead of inside the first report's time limit."""
    if os.environ.get("LLM_PRELOAD") == "1":
        from inference import load_engine

        load_engine()
app.conf.beat_schedule = {
    # Re-queue jobs whose worker stopped mid-way (killed, machine lost).
    "requeue-stale-jobs": {"task": "papers.requeue_stale", "schedule": 60.0},
    "requeue-stale-reports": {"task": "llm.reports_requeue_stale", "schedule": 60.0},
    "requeue-stale-idea-runs": {"task": "llm.ideas_requeue_stale", "schedule": 60.0},
}
