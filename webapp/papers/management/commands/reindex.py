"""manage.py reindex [--resume | --vectors-only]"""
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from tqdm import tqdm

from webapp.papers import indexing
from webapp.papers.models import Paper


class Command(BaseCommand):
    help = "Segment and embed every paper again and rebuild the indexes (in this process)."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--resume", action="store_true", help="only papers not indexed yet (after an interruption)")
        mode.add_argument("--vectors-only", action="store_true",
                          help="rebuild the FAISS and BM25 indexes from the vectors stored in the database")
        parser.add_argument("--chunk", type=int, default=512, help="papers embedded per batch")

    def handle(self, *args, resume, vectors_only, chunk, **options):
        quiet = options["verbosity"] == 0
        if not vectors_only:
            self._embed(resume, chunk, quiet)
        bar = tqdm(desc="publish", unit="paper", disable=quiet)

        def advance(done, total):
            bar.total, bar.n = total, done
            bar.refresh()

        version = indexing.index_publish(full=True, progress=advance)
        bar.close()
        self.stdout.write(f"index version {version}: {Paper.objects.exclude(indexed_hash='').count()} papers")

    def _embed(self, resume: bool, chunk: int, quiet: bool) -> None:
        if not resume:
            Paper.objects.update(indexed_hash="")
        ids = indexing.unindexed_ids()
        started = time.perf_counter()
        with tqdm(total=len(ids), desc="segment + embed", unit="paper", disable=quiet) as bar:
            for part in indexing.chunked(ids, chunk):
                indexing.papers_index_chunk(ids=part)
                close_old_connections()
                bar.update(len(part))
        if ids:
            rate = len(ids) / (time.perf_counter() - started)
            self.stdout.write(f"embedded {len(ids)} papers at {rate:.1f} papers/s")
