"""An import end to end through a real Celery worker, a real Redis broker and the real database."""
import time

import pytest
from celery.contrib.testing.worker import start_worker

from tests.conftest import FIXTURES
from webapp.imports import services
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper
from worker.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_finished(job_id: int, timeout: float = 60) -> ImportJob:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s: {job.status} {job.done}/{job.total}")


@pytest.fixture(autouse=True)
def fresh_index(settings, tmp_path):
    from webapp.papers import search

    settings.INDEX_DIR = tmp_path / "index"
    search._index_set.cache_clear()
    yield
    search._index_set.cache_clear()


def test_it_imports_and_indexes_through_a_real_worker(alice):
    """Import, then segmentation and embedding (the real encoder) in chunks, then publish."""
    from webapp.papers import search

    with start_worker(app, queues=["index"], perform_ping_check=False, concurrency=1, pool="solo"):
        job = services.import_job_create(path=str(FIXTURES / "import" / "mixed.jsonl"), owner=alice)
        job = wait_finished(job.pk)
    assert job.status == JobStatus.DONE
    assert (job.created, job.failed) == (4, 3)
    assert Paper.objects.count() == 4
    assert (job.index_done, job.index_total) == (4, 4)
    assert all(p.segmentation and not p.needs_indexing for p in Paper.objects.all())
    hits = search.paper_search(q="retrieving passages reduces hallucination", aspect="all").hits
    assert hits[0].paper.title == "Retrieval Augmented Generation"
