"""Novelty watch hears of every published index version and queues the re-assessment of the
saved ideas that are watched (a task by name: the web side never imports the worker)."""
from django.dispatch import receiver

from webapp.jobs.lifecycle import task_send
from webapp.library.models import SavedIdea
from webapp.papers.indexing import index_published


@receiver(index_published, dispatch_uid="library-novelty-watch")
def _watch_after_publish(sender, version: int, **_) -> None:
    if SavedIdea.objects.filter(watch=True).exists():
        task_send("library.watch_run", version)
