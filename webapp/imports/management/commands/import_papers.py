"""manage.py import_papers FILE [--format F] [--background]"""
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from discovery.corpus import FORMATS
from webapp.imports import services
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus

SHOWN_FAILURES = 20


class Command(BaseCommand):
    help = "Import papers from a file (JSONL, JSON, CSV, BibTeX, RIS, arXiv, OpenAlex, text; gzip too)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, default="", help="skip detection from the content")
        parser.add_argument("--background", action="store_true",
                            help="hand the job to a Celery worker (queue index) and follow its progress")

    def handle(self, *args, file, format, background, **options):
        try:
            job = services.import_job_create(path=file, fmt=format, enqueue=background)
        except services.ImportRejected as exc:
            raise CommandError(str(exc)) from None
        started = time.perf_counter()
        bar = tqdm(total=job.total or None, unit="rec", desc=job.filename, disable=options["verbosity"] == 0)
        if background:
            job = self._follow(job, bar)
        else:
            job = services.import_job_run(job_id=job.pk, on_batch=lambda j: self._advance(bar, j)) or job
        bar.close()
        self._report(job, time.perf_counter() - started)

    def _follow(self, job: ImportJob, bar: tqdm) -> ImportJob:
        while not job.is_finished:
            time.sleep(0.5)
            job.refresh_from_db()
            self._advance(bar, job)
        return job

    @staticmethod
    def _advance(bar: tqdm, job: ImportJob) -> None:
        # The bar reads the job row, the same numbers the browser and the API show.
        bar.total = job.total or bar.total
        bar.n = job.done
        bar.refresh()

    def _report(self, job: ImportJob, seconds: float) -> None:
        job.refresh_from_db()
        if job.status == JobStatus.FAILED:
            raise CommandError(f"import failed: {job.error}")
        self.stdout.write(f"{job.filename}: {job.summary()} (job #{job.pk}); "
                          f"{job.done} records in {seconds:.1f} s, {job.done / max(seconds, 1e-9):.0f} records/s")
        if job.status == JobStatus.INDEXING:
            self.stdout.write("indexing continues in the background (Celery workers on the index queue)")
        for failure in job.failures[:SHOWN_FAILURES]:
            self.stdout.write(f"  {failure['location']}: {failure['reason']}")
        if job.failed > SHOWN_FAILURES:
            self.stdout.write(f"  ... and {job.failed - SHOWN_FAILURES} more (see the job in the admin)")
