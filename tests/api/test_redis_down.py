"""Redis unreachable (a real Redis URL on a closed port of 127.0.0.1): search works without the
rate limiter and says so once in the log; job-creating writes answer 503 with Retry-After and
leave no job behind; /healthz names what is down."""
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from webapp import http
from webapp.accounts.services import token_create
from webapp.celery_app import app as celery_app
from webapp.ideas.models import IdeaRun
from webapp.imports.models import ImportJob
from webapp.launcher import free_port
from webapp.reports.models import NoveltyReport

IDEA = {"problem": "Predicting molecular properties is expensive", "method": "We propose a message passing network"}


@pytest.fixture
def closed_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # a port just freed: nothing listens there


@pytest.fixture
def cache_down(settings, closed_url, monkeypatch):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": closed_url}}
    monkeypatch.setattr(http, "_limiter_down_since", None)  # this test's outage starts now


@pytest.fixture
def broker_down(closed_url):
    """The web side's Celery app pointed at the closed port (its connection pools dropped)."""
    def point(url):
        celery_app.conf.broker_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    before = celery_app.conf.broker_url
    point(closed_url)
    yield
    point(before)


def test_search_works_when_redis_is_down_and_the_log_says_so_once(client, corpus, cache_down, caplog, monkeypatch):
    monkeypatch.setattr(http, "RETRY_REDIS_S", 0.0)  # ask Redis on every request: still said once
    with caplog.at_level(logging.WARNING, logger="webapp.http"):
        api = client.get("/api/search", {"q": "message passing graph network"})
        page = client.get("/", {"q": "message passing graph network"})
        client.get("/api/search", {"q": "protein folding"})
    assert api.status_code == 200 and api.json()["items"]
    assert page.status_code == 200 and "Message passing for traffic forecasting" in page.content.decode()
    assert sum("rate limits are off" in r.message for r in caplog.records) == 1


def test_the_limiter_asks_a_down_redis_again_only_after_a_pause_and_says_when_it_is_back(
        client, corpus, cache_down, settings, caplog, monkeypatch):
    calls = []
    real = http._count
    monkeypatch.setattr(http, "_count", lambda *a: calls.append(a) or real(*a))
    for _ in range(3):
        assert client.get("/api/search", {"q": "graph"}).status_code == 200
    assert len(calls) == 1  # the 2nd and 3rd within RETRY_REDIS_S did not wait on Redis
    monkeypatch.setattr(http, "RETRY_REDIS_S", 0.0)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": settings.REDIS_URL_FOR_CACHE}}
    with caplog.at_level(logging.WARNING, logger="webapp.http"):
        assert client.get("/api/search", {"q": "graph"}).status_code == 200
    assert any("back on" in r.message for r in caplog.records) and http._limiter_down_since is None


@pytest.mark.django_db(transaction=True)
def test_a_report_while_the_broker_is_down_is_503_try_again_and_leaves_no_job(client, alice, broker_down):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=alice, name='t')[1]}", "HTTP_IDEMPOTENCY_KEY": "k1"}
    response = client.post("/api/reports", IDEA, content_type="application/json", **auth)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "try again" in response.json()["message"]
    assert not NoveltyReport.objects.exists()
    idea_run = client.post("/api/ideas", {"problem": "Traffic"}, content_type="application/json", **auth)
    assert idea_run.status_code == 503 and not IdeaRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_while_the_broker_is_down_keeps_neither_job_nor_upload(client, alice, broker_down, settings,
                                                                          tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=alice, name='t')[1]}"}
    upload = SimpleUploadedFile("a.jsonl", b'{"title": "A paper", "abstract": "We study things."}\n')
    response = client.post("/api/imports", {"file": upload}, **auth)
    assert response.status_code == 503 and response["Retry-After"]
    assert not ImportJob.objects.exists() and not list((tmp_path / "uploads").iterdir())


@pytest.mark.django_db(transaction=True)
def test_the_report_form_says_try_again_while_the_broker_is_down(client, alice, broker_down):
    client.force_login(alice)
    page = client.post("/reports/new", {**IDEA, "action": "run"})
    assert page.status_code == 503 and "try again" in page.content.decode()
    assert not NoveltyReport.objects.exists()


def test_healthz_is_200_when_database_and_redis_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() | {"papers": 0} == {"ok": True, "papers": 0, "database": "ok", "redis": "ok"}


def test_healthz_names_redis_when_it_is_down(client, db, cache_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["database"] == "ok" and body["redis"].startswith("down: ")


def test_healthz_names_the_database_when_it_is_down(client, db, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")
    with monkeypatch.context() as patched:
        patched.setattr("webapp.site.views.connection.ensure_connection", refuse)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down: connection refused" and response.json()["redis"] == "ok"
