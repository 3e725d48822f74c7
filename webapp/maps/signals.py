"""Every published index version gets its map of the field: the publish step's signal queues the
build by name (the web side never imports the worker); beat re-checks in case a message was lost."""
from django.dispatch import receiver

from webapp.jobs.lifecycle import task_send
from webapp.papers.indexing import index_published


@receiver(index_published, dispatch_uid="maps-fieldmap-build")
def _map_after_publish(sender, version: int, **_) -> None:
    task_send("maps.fieldmap_build", version)
