"""The Celery app as the web side sees it: configured from Django's settings (CELERY_*), with the
queue routes. Web code sends tasks by name through it (webapp.jobs.lifecycle.task_send) and never
imports the worker package; worker/celery.py takes this app and adds its task modules and beat."""
from celery import Celery

app = Celery("research")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = "index"
# The `llm.` prefix goes to the single-process LLM worker, imports and indexing to the index
# workers; the job checks to `control`, which every worker consumes (worker/celery.py), so that
# they never wait behind an indexing backlog.
app.conf.task_routes = {"llm.*": {"queue": "llm"}, "papers.*": {"queue": "index"}, "jobs.*": {"queue": "control"}}
