"""The one job lifecycle (webapp.jobs.lifecycle) over every job type: the claim, the re-queue of
silent jobs by the one beat task, the cap on attempts, and the heartbeat kept by time while a
worker is inside one long step."""
import time

import pytest
from django.utils import timezone

from webapp.ideas.models import IdeaRun
from webapp.imports.models import ImportJob
from webapp.jobs import lifecycle
from webapp.jobs.models import JobStatus
from webapp.reports.models import NoveltyReport

LONG_AGO = timezone.now() - timezone.timedelta(hours=1)


@pytest.fixture
def sent(monkeypatch):
    sent = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, *args: sent.append((name, *args)))
    return sent


def stale(job, **fields):
    type(job).objects.filter(pk=job.pk).update(heartbeat=LONG_AGO, created_at=LONG_AGO, **fields)
    return job


@pytest.fixture
def jobs(db, alice):
    return {"import": ImportJob.objects.create(owner=alice, path="/x", filename="x.jsonl"),
            "report": NoveltyReport.objects.create(owner=alice, problem="p", method="m"),
            "ideas": IdeaRun.objects.create(owner=alice, problem="p")}


@pytest.mark.parametrize("kind", ["import", "report", "ideas"])
def test_a_job_is_claimed_once_while_its_worker_lives_and_again_once_it_is_silent(jobs, kind):
    job = jobs[kind]
    model = type(job)
    assert lifecycle.job_claim(model, job.pk, "first")
    assert not lifecycle.job_claim(model, job.pk, "second")  # the first worker's heartbeat is fresh
    stale(job)
    assert lifecycle.job_claim(model, job.pk, "second")
    job.refresh_from_db()
    assert (job.status, job.claim, job.attempts) == (JobStatus.RUNNING, "second", 2)
    model.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    stale(job)
    assert not lifecycle.job_claim(model, job.pk, "third")  # finished


def test_the_one_beat_task_requeues_silent_jobs_of_every_type(jobs, sent, alice):
    from worker.celery import app
    from worker.tasks import requeue_stale

    indexing = stale(ImportJob.objects.create(owner=alice, path="/y", filename="y.jsonl"), status=JobStatus.INDEXING)
    stale(jobs["import"])
    stale(jobs["report"], status=JobStatus.RUNNING, attempts=1)
    stale(jobs["ideas"])
    requeued = {label: sorted(ids) for label, ids in requeue_stale().items() if ids}
    assert requeued == {"imports.ImportJob": sorted([indexing.pk, jobs["import"].pk]),
                        "reports.NoveltyReport": [jobs["report"].pk], "ideas.IdeaRun": [jobs["ideas"].pk]}
    assert sorted(sent) == sorted([("papers.import_run", jobs["import"].pk), ("papers.index_plan", indexing.pk),
                                   ("llm.report_run", jobs["report"].pk), ("llm.ideas_run", jobs["ideas"].pk)])
    requeues = [e["task"] for e in app.conf.beat_schedule.values() if "requeue" in e["task"]]
    assert requeues == ["jobs.requeue_stale"]
    # Re-sent once per stale period: the queued ones got a fresh heartbeat, the running one keeps
    # its stale one so that the re-sent task can claim it.
    sent.clear()
    lifecycle.jobs_recover()
    assert sent == [("llm.report_run", jobs["report"].pk)]


@pytest.mark.parametrize("kind", ["import", "report", "ideas"])
def test_a_job_whose_worker_died_too_often_is_failed_with_the_reason_not_requeued(jobs, sent, kind):
    job = jobs[kind]
    model = type(job)
    stale(job, status=JobStatus.RUNNING, attempts=model.max_attempts)
    assert not lifecycle.job_claim(model, job.pk, "late")  # a redelivery past the cap does nothing
    assert lifecycle.jobs_recover()[model._meta.label] == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and f"stopped {model.max_attempts} times" in job.error
    assert job.finished_at is not None and sent == []


def test_a_failure_inside_the_job_is_recorded_with_the_reason(jobs):
    job = jobs["report"]
    assert lifecycle.job_claim(NoveltyReport, job.pk, "t")
    with lifecycle.job_running(job, "t") as run:
        run.stage("retrieving")
        raise ValueError("the index is corrupt")
    assert run.result().status == JobStatus.FAILED and "ValueError: the index is corrupt" in run.result().error


def test_a_worker_that_lost_its_claim_stops_without_writing(jobs):
    job = jobs["ideas"]
    assert lifecycle.job_claim(IdeaRun, job.pk, "old")
    IdeaRun.objects.filter(pk=job.pk).update(claim="new")  # presumed dead, taken over
    with lifecycle.job_running(job, "old") as run:
        run.finish(ideas=[{"method": "stale"}])
    assert run.result() is None
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.ideas == []


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_kept_fresh_by_time_during_one_long_step(alice, settings):
    """A kernel build or a slow batch writes no progress; the live worker must keep its claim."""
    settings.JOB_HEARTBEAT_S, settings.JOB_STALE_AFTER_S = 1, 3
    job = ImportJob.objects.create(owner=alice, path="/x", filename="x.jsonl")
    assert lifecycle.job_claim(ImportJob, job.pk, "live")
    claimed_at = ImportJob.objects.get(pk=job.pk).heartbeat
    with lifecycle.job_running(job, "live"):
        time.sleep(4.2)  # longer than the stale threshold, without a single progress call
        assert ImportJob.objects.get(pk=job.pk).heartbeat > claimed_at + timezone.timedelta(seconds=2)
        assert not lifecycle.job_claim(ImportJob, job.pk, "intruder")


