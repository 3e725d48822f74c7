"""A worker SIGKILLed in the middle of a job: real Celery worker processes, the real broker and
database. The job must resume within 30 s of a new worker starting (issue 15.20), long before
the broker's visibility timeout (2 h) or the stale-heartbeat check (JOB_STALE_AFTER_S = 120 s),
and nothing may be lost or imported twice."""
import json
import time

import pytest

from webapp.faults.workers import WorkerProcess
from webapp.imports import services
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RECORDS = 2000
# Small batches, so the import runs long enough to be killed half way.
SLOW_IMPORT = {"IMPORT_BATCH_SIZE": "10", "INDEX_AFTER_IMPORT": "0"}


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    with open(path, "w") as out:
        for n in range(RECORDS):
            out.write(json.dumps({"title": f"Paper number {n} on robust worker recovery",
                                  "abstract": f"We study failure {n}. Our method restarts. It works."}) + "\n")
    return path


@pytest.fixture
def workers(tmp_path, settings):
    settings.INDEX_DIR = tmp_path / "index"
    started = []

    def start(name, **env):
        worker = WorkerProcess(name, tmp_path, **{**SLOW_IMPORT, **env}).start()
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s")


def job_row(job_id):
    return ImportJob.objects.get(pk=job_id)


def assert_imported_once(job):
    assert job.status == JobStatus.DONE, job.error
    assert (job.done, job.created, job.failed) == (RECORDS, RECORDS, 0)
    assert Paper.objects.count() == RECORDS
    assert Paper.objects.values("fingerprint").distinct().count() == RECORDS


def test_a_job_of_a_killed_worker_resumes_within_30s_of_a_new_worker_starting(workers, corpus, alice):
    first = workers("first")
    job = services.import_job_create(path=str(corpus), owner=alice)
    wait_for(lambda: job_row(job.pk).done >= RECORDS // 4, 60, "a quarter of the import")
    first.kill()
    done_at_kill = job_row(job.pk).done
    assert done_at_kill < RECORDS
    second = WorkerProcess("second", first.log_path.parent, **SLOW_IMPORT).start()
    try:
        wait_for(lambda: (j := job_row(job.pk)).attempts == 2 and j.done > done_at_kill, 30,
                 f"the job resumed by the new worker (it stopped at {done_at_kill}/{RECORDS})")
        resumed_in = time.monotonic() - second.started_at
        finished = wait_for(lambda: job_row(job.pk).is_finished and job_row(job.pk), 60, "the job finished")
    finally:
        second.stop()
    assert_imported_once(finished)
    assert finished.attempts == 2
    print(f"resumed {resumed_in:.1f} s after the new worker started")


def test_a_killed_pool_process_s_job_is_taken_over_not_dropped(workers, corpus, alice):
    """The main process lives and redelivers the task at once, while the dead process's claim
    still looks fresh: the redelivery must wait for its liveness to expire, then take it over."""
    worker = workers("pool")
    job = services.import_job_create(path=str(corpus), owner=alice)
    wait_for(lambda: job_row(job.pk).done >= RECORDS // 4, 60, "a quarter of the import")
    worker.kill_pool_process()
    finished = wait_for(lambda: job_row(job.pk).is_finished and job_row(job.pk), 75, "the job finished")
    assert_imported_once(finished)
    assert finished.attempts == 2
