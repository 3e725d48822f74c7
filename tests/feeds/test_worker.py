"""Harvests through real Celery workers, Redis and the database: beat's task harvests a feed
from the replay server and the new papers are imported and indexed; a worker killed (SIGKILL)
mid-harvest is replaced by a new one, and every paper is imported once, the feed resuming at the
page it stopped at."""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from tests.conftest import ROOT
from tests.feeds.conftest import ARXIV_IDS, TOKENS, first_page, oai, recorded
from webapp.feeds.models import Harvest
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper
from worker.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout: float = 120, what: str = ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


def harvest_and_imports_done(feed) -> Harvest | None:
    harvest = feed.harvests.order_by("-pk").first()
    if harvest and harvest.is_finished and harvest.imports.exists() and harvest.imports_finished():
        return harvest
    return None


@pytest.fixture
def fresh_index(settings, tmp_path):
    from webapp.papers import search

    settings.INDEX_DIR = tmp_path / "index"
    search._index_set.cache_clear()
    yield
    search._index_set.cache_clear()


def test_beat_harvests_a_due_feed_through_a_worker_and_the_new_papers_are_indexed(arxiv_feed, settings, fresh_index):
    from webapp.papers import search
    from worker.tasks import harvest_due

    settings.INDEX_AFTER_IMPORT = True
    with start_worker(app, queues=["index"], perform_ping_check=False, concurrency=1, pool="solo"):
        harvest_due.delay()  # what beat sends every five minutes
        # indexing loads the real encoder: seconds on a quiet machine, 390 s seen at a load of 15
        harvest = wait_for(lambda: harvest_and_imports_done(arxiv_feed), timeout=900,
                           what="the harvest and its import")
    job = harvest.imports.get()
    assert harvest.status == JobStatus.DONE and (job.status, job.created, job.index_done) == (JobStatus.DONE, 8, 8)
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == ARXIV_IDS
    assert all(p.segmentation and not p.needs_indexing for p in Paper.objects.all())
    hits = search.paper_search(q="pruning large language models without retraining", aspect="all").hits
    assert hits[0].paper.arxiv_id == "2306.11695"


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_process(env: dict, log) -> subprocess.Popen:
    """A worker in a process of its own (the solo pool: the task runs in the process killed)."""
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", "index", "-P", "solo",
                             "-n", f"feeds-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip",
                             "-l", "WARNING"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_a_worker_killed_mid_harvest_is_replaced_and_every_paper_is_imported_once(arxiv_feed, replay, settings,
                                                                                    tmp_path):
    from webapp.feeds import services
    from worker.tasks import requeue_stale

    # Page 3 is slow the first time: the worker is killed while it waits for it.
    replay.add("/oai", oai(resumptionToken=TOKENS[1]), [recorded("arxiv/page3.xml", delay_s=300),
                                                        recorded("arxiv/page3.xml")])
    settings.JOB_STALE_AFTER_S = 10
    env = {**os.environ, "DATABASE_URL": database_url(), "ARXIV_OAI_URL": settings.ARXIV_OAI_URL,
           "JOB_STALE_AFTER_S": "10", "JOB_HEARTBEAT_S": "1", "INDEX_AFTER_IMPORT": "0", "FEED_HTTP_TRIES": "2"}
    harvest, _ = services.harvest_start(feed=arxiv_feed)
    with open(tmp_path / "worker-a.log", "wb") as log_a, open(tmp_path / "worker-b.log", "wb") as log_b:
        first = worker_process(env, log_a)
        try:
            wait_for(lambda: replay.requests("/oai", oai(resumptionToken=TOKENS[1])), what="the slow page 3")
            stopped_at = Harvest.objects.get(pk=harvest.pk)
            assert (stopped_at.status, stopped_at.pages, stopped_at.fetched) == (JobStatus.RUNNING, 2, 5)
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.kill()
            first.wait(timeout=30)
        arxiv_feed.refresh_from_db()
        assert arxiv_feed.cursor["token"] == TOKENS[1]  # where it stopped

        second = worker_process(env, log_b)
        try:
            time.sleep(settings.JOB_STALE_AFTER_S + 1)  # the dead worker's heartbeat goes stale
            requeue_stale()  # what beat runs every minute
            done = wait_for(lambda: harvest_and_imports_done(arxiv_feed), timeout=180,
                            what=f"the harvest to resume; worker log: {tmp_path / 'worker-b.log'}")
        finally:
            second.terminate()
            second.wait(timeout=30)
    assert done.pk == harvest.pk and done.status == JobStatus.DONE and done.attempts >= 2
    assert (done.pages, done.fetched) == (3, 8)
    job = ImportJob.objects.get()
    assert (job.status, job.done, job.created, job.skipped) == (JobStatus.DONE, 8, 8, 0)
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == sorted(ARXIV_IDS)
    # pages 1 and 2 were fetched once; the new worker went on with page 3
    assert len(replay.requests("/oai", first_page())) == 1
    assert len(replay.requests("/oai", oai(resumptionToken=TOKENS[0]))) == 1
    assert len(replay.requests("/oai", oai(resumptionToken=TOKENS[1]))) == 2
    arxiv_feed.refresh_from_db()
    assert arxiv_feed.cursor == {}
