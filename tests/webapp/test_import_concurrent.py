"""Two imports of the same file at once (issue 15.23): both finish, nothing is imported twice,
and whichever comes second reports the duplicates as skipped. Real threads, each with its own
database connection, on SQLite and on PostgreSQL."""
import json
import threading

import pytest

from webapp.imports import services
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper

pytestmark = pytest.mark.django_db(transaction=True)
RECORDS = 1200


@pytest.fixture
def corpus(tmp_path, settings):
    settings.INDEX_AFTER_IMPORT = False
    settings.IMPORT_BATCH_SIZE = 50
    path = tmp_path / "same.jsonl"
    with open(path, "w") as out:
        for n in range(RECORDS):
            out.write(json.dumps({"title": f"Concurrent import paper {n}", "abstract": f"Abstract {n}.",
                                  **({"doi": f"10.1000/c{n}"} if n % 3 == 0 else {})}) + "\n")
    return path


def run_in_threads(job_ids):
    from django.db import connection

    errors, barrier = [], threading.Barrier(len(job_ids))

    def run(job_id):
        try:
            barrier.wait()
            services.import_job_run(job_id=job_id)
        except Exception as exc:  # the test reports it below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_imports_of_the_same_file_at_once_both_finish_and_import_each_paper_once(corpus):
    jobs = [services.import_job_create(path=str(corpus), enqueue=False) for _ in range(2)]
    assert run_in_threads([job.pk for job in jobs]) == []
    first, second = (ImportJob.objects.get(pk=job.pk) for job in jobs)
    assert (first.status, second.status) == (JobStatus.DONE, JobStatus.DONE), (first.error, second.error)
    assert Paper.objects.count() == RECORDS
    assert first.created + second.created == RECORDS
    assert first.skipped + second.skipped == RECORDS  # every record the other one stored first
    assert first.failed == second.failed == 0