def test_replanning_a_silent_indexing_job_counts_an_attempt_only_without_progress(jobs, sent):
    from webapp.imports.services import import_index_plan

    job = jobs["import"]
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, attempts=2, index_done=0)
    import_index_plan(job_id=job.pk)
    assert ImportJob.objects.get(pk=job.pk).attempts == 3  # nothing moved since the last plan
    ImportJob.objects.filter(pk=job.pk).update(index_done=5)
    import_index_plan(job_id=job.pk)
    assert ImportJob.objects.get(pk=job.pk).attempts == 1  # chunks finished: the workers are alive


# --- a dead holder (issue 15.20): liveness keys in Redis, recovery on worker start -------------

def held_by(job, claim, **fields):
    recent = timezone.now() - timezone.timedelta(seconds=30)  # past the liveness TTL, not stale (120 s)
    type(job).objects.filter(pk=job.pk).update(**{"status": JobStatus.RUNNING, "claim": claim, "heartbeat": recent,
                                                  "attempts": 1, **fields})
    return job


def test_a_job_whose_holder_is_dead_is_claimed_before_its_heartbeat_goes_stale(jobs):
    from webapp.jobs import liveness

    job = held_by(jobs["import"], "dead-holder")  # its key expired (never renewed)
    alive = held_by(jobs["report"], "live-holder")
    liveness.alive_mark("live-holder")
    assert lifecycle.job_claim(ImportJob, job.pk, "successor")
    assert not lifecycle.job_claim(NoveltyReport, alive.pk, "intruder")
    assert ImportJob.objects.get(pk=job.pk).claim == "successor"
    assert lifecycle.job_held_alive(ImportJob, job.pk)  # the successor's own key


def test_recovery_queues_the_jobs_of_dead_holders_again_once_and_leaves_live_ones(jobs, sent):
    from webapp.jobs import liveness

    dead = held_by(jobs["import"], "dead-holder")
    alive = held_by(jobs["report"], "live-holder")
    liveness.alive_mark("live-holder")
    capped = held_by(jobs["ideas"], "dead-too", attempts=IdeaRun.max_attempts)
    recovered = {label: ids for label, ids in lifecycle.jobs_recover().items() if ids}
    assert recovered == {"imports.ImportJob": [dead.pk]}
    assert sent == [("papers.import_run", dead.pk)]
    assert ImportJob.objects.get(pk=dead.pk).status == JobStatus.QUEUED
    assert NoveltyReport.objects.get(pk=alive.pk).claim == "live-holder"
    capped.refresh_from_db()
    assert capped.status == JobStatus.FAILED and "stopped 3 times" in capped.error
    sent.clear()
    assert lifecycle.jobs_recover()["imports.ImportJob"] == [] and sent == []  # a second worker: nothing


def test_the_work_of_a_dead_indexing_worker_is_sent_again_with_what_it_had_left(jobs, sent, monkeypatch):
    """A chunk lists what is left after each step; the successor gets only that, and only once."""
    from webapp.jobs import liveness

    job = jobs["import"]
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, heartbeat=timezone.now())
    monkeypatch.setattr(liveness, "alive_clear", lambda token: None)  # the killed worker clears nothing
    with pytest.raises(KeyboardInterrupt):
        with lifecycle.job_work(job, "papers.index_chunk", [1, 2, 3, 4], job.pk) as work:
            work.left([3, 4], job.pk)
            liveness.client().delete(liveness._ALIVE + work.heartbeat.token)  # its key expires
            monkeypatch.setattr(liveness, "work_remove", lambda *a: None)  # and it never gets to clean up
            raise KeyboardInterrupt
    assert lifecycle.jobs_recover()["imports.ImportJob"] == [job.pk]
    assert sent == [("papers.index_chunk", [3, 4], job.pk)]
    sent.clear()
    assert lifecycle.jobs_recover()["imports.ImportJob"] == [] and sent == []


def test_a_replan_keeps_the_papers_indexed_so_far_in_the_counts(jobs, sent, monkeypatch):
    """512 of 3,000 indexed, the rest re-planned: 512 / 3,000, not 0 / 2,488 or 512 / 512."""
    from webapp.imports.services import import_index_plan
    from webapp.papers import indexing

    job = jobs["import"]
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, index_done=512, index_total=3000)
    monkeypatch.setattr(indexing, "unindexed_ids", lambda: list(range(2488)))
    import_index_plan(job_id=job.pk)
    job.refresh_from_db()
    assert (job.index_done, job.index_total) == (512, 3000)


def test_the_job_checks_have_a_queue_of_their_own_that_every_worker_consumes():
    from webapp.celery_app import app

    assert app.amqp.router.route({}, "jobs.requeue_stale")["queue"].name == "control"
    assert app.amqp.router.route({}, "papers.index_chunk")["queue"].name == "index"


def test_a_live_holder_whose_key_redis_lost_is_not_taken_for_dead(jobs, sent):
    """Redis restarted: every key is gone until the holders renew it, but their heartbeats are
    recent; nobody takes their jobs over."""
    job = jobs["import"]
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, claim="live-no-key", attempts=1,
                                               heartbeat=timezone.now() - timezone.timedelta(seconds=5))
    assert not lifecycle.job_claim(ImportJob, job.pk, "intruder")
    assert lifecycle.jobs_recover()["imports.ImportJob"] == [] and sent == []
