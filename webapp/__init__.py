"""The Django project: the site, its JSON API and the job rows the Celery workers run. Tasks are
sent by name through webapp.celery_app; the worker package imports this one, never the reverse."""
