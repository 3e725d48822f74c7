"""Build the map of the field of the published index version now, in this process (what the
worker does after a publish), and print how long it took."""
from django.core.management.base import BaseCommand, CommandError

from webapp.jobs.models import JobStatus
from webapp.maps import services


class Command(BaseCommand):
    help = "Build the map of the field (cluster hierarchies and gap map) of the published index version."

    def handle(self, *args, **options):
        job = services.fieldmap_request()
        if job is None:
            raise CommandError("nothing is published yet: import and index papers first")
        if job.status != JobStatus.DONE:
            job = services.fieldmap_run(job_id=job.pk) or job
        job.refresh_from_db()
        if job.status != JobStatus.DONE:
            raise CommandError(f"field map {job.pk}: {job.status} {job.error}".strip())
        self.stdout.write(f"field map of index version {job.index_version}: {job.index_count} papers, "
                          f"built in {job.build_s} s")
