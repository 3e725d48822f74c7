"""The Celery app. Workers: `celery -A worker worker -Q index` for imports and indexing,
`-Q llm --concurrency=1` for the local LLM; `celery -A worker beat` for periodic checks."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("research")
# All CELERY_* settings come from Django's settings (and so from the environment).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["worker.tasks"]
app.conf.task_default_queue = "index"
app.conf.task_routes = {"llm.*": {"queue": "llm"}, "papers.*": {"queue": "index"}}
app.conf.beat_schedule = {
    # Re-queue jobs whose worker stopped mid-way (killed, machine lost).
    "requeue-stale-jobs": {"task": "papers.requeue_stale", "schedule": 60.0},
}
