"""Harvests in the process (the real HTTP client against the replay server, the real import job
and database; the worker tests run the same through Celery): every paper once, the feed resuming
where it stopped after a malformed page, a 503, an expired token, and an empty day."""
import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.feeds.conftest import ARXIV_DAY, ARXIV_IDS, TOKENS, first_page, oai, recorded, unavailable
from webapp.feeds import services
from webapp.feeds.models import Feed, FeedKind
from webapp.imports.services import import_job_run
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper

pytestmark = pytest.mark.django_db


def harvest(feed, **kwargs):
    """One harvest and its imports, run here; the harvest as saved."""
    started, new = services.harvest_start(feed=feed, enqueue=False, **kwargs)
    assert new
    services.harvest_run(job_id=started.pk, enqueue_import=False)
    for job in started.imports.all():
        import_job_run(job_id=job.pk)
    started.refresh_from_db()
    return started


def stored_arxiv_ids() -> list[str]:
    return sorted(Paper.objects.exclude(arxiv_id="").values_list("arxiv_id", flat=True))


def test_it_harvests_every_page_into_one_import_and_moves_the_feed_on(arxiv_feed, replay):
    before = timezone.now()
    done = harvest(arxiv_feed)
    assert done.status == JobStatus.DONE and (done.pages, done.fetched, done.ignored) == (3, 8, 7)
    assert stored_arxiv_ids() == sorted(ARXIV_IDS)
    assert done.import_counts() == {"created": 8, "updated": 0, "skipped": 0, "failed": 0}
    paper = Paper.objects.get(arxiv_id="2206.07682")
    assert paper.title == "Emergent Abilities of Large Language Models" and paper.year == 2022
    assert paper.authors[:2] == ["Jason Wei", "Yi Tay"] and paper.url == "https://arxiv.org/abs/2206.07682"
    # what the digest reads: the papers that arrived since a time
    assert Paper.objects.filter(created_at__gte=before).count() == 8
    arxiv_feed.refresh_from_db()
    assert arxiv_feed.cursor == {} and arxiv_feed.since == timezone.localdate() and arxiv_feed.failures == 0
    assert arxiv_feed.next_run_at > timezone.now() + timedelta(hours=23)


def test_the_next_sweep_asks_from_the_day_the_last_one_began_and_an_empty_day_is_no_failure(arxiv_feed, replay):
    harvest(arxiv_feed)
    replay.add("/oai", first_page(timezone.localdate()), [recorded("arxiv/no-records.xml")])
    empty = harvest(arxiv_feed)
    assert empty.status == JobStatus.DONE and (empty.pages, empty.fetched) == (1, 0)
    assert not empty.imports.exists() and Paper.objects.count() == 8
    assert len(replay.requests("/oai", first_page(timezone.localdate()))) == 1


def test_after_a_malformed_page_the_pages_before_it_are_imported_and_the_next_harvest_resumes_at_it(
        arxiv_feed, replay):
    replay.add("/oai", oai(resumptionToken=TOKENS[0]), [recorded("arxiv/page2-malformed.xml"),
                                                        recorded("arxiv/page2.xml")])
    failed = harvest(arxiv_feed)
    assert failed.status == JobStatus.FAILED and "not well-formed XML" in failed.error
    assert failed.pages == 1 and failed.import_counts()["created"] == 3
    arxiv_feed.refresh_from_db()
    assert arxiv_feed.cursor["token"] == TOKENS[0] and arxiv_feed.since == ARXIV_DAY and arxiv_feed.failures == 1
    # tried again sooner than the feed's interval
    assert arxiv_feed.next_run_at < timezone.now() + timedelta(minutes=11)

    resumed = harvest(arxiv_feed)
    assert resumed.status == JobStatus.DONE and resumed.pages == 2 and resumed.since == ARXIV_DAY
    assert resumed.import_counts() == {"created": 5, "updated": 0, "skipped": 0, "failed": 0}
    assert stored_arxiv_ids() == sorted(ARXIV_IDS)
    assert len(replay.requests("/oai", first_page())) == 1  # page 1 was not fetched again
    assert len(replay.requests("/oai", oai(resumptionToken=TOKENS[0]))) == 2


def test_a_503_is_waited_out_as_retry_after_says(arxiv_feed, replay):
    replay.add("/oai", oai(resumptionToken=TOKENS[1]), [unavailable(1), recorded("arxiv/page3.xml")])
    done = harvest(arxiv_feed)
    assert done.status == JobStatus.DONE and stored_arxiv_ids() == sorted(ARXIV_IDS)
    first, second = replay.requests("/oai", oai(resumptionToken=TOKENS[1]))
    assert (first.status, second.status) == (503, 200) and second.at - first.at >= 1.0


