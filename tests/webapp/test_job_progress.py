"""Progress a person can follow (issue 15.14 and 15.15): an ETA on the job's progress fragment,
import batches bounded by time as well as size, and the home page saying what the site is
importing or indexing during a first start, polled until it is done."""
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from webapp.imports import services
from webapp.imports.models import ImportJob, Stage
from webapp.jobs.models import JobStatus, eta_seconds
from webapp.jobs.templatetags.jobs_tags import eta

pytestmark = pytest.mark.django_db


def ago(seconds):
    return timezone.now() - timezone.timedelta(seconds=seconds)


def test_the_eta_is_the_rate_so_far_applied_to_what_is_left():
    now = timezone.now()
    assert eta_seconds(100, 400, now - timezone.timedelta(seconds=50), now) == pytest.approx(150)
    assert eta_seconds(0, 400, now - timezone.timedelta(seconds=50), now) is None  # no rate yet
    assert eta_seconds(400, 400, now - timezone.timedelta(seconds=50), now) is None
    assert [eta(None), eta(40.2), eta(150), eta(7200)] == ["", "about 40 s left", "about 2 min left",
                                                           "about 2.0 h left"]


def test_the_progress_fragment_shows_the_eta_of_an_indexing_import(client, alice):
    job = ImportJob.objects.create(owner=alice, path="/x", filename="x.jsonl", status=JobStatus.INDEXING,
                                   done=400, total=400, index_done=100, index_total=400, index_started_at=ago(60))
    client.force_login(alice)
    html = client.get(reverse("import-progress", args=[job.pk])).content.decode()
    assert 'id="import-eta">about 3 min left' in html
    assert "100 / 400 papers" in html


def test_an_import_batch_is_cut_short_by_time_on_a_slow_file():
    def slow():
        for n in range(6):
            time.sleep(0.03)
            yield n

    batches = list(services._batches(slow(), start=1, size=100, max_s=0.05))
    assert [position for batch in batches for position, _ in batch] == [1, 2, 3, 4, 5]
    assert len(batches) >= 2


def test_the_home_page_says_what_the_site_is_doing_during_a_first_start(client):
    ImportJob.objects.create(path="/demo", filename="seed_papers.txt", status=JobStatus.INDEXING, done=119,
                             total=119, index_done=48, index_total=119, stage=Stage.KERNELS,
                             index_started_at=ago(30))
    html = client.get(reverse("home")).content.decode()
    assert "Indexing 119 papers: 40% · building the encoder&#x27;s kernels" in html
    assert f'hx-get="{reverse("site-activity")}"' in html and "htmx.min.js" in html
    assert "seed_papers" not in html  # counts only, not whose file


def test_the_site_activity_stops_polling_once_the_site_is_idle(client):
    ImportJob.objects.create(path="/demo", filename="demo", status=JobStatus.DONE)
    html = client.get(reverse("site-activity")).content.decode()
    assert "hx-get" not in html and "hidden" in html


def test_the_api_gives_the_stage_and_eta_the_progress_page_shows(client, alice):
    from webapp.accounts.services import token_create

    job = ImportJob.objects.create(owner=alice, path="/x", filename="x.jsonl", status=JobStatus.INDEXING,
                                   done=400, total=400, index_done=100, index_total=400, index_started_at=ago(60))
    secret = token_create(user=alice, name="t")[1]
    data = client.get(f"/api/imports/{job.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert data["eta_s"] == pytest.approx(180, abs=5) and data["stage"] == ""
