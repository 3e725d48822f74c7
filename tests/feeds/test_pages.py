"""The feeds pages: log in to see or change anything, a feed is its owner's (404 for anyone
else, staff see all), the form's checks, CSRF, and the feed's text escaped."""
import pytest
from django.test import Client

from tests.feeds.conftest import ARXIV_DAY
from webapp.feeds.models import Feed, FeedKind, Harvest
from webapp.jobs.models import JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(alice):
    return Feed.objects.create(owner=alice, name="cs.CL daily", kind=FeedKind.ARXIV, query="cs.CL", since=ARXIV_DAY)


def test_it_sends_anonymous_users_to_log_in(client, feed):
    for url in ("/feeds/", "/feeds/new", f"/feeds/{feed.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(f"/feeds/{feed.pk}/harvest").status_code == 302 and not Harvest.objects.exists()


def test_a_researcher_adds_cs_cl_daily_and_sees_it_in_their_list(client, alice):
    client.force_login(alice)
    form = client.get("/feeds/new").content.decode()
    assert 'name="query"' in form and 'value="folder"' not in form  # folders are for staff
    response = client.post("/feeds/new", {"name": "cs.CL daily", "kind": "arxiv", "query": "cs.CL cs.LG",
                                          "date_filter": "from_publication_date", "interval_hours": "24",
                                          "since": "2026-11-30", "enabled": "on"})
    feed = Feed.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/feeds/{feed.pk}/"
    assert (feed.owner, feed.query, feed.interval_hours, feed.since) == (alice, "cs.CL cs.LG", 24, ARXIV_DAY)
    page = client.get("/feeds/").content.decode()
    assert "cs.CL daily" in page and "never run" in page


def test_the_form_says_what_is_wrong(client, alice, feed):
    client.force_login(alice)
    base = {"kind": "arxiv", "date_filter": "from_publication_date", "interval_hours": "24", "since": "2026-11-30"}
    response = client.post("/feeds/new", {**base, "name": "mixed", "query": "cs.LG stat.ML"})
    assert response.status_code == 400 and "several OAI sets" in response.content.decode()
    response = client.post("/feeds/new", {**base, "name": "cs.CL daily", "query": "cs.CL"})
    assert response.status_code == 400 and "a feed of that name already" in response.content.decode()
    response = client.post("/feeds/new", {**base, "name": "inbox", "kind": "folder", "query": "papers"})
    assert response.status_code == 400 and Feed.objects.count() == 1  # no folder feeds for non-staff


def test_bob_gets_404_for_everything_of_alices_feed(client, bob, feed):
    harvest = Harvest.objects.create(feed=feed)
    client.force_login(bob)
    for url in (f"/feeds/{feed.pk}/", f"/feeds/{feed.pk}/edit", f"/feeds/harvests/{harvest.pk}/progress"):
        assert client.get(url).status_code == 404, url
    for url in (f"/feeds/{feed.pk}/harvest", f"/feeds/{feed.pk}/delete", f"/feeds/{feed.pk}/edit"):
        assert client.post(url, {"name": "mine now", "query": "cs.AI"}).status_code == 404, url
    assert f"/feeds/{feed.pk}/" not in client.get("/feeds/").content.decode()
    feed.refresh_from_db()
    assert feed.name == "cs.CL daily" and Harvest.objects.count() == 1


def test_staff_see_every_feed(client, django_user_model, feed):
    admin = django_user_model.objects.create_user("root", "root@example.org", "pw", is_staff=True)
    client.force_login(admin)
    assert "cs.CL daily" in client.get("/feeds/").content.decode()
    assert client.get(f"/feeds/{feed.pk}/").status_code == 200


def test_harvest_now_queues_one_harvest_and_the_page_follows_it(client, alice, feed, monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.feeds.services.job_enqueue", lambda job: sent.append(job.pk))
    client.force_login(alice)
    assert client.post(f"/feeds/{feed.pk}/harvest").status_code == 302
    assert client.post(f"/feeds/{feed.pk}/harvest").status_code == 302  # under way: not a second one
    harvest = Harvest.objects.get()
    assert sent == [harvest.pk]
    page = client.get(f"/feeds/{feed.pk}/").content.decode()
    assert f'hx-get="/feeds/harvests/{harvest.pk}/progress"' in page
    Harvest.objects.filter(pk=harvest.pk).update(status=JobStatus.FAILED, error="HTTP 503 <b>busy</b>")
    fragment = client.get(f"/feeds/harvests/{harvest.pk}/progress").content.decode()
    assert "HTTP 503 &lt;b&gt;busy&lt;/b&gt;" in fragment and "hx-get" not in fragment


def test_a_change_of_query_drops_the_unfinished_sweep_and_delete_keeps_the_papers(client, alice, feed):
    Feed.objects.filter(pk=feed.pk).update(cursor={"since": "2026-11-30", "started": "2026-12-01", "token": "t"})
    client.force_login(alice)
    assert 'value="cs.CL"' in client.get(f"/feeds/{feed.pk}/edit").content.decode()
    response = client.post(f"/feeds/{feed.pk}/edit", {"name": "cs.AI daily", "kind": "arxiv", "query": "cs.AI",
                                                     "date_filter": "from_publication_date", "interval_hours": "6",
                                                     "since": "2026-11-30", "enabled": "on"})
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.name, feed.query, feed.interval_hours, feed.cursor) == ("cs.AI daily", "cs.AI", 6, {})
    assert client.post(f"/feeds/{feed.pk}/delete").status_code == 302 and not Feed.objects.exists()


def test_writes_need_the_csrf_token(alice, feed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/feeds/{feed.pk}/harvest").status_code == 403
    assert client.post("/feeds/new", {"name": "x"}).status_code == 403


def test_a_feeds_name_and_query_are_escaped(client, alice):
    Feed.objects.create(owner=alice, name="<script>alert(1)</script>", kind=FeedKind.OPENALEX,
                        query="<img src=x onerror=alert(1)>")
    client.force_login(alice)
    page = client.get("/feeds/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