def test_503s_past_the_tries_fail_the_harvest_and_the_next_one_resumes_at_that_page(arxiv_feed, replay, settings):
    settings.FEED_HTTP_TRIES = 2
    replay.add("/oai", oai(resumptionToken=TOKENS[1]), [unavailable(0), unavailable(0), recorded("arxiv/page3.xml")])
    failed = harvest(arxiv_feed)
    assert failed.status == JobStatus.FAILED and "HTTP 503" in failed.error and "2 tries" in failed.error
    assert failed.import_counts()["created"] == 5
    resumed = harvest(arxiv_feed)
    assert resumed.status == JobStatus.DONE and resumed.pages == 1
    assert stored_arxiv_ids() == sorted(ARXIV_IDS) and Paper.objects.count() == 8


def test_an_expired_token_asks_for_the_list_again_and_what_was_imported_stays_once(arxiv_feed, replay):
    replay.add("/oai", oai(resumptionToken=TOKENS[0]), [recorded("arxiv/page2-malformed.xml"),
                                                        recorded("arxiv/bad-token.xml"), recorded("arxiv/page2.xml")])
    assert harvest(arxiv_feed).status == JobStatus.FAILED
    again = harvest(arxiv_feed)
    assert again.status == JobStatus.DONE and again.pages == 3  # page 1 again, then 2 and 3
    assert again.import_counts() == {"created": 5, "updated": 0, "skipped": 3, "failed": 0}
    assert stored_arxiv_ids() == sorted(ARXIV_IDS)


def test_an_openalex_work_of_an_arxiv_paper_joins_the_paper_the_arxiv_feed_brought(arxiv_feed, openalex_feed):
    harvest(arxiv_feed)
    done = harvest(openalex_feed)
    assert done.status == JobStatus.DONE and (done.pages, done.fetched) == (3, 6)
    counts = done.import_counts()
    assert counts["created"] + counts["updated"] + counts["skipped"] == 6
    # the work whose DOI and landing page are arXiv's is the stored arXiv paper, not a second row
    assert Paper.objects.filter(title="Emergent Abilities of Large Language Models").count() == 1
    assert Paper.objects.count() == 8 + counts["created"]


def test_a_harvest_already_under_way_is_not_started_twice_and_since_starts_a_fresh_sweep(arxiv_feed):
    first, new = services.harvest_start(feed=arxiv_feed, enqueue=False)
    again, new_again = services.harvest_start(feed=arxiv_feed, enqueue=False)
    assert new and not new_again and again.pk == first.pk
    Feed.objects.filter(pk=arxiv_feed.pk).update(cursor={"since": "2026-11-01", "started": "2026-11-02",
                                                         "token": "x"})
    first.__class__.objects.filter(pk=first.pk).update(status=JobStatus.DONE)
    services.harvest_start(feed=arxiv_feed, since=ARXIV_DAY, enqueue=False)
    arxiv_feed.refresh_from_db()
    assert arxiv_feed.cursor == {} and arxiv_feed.since == ARXIV_DAY


