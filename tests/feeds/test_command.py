"""manage.py harvest: one feed by name or id, --all, --since, and what it prints."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.feeds.conftest import ARXIV_IDS, TOKENS, first_page, oai, recorded
from webapp.feeds.models import Feed, FeedKind
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper

pytestmark = pytest.mark.django_db


def harvest(*args) -> str:
    out = StringIO()
    call_command("harvest", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_it_harvests_a_feed_by_name_and_imports_in_the_foreground(arxiv_feed):
    printed = harvest("cs.CL daily")
    assert "harvest #" in printed and "3 pages, 8 records fetched, 7 left out; 8 new papers" in printed
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == ARXIV_IDS
    assert arxiv_feed.harvests.get().imports.get().status == JobStatus.DONE


def test_all_harvests_every_enabled_feed_and_a_failure_exits_non_zero(arxiv_feed, openalex_feed, replay):
    replay.add("/oai", oai(resumptionToken=TOKENS[0]), [recorded("arxiv/page2-malformed.xml")])
    with pytest.raises(CommandError, match="harvest failed: cs.CL daily"):
        harvest("--all")
    assert openalex_feed.harvests.get().status == JobStatus.DONE
    assert Paper.objects.filter(arxiv_id__in=ARXIV_IDS).count() == 3  # page 1 (OpenAlex has one of them too)


def test_since_starts_a_fresh_sweep_from_that_day(arxiv_feed, replay):
    Feed.objects.filter(pk=arxiv_feed.pk).update(cursor={"since": "2026-11-01", "started": "2026-11-02",
                                                         "token": TOKENS[1]})
    harvest(str(arxiv_feed.pk), "--since", "2026-11-30")
    assert len(replay.requests("/oai", first_page())) == 1 and Paper.objects.count() == 8


def test_it_names_a_feed_it_cannot_find_or_tell_apart(arxiv_feed, bob):
    with pytest.raises(CommandError, match="no feed called 'nope'"):
        harvest("nope")
    Feed.objects.create(owner=bob, name="cs.CL daily", kind=FeedKind.ARXIV, query="cs.CL")
    with pytest.raises(CommandError, match="2 feeds are called 'cs.CL daily'"):
        harvest("cs.CL daily")
    with pytest.raises(CommandError, match="name one feed, or give --all"):
        harvest()
