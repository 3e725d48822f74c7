"""Keeping readers up to date, end to end through a real Celery worker, Redis and the database,
with the real encoder: a background corpus imported and indexed; two readers with different
libraries and a saved idea; a day later a feed harvested from the replay server (the arXiv
OAI-PMH pages recorded in tests/feeds) brings new papers, indexed and published; novelty watch
alerts the idea's owner that a harvested paper landed next to the idea; beat's digest task gives
each reader different new papers, each with its reason."""
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db.models import F
from django.utils import timezone

from tests.feeds.conftest import arxiv_feed, feed_dirs, replay  # noqa: F401 (fixtures)
from webapp.imports import services as imports
from webapp.imports.models import ImportJob
from webapp.jobs.lifecycle import task_send
from webapp.library import digests, services
from webapp.library.models import Collection, CollectionPaper, Digest, WatchAlert
from webapp.papers.models import Paper
from worker.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BACKGROUND = "tests/library/fixtures/background.jsonl"
WANDA = "A Simple and Effective Pruning Approach for Large Language Models"
PROMPTING = {"Pre-train, Prompt, and Predict: A Systematic Survey of Prompting Methods in Natural Language Processing",
             "Hard Prompts Made Easy: Gradient-Based Discrete Optimization for Prompt Tuning and Discovery"}


def wait_for(condition, timeout: float = 600, what: str = ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value := condition():
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def fresh_index(settings, tmp_path):
    from webapp.papers import search

    settings.INDEX_DIR = tmp_path / "index"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    search._index_set.cache_clear()
    search._calibration.cache_clear()
    yield
    search._index_set.cache_clear()


def collection(owner, name: str, *titles: str) -> Collection:
    c = Collection.objects.create(owner=owner, name=name)
    for title in titles:
        CollectionPaper.objects.create(collection=c, paper=Paper.objects.get(title__startswith=title))
    return c


def a_day_passes() -> None:
    """Yesterday's corpus and digests, so that today's digest window holds the harvest only."""
    day = timezone.timedelta(days=1)
    Paper.objects.update(created_at=F("created_at") - day)
    Digest.objects.update(since=F("since") - day, until=F("until") - day, created_at=F("created_at") - day)


def test_a_harvest_reaches_two_readers_digests_and_the_watched_idea(arxiv_feed, settings, fresh_index, alice, bob):
    from worker.tasks import harvest_due

    settings.INDEX_AFTER_IMPORT = True
    with start_worker(app, queues=["index"], perform_ping_check=False, concurrency=1, pool="solo",
                      shutdown_timeout=120):
        job = imports.import_job_create(path=BACKGROUND, owner=alice)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).is_finished, what="the background import and its indexing")
        collection(alice, "Compression", "Post-training quantization", "Distilling BERT", "Magnitude pruning")
        collection(bob, "Prompting", "Language models are few-shot", "Chain-of-thought", "Instruction tuning")
        idea = services.idea_create(  # the harvested pruning paper will land right next to it
            owner=alice, title="Pruning LLMs without retraining",
            problem="Pruning drops a subset of network weights of large language models, but existing pruning "
                    "methods need retraining or a costly weight reconstruction at billion-parameter scale.",
            method="Prune the weights with the smallest magnitudes multiplied by their input activations, per "
                   "output, with no retraining or weight update.")
        wait_for(lambda: idea.novelty.exists(), what="the idea's first novelty reading")
        first = digests.digests_send()  # today's digests, of the background corpus
        assert len(first.built) == 2
        a_day_passes()
        harvest_due.delay()  # what beat sends
        wait_for(lambda: Paper.objects.filter(title=WANDA, indexed_hash__gt="").exists(), what="the harvest indexed")
        alerts = wait_for(lambda: list(WatchAlert.objects.filter(idea=idea)), what="the novelty-watch alert")
        task_send("library.send_digests")  # what beat sends once a day
        wait_for(lambda: Digest.objects.count() == 4, what="the second digests")
    assert {a.paper.title for a in alerts} == {WANDA}
    assert all(a.before >= a.after for a in alerts) and {a.aspect for a in alerts} <= {"problem", "method"}
    today = {u: Digest.objects.filter(user=u).order_by("-until").first() for u in (alice, bob)}
    picked = {u.username: {i.paper.title: i.reason for i in d.items.select_related("paper")} for u, d in today.items()}
    harvested = set(Paper.objects.filter(arxiv_id__gt="").values_list("title", flat=True))
    assert set(picked["alice"]) <= harvested and set(picked["bob"]) <= harvested  # the new papers only
    assert WANDA in picked["alice"] and WANDA not in picked["bob"]
    assert PROMPTING & set(picked["bob"]) and not PROMPTING & set(picked["alice"])
    assert "your collection “Compression”" in picked["alice"][WANDA] or "your idea" in picked["alice"][WANDA]
    assert all(reason for reasons in picked.values() for reason in reasons.values())
    assert WatchAlert.objects.get(pk=alerts[0].pk).digest == today[alice]  # the alert went out with the digest
    assert any(WANDA in m.body and "novelty" in m.subject for m in mail.outbox if m.to == [alice.email])