def test_beat_harvests_the_feeds_that_are_due_and_only_those(arxiv_feed, openalex_feed, alice, monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.feeds.services.job_enqueue", lambda job: sent.append(job.pk))
    paused = Feed.objects.create(owner=alice, name="paused", kind=FeedKind.ARXIV, query="cs.LG", enabled=False,
                                 next_run_at=timezone.now() - timedelta(days=1))
    Feed.objects.filter(pk=openalex_feed.pk).update(next_run_at=timezone.now() + timedelta(hours=3))
    started = services.feeds_harvest_due()
    assert started == sent and len(started) == 1
    assert arxiv_feed.harvests.get().pk == started[0] and not paused.harvests.exists()
    assert services.feeds_harvest_due() == []  # the next run is a day away now
    import worker.tasks  # noqa: F401  (registers the tasks)
    from worker.celery import app

    assert app.conf.beat_schedule["harvest-due-feeds"]["task"] == "feeds.harvest_due"
    for task in ("feeds.harvest_due", "feeds.harvest_run"):
        assert task in app.tasks and app.amqp.router.route({}, task)["queue"].name == "index"


def test_a_folder_feed_imports_each_new_or_changed_file_once_by_content(feed_dirs, alice):
    alice.is_staff = True
    alice.save()
    inbox = feed_dirs / "papers"
    inbox.mkdir()
    old = time.time() - 60

    def drop(name, text):  # a file copied in a minute ago: settled
        (inbox / name).write_text(text)
        os.utime(inbox / name, (old, old))

    drop("a.jsonl", '{"title": "Folder paper A", "abstract": "We study folders."}\n')
    drop("b.txt", "Folder paper B\nWe study watched folders.\n")
    feed = services.feed_create(owner=alice, name="inbox", kind=FeedKind.FOLDER, query="papers")
    first = harvest(feed)
    assert first.status == JobStatus.DONE and (first.pages, first.files, first.ignored) == (2, 2, 0)
    assert set(Paper.objects.values_list("title", flat=True)) == {"Folder paper A", "Folder paper B"}

    drop("copy-of-a.jsonl", '{"title": "Folder paper A", "abstract": "We study folders."}\n')
    (inbox / "new.jsonl").write_text('{"title": "Still being copied"}\n')  # modified just now: next time
    second = harvest(feed)
    assert (second.files, second.ignored) == (0, 3) and not second.imports.exists()

    drop("a.jsonl", '{"title": "Folder paper A", "abstract": "We study folders."}\n{"title": "Folder paper C"}\n')
    third = harvest(feed)
    assert third.files == 1 and third.import_counts() == {"created": 1, "updated": 0, "skipped": 1, "failed": 0}
    assert Paper.objects.count() == 3


def test_only_staff_watch_folders_and_only_inside_the_folder_root(feed_dirs, bob):
    with pytest.raises(services.FeedRejected, match="only staff"):
        services.feed_create(owner=bob, name="x", kind=FeedKind.FOLDER, query="papers")
    with pytest.raises(services.FeedRejected, match="inside FEED_FOLDER_ROOT"):
        services.feed_check(kind=FeedKind.FOLDER, query="../../etc", staff=True)
    with pytest.raises(services.FeedRejected, match="not arXiv categories"):
        services.feed_check(kind=FeedKind.ARXIV, query="cs.CL; rm", staff=False)
    with pytest.raises(services.FeedRejected, match="several OAI sets"):
        services.feed_check(kind=FeedKind.ARXIV, query="cs.LG stat.ML", staff=False)


class Killed(BaseException):
    """What a worker killed in the middle of a step looks like to the code after it: nothing runs."""


def test_a_page_written_but_not_committed_before_the_worker_died_is_not_imported_twice(arxiv_feed, monkeypatch,
                                                                                        settings):

    append = services._append
    pages = []

    def append_then_die(path, records):
        size = append(path, records)
        pages.append(size)
        if len(pages) == 2:  # page 2 is on disk, the database does not know it yet
            raise Killed()
        return size

    monkeypatch.setattr(services, "_append", append_then_die)
    started, _ = services.harvest_start(feed=arxiv_feed, enqueue=False)
    with pytest.raises(Killed):
        services.harvest_run(job_id=started.pk, enqueue_import=False)
    started.refresh_from_db()
    assert started.status == JobStatus.RUNNING and started.file_bytes == pages[0] < pages[1]
    monkeypatch.setattr(services, "_append", append)
    type(started).objects.filter(pk=started.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    services.harvest_run(job_id=started.pk, enqueue_import=False)  # the next worker
    started.refresh_from_db()
    assert started.status == JobStatus.DONE and started.attempts == 2 and started.fetched == 8
    job = started.imports.get()
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.done, job.created, job.skipped) == (8, 8, 0)  # the file holds each record once


def test_an_openalex_feed_resumes_at_its_cursor_after_a_malformed_page(openalex_feed, replay):
    import json

    from discovery.feeds.openalex import SELECT
    from tests.feeds.conftest import RECORDED

    cursor = json.loads((RECORDED / "openalex/page1.json").read_text())["meta"]["next_cursor"]
    page2 = {"filter": "concepts.id:C204321447,from_publication_date:2026-11-30", "search": "large language models",
             "select": SELECT, "per-page": "200", "cursor": cursor}
    replay.add("/works", page2, [recorded("openalex/malformed.json"), recorded("openalex/page2.json")])
    failed = harvest(openalex_feed)
    assert failed.status == JobStatus.FAILED and "not valid JSON" in failed.error
    assert failed.import_counts()["created"] == 3
    openalex_feed.refresh_from_db()
    assert openalex_feed.cursor["token"] == cursor
    resumed = harvest(openalex_feed)
    assert resumed.status == JobStatus.DONE and resumed.import_counts()["created"] == 3 and Paper.objects.count() == 6
    assert len(replay.requests("/works", page2)) == 2
