"""manage.py harvest FEED_NAME | --all [--since YYYY-MM-DD] [--background]"""
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from webapp.feeds import selectors, services
from webapp.feeds.models import Feed, Harvest
from webapp.imports import services as imports
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus


class Command(BaseCommand):
    help = "Harvest a feed now (arXiv, OpenAlex or a watched folder) and import what it brings."

    def add_arguments(self, parser):
        parser.add_argument("feed", nargs="?", help="the feed's name (or id)")
        parser.add_argument("--all", action="store_true", help="every enabled feed, one after the other")
        parser.add_argument("--since", type=date.fromisoformat, help="a fresh sweep from this day (YYYY-MM-DD)")
        parser.add_argument("--background", action="store_true",
                            help="hand the harvest to a Celery worker (queue index) and follow its progress")

    def handle(self, *args, feed, all, since, background, **options):
        if bool(feed) == bool(all):
            raise CommandError("name one feed, or give --all")
        try:
            feeds = list(Feed.objects.filter(enabled=True)) if all else [selectors.feed_by_name(feed)]
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        quiet = options["verbosity"] == 0
        failed = [f.name for f in feeds if not self._harvest(f, since, background, quiet)]
        if failed:
            raise CommandError(f"harvest failed: {', '.join(failed)}")

    def _harvest(self, feed: Feed, since, background: bool, quiet: bool) -> bool:
        harvest, new = services.harvest_start(feed=feed, since=since, enqueue=background)
        if not new:
            self.stdout.write(f"{feed.name}: harvest #{harvest.pk} is under way already; following it")
            background = True
        started = time.perf_counter()
        bar = tqdm(unit="rec", desc=f"{feed.name}: fetching", disable=quiet)
        if background:
            harvest = self._follow(harvest, bar)
        else:
            harvest = services.harvest_run(job_id=harvest.pk, enqueue_import=False,
                                           on_page=lambda h: self._advance(bar, h)) or harvest
        bar.close()
        harvest.refresh_from_db()
        if not background:
            for job in harvest.imports.filter(status=JobStatus.QUEUED):
                self._import(job, quiet)
        return self._report(harvest, time.perf_counter() - started)

    def _follow(self, harvest: Harvest, bar: tqdm) -> Harvest:
        while not (harvest.is_finished and harvest.imports_finished()):
            time.sleep(0.5)
            harvest.refresh_from_db()
            self._advance(bar, harvest)
        return harvest

    @staticmethod
    def _advance(bar: tqdm, harvest: Harvest) -> None:
        # The bar reads the harvest row, the numbers the feed page and the admin show.
        bar.n = harvest.fetched + harvest.files
        bar.set_postfix_str(f"{harvest.pages} pages")

    @staticmethod
    def _import(job: ImportJob, quiet: bool) -> None:
        bar = tqdm(total=job.total or None, unit="rec", desc=f"{job.filename}: importing", disable=quiet)

        def advance(j: ImportJob) -> None:
            bar.total, bar.n = j.total or bar.total, j.done
            bar.refresh()

        imports.import_job_run(job_id=job.pk, on_batch=advance)
        bar.close()

    def _report(self, harvest: Harvest, seconds: float) -> bool:
        counts = harvest.import_counts()
        self.stdout.write(f"{harvest.feed.name}: harvest #{harvest.pk} {harvest.get_status_display().lower()}: "
                          f"{harvest.pages} pages, {harvest.fetched} records fetched, {harvest.ignored} left out; "
                          f"{counts['created']} new papers, {counts['updated']} updated, {counts['skipped']} known, "
                          f"{counts['failed']} rejected; {seconds:.1f} s")
        if harvest.error:
            self.stdout.write(f"  error: {harvest.error}")
        for job in harvest.imports.filter(status=JobStatus.FAILED):
            self.stdout.write(f"  import #{job.pk} failed: {job.error}")
        if harvest.imports.filter(status=JobStatus.INDEXING).exists():
            self.stdout.write("  indexing continues in the background (Celery workers on the index queue)")
        return harvest.status == JobStatus.DONE
