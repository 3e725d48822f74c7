"""The JSON API's import jobs: token and session auth, CSRF, ownership, pagination."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import FIXTURES
from webapp.accounts.services import token_create
from webapp.imports.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def alice_token(alice):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=alice, name='t')[1]}"}


def corpus_file(name="mixed.jsonl"):
    return SimpleUploadedFile(name, (FIXTURES / "import" / "mixed.jsonl").read_bytes())


def test_it_creates_an_import_with_a_token(client, alice, alice_token):
    response = client.post("/api/imports", {"file": corpus_file()}, **alice_token)
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "queued" and data["filename"] == "mixed.jsonl"
    assert ImportJob.objects.get(pk=data["id"]).owner == alice


def test_it_refuses_anonymous_and_bad_tokens(client, db):
    assert client.post("/api/imports", {"file": corpus_file()}).status_code == 401
    assert client.post("/api/imports", {"file": corpus_file()}, HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_it_needs_csrf_with_a_session(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post("/api/imports", {"file": corpus_file()}).status_code == 403
    browser.get("/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/api/imports", {"file": corpus_file()}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_it_rejects_a_file_that_is_not_a_corpus(client, alice_token):
    response = client.post("/api/imports", {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4 \x00")}, **alice_token)
    assert response.status_code == 400 and "it is a PDF" in response.json()["message"]


def test_it_reports_a_missing_file_as_a_field_error(client, alice_token):
    response = client.post("/api/imports", {}, **alice_token)
    assert response.status_code == 422 and "file" in response.json()["errors"]


def test_it_shows_a_job_only_to_its_owner(client, alice, bob):
    job = ImportJob.objects.create(owner=alice, path="/x", filename="f.jsonl", done=3, total=7,
                                   failures=[{"location": "line 2", "reason": "missing title"}])
    alice_auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=alice, name='a')[1]}"}
    bob_auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=bob, name='b')[1]}"}
    data = client.get(f"/api/imports/{job.pk}", **alice_auth).json()
    assert (data["done"], data["total"], data["percent"]) == (3, 7, 42)
    assert data["failures"] == [{"location": "line 2", "reason": "missing title"}]
    assert client.get(f"/api/imports/{job.pk}", **bob_auth).status_code == 404


def test_it_paginates_the_users_jobs(client, alice, bob, alice_token):
    for i in range(23):
        ImportJob.objects.create(owner=alice, path="/x", filename=f"{i}.csv")
    ImportJob.objects.create(owner=bob, path="/x", filename="bobs.csv")
    first = client.get("/api/imports", **alice_token).json()
    assert first["count"] == 23 and len(first["items"]) == 20
    second = client.get("/api/imports", {"page": 2}, **alice_token).json()
    assert len(second["items"]) == 3
    assert "bobs.csv" not in {j["filename"] for j in first["items"] + second["items"]}


def test_a_bad_token_gets_401_about_the_token_not_a_csrf_403(db):
    api_client = Client(enforce_csrf_checks=True)  # as a real client: no test-client CSRF exemption
    response = api_client.post("/api/imports", {"file": corpus_file()}, HTTP_AUTHORIZATION="Bearer isp_expired")
    assert response.status_code == 401
    assert "token" in response.json()["message"]
