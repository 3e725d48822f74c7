"""Imports in the browser: upload, type checks, the job page and its owner."""
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import FIXTURES
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def upload(name: str, content: bytes, fmt: str = "") -> dict:
    return {"file": SimpleUploadedFile(name, content), "format": fmt}


def test_it_sends_anonymous_users_to_log_in(client, db):
    response = client.get("/imports/new")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_stores_the_upload_outside_the_web_root_and_queues_the_job(client, alice, uploads, settings):
    client.force_login(alice)
    response = client.post("/imports/new", upload("my corpus.jsonl", (FIXTURES / "import" / "mixed.jsonl").read_bytes()))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert (job.owner, job.filename, job.status) == (alice, "my corpus.jsonl", JobStatus.QUEUED)
    stored = Path(job.path)
    assert stored.parent.parent == uploads and stored.name == "my_corpus.jsonl"
    assert not str(stored).startswith(str(settings.STATIC_ROOT))


def test_it_rejects_a_file_that_is_not_a_corpus(client, alice, uploads):
    client.force_login(alice)
    response = client.post("/imports/new", upload("paper.pdf", b"%PDF-1.7\n\x00\x01binary"))
    assert response.status_code == 400
    assert "it is a PDF" in response.text
    assert not ImportJob.objects.exists()
    assert not any(uploads.rglob("*.pdf"))


def test_it_rejects_a_file_over_the_size_limit(client, alice, settings):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(alice)
    response = client.post("/imports/new", upload("big.txt", b"x" * (1024 * 1024 + 1)))
    assert response.status_code == 400 and "larger than 1 MB" in response.text


def test_it_keeps_an_explicit_format(client, alice):
    client.force_login(alice)
    client.post("/imports/new", upload("seed.txt", b"A title\nAn abstract.\n", fmt="text"))
    assert ImportJob.objects.get().format == "text"


def test_it_shows_progress_counts_and_rejected_records(client, alice):
    job = ImportJob.objects.create(owner=alice, path="/x", filename="f.jsonl", status=JobStatus.INDEXING, done=7,
                                   total=7, created=4, failed=3, index_done=1, index_total=4,
                                   failures=[{"location": "line 3", "reason": "missing title <b>"}])
    client.force_login(alice)
    page = client.get(f"/imports/{job.pk}/")
    assert "4 created, 0 updated, 0 unchanged, 3 failed" in page.text
    assert "<td>line 3</td><td>missing title &lt;b&gt;</td>" in page.text
    fragment = client.get(f"/imports/{job.pk}/progress")
    assert 'hx-trigger="every 1s"' in fragment.text and "1 / 4 papers" in fragment.text


def test_it_stops_polling_when_the_job_is_done(client, alice):
    job = ImportJob.objects.create(owner=alice, path="/x", filename="f", status=JobStatus.DONE)
    client.force_login(alice)
    assert "hx-trigger" not in client.get(f"/imports/{job.pk}/progress").text


def test_it_hides_a_job_from_another_user(client, alice, bob):
    job = ImportJob.objects.create(owner=alice, path="/x", filename="secret.jsonl")
    client.force_login(bob)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/progress").status_code == 404
    assert "secret.jsonl" not in client.get("/imports/").text


def test_it_lists_the_users_jobs(client, alice):
    ImportJob.objects.create(owner=alice, path="/x", filename="mine.csv")
    client.force_login(alice)
    assert "mine.csv" in client.get("/imports/").text


def test_it_rate_limits_imports(client, alice, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "import": (1, 3600)}
    client.force_login(alice)
    body = b"A title\nAn abstract.\n"
    assert client.post("/imports/new", upload("a.txt", body)).status_code == 302
    refused = client.post("/imports/new", upload("b.txt", body))
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "too many import requests" in refused.text and 'role="alert"' in refused.text  # the form, not JSON
