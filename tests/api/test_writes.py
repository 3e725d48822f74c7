"""Job-creating writes (webapp.writes): quotas per user and on the LLM queue, answered 429 with
Retry-After by the API and as a form error by the site, with nothing queued; an Idempotency-Key
that makes a retry return the first job; read-only and expired API tokens."""
from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.accounts.models import Scope
from webapp.accounts.services import token_create
from webapp.ideas.models import IdeaRun
from webapp.jobs import lifecycle
from webapp.reports.models import NoveltyReport

pytestmark = pytest.mark.django_db
IDEA = {"problem": "Predicting molecular properties is expensive", "method": "We propose a message passing network"}


@pytest.fixture
def sent(monkeypatch):
    """The tasks sent to the broker (the network boundary), once their transaction commits."""
    calls = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, *args: calls.append((name, *args)))
    return calls


def bearer(user, **kw) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='t', **kw)[1]}"}


def post_report(client, auth, key=None, **fields):
    headers = {**auth, **({"HTTP_IDEMPOTENCY_KEY": key} if key else {})}
    return client.post("/api/reports", {**IDEA, **fields}, content_type="application/json", **headers)


def test_it_refuses_reports_past_the_hourly_quota_with_429_and_queues_nothing(client, alice, settings, sent,
                                                                              django_capture_on_commit_callbacks):
    settings.JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": 2, "ideas.idearun": 1}
    auth = bearer(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert [post_report(client, auth).status_code for _ in range(2)] == [201, 201]
        refused = post_report(client, auth)
    assert refused.status_code == 429
    assert "2 reports in the last hour" in refused.json()["message"]
    assert 3500 <= int(refused["Retry-After"]) <= 3601
    assert NoveltyReport.objects.count() == 2 and len(sent) == 2


def test_an_old_report_no_longer_counts_against_the_quota(client, alice, settings):
    settings.JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": 1, "ideas.idearun": 1}
    auth = bearer(alice)
    old = post_report(client, auth).json()["id"]
    NoveltyReport.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(minutes=61))
    assert post_report(client, auth).status_code == 201


def test_it_refuses_idea_runs_past_the_quota_in_the_api_and_the_form(client, alice, settings):
    settings.JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": 10, "ideas.idearun": 1}
    auth = bearer(alice)
    body = {"problem": "Traffic forecasting needs spatial context", "n": 2}
    assert client.post("/api/ideas", body, content_type="application/json", **auth).status_code == 201
    refused = client.post("/api/ideas", body, content_type="application/json", **auth)
    assert refused.status_code == 429 and "1 idea runs in the last hour" in refused.json()["message"]
    assert refused["Retry-After"]
    client.force_login(alice)
    page = client.post("/inspire/", {"problem": "Traffic forecasting", "n": 2})
    assert page.status_code == 429 and page["Retry-After"]
    assert "1 idea runs in the last hour" in page.content.decode() and 'role="alert"' in page.content.decode()
    assert IdeaRun.objects.count() == 1


def test_it_caps_the_llm_queue_for_everyone(client, alice, bob, settings):
    settings.LLM_QUEUE_MAX = 2
    post_report(client, bearer(alice))
    client.post("/api/ideas", {"problem": "Traffic forecasting"}, content_type="application/json", **bearer(alice))
    refused = post_report(client, bearer(bob))
    assert refused.status_code == 429 and "waiting for the language model" in refused.json()["message"]
    NoveltyReport.objects.update(status="running")  # a worker took one: room again
    assert post_report(client, bearer(bob)).status_code == 201


def test_the_report_form_shows_the_quota_as_a_form_error(client, alice, settings):
    settings.JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": 1, "ideas.idearun": 1}
    client.force_login(alice)
    assert client.post("/reports/new", {**IDEA, "action": "run"}).status_code == 302
    page = client.post("/reports/new", {**IDEA, "action": "run"})
    assert page.status_code == 429 and "1 reports in the last hour" in page.content.decode()
    assert NoveltyReport.objects.count() == 1


def test_it_rate_limits_splitting_and_inspiration_with_retry_after(client, alice, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "split": (1, 60), "inspire": (1, 60)}
    auth = bearer(alice)
    split = {"text": "Traffic forecasting needs spatial context. We propose a graph network."}
    assert client.post("/api/reports/split", split, content_type="application/json", **auth).status_code == 200
    refused = client.post("/api/reports/split", split, content_type="application/json", **auth)
    assert refused.status_code == 429 and refused["Retry-After"] == "60" and "split" in refused.json()["message"]
    inspire = {"problem": "Traffic forecasting needs spatial context"}
    client.post("/api/ideas/inspire", inspire, content_type="application/json", **auth)  # 400 without an index
    refused = client.post("/api/ideas/inspire", inspire, content_type="application/json", **auth)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"


def test_a_retry_with_the_same_idempotency_key_returns_the_same_job(client, alice, sent,
                                                                    django_capture_on_commit_callbacks):
    auth = bearer(alice)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_report(client, auth, key="retry-1")
        again = post_report(client, auth, key="retry-1")
        other = post_report(client, auth, key="retry-2")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert NoveltyReport.objects.count() == 2 and len(sent) == 2


def test_an_idempotency_key_is_per_user_and_refused_for_another_request(client, alice, bob):
    first = post_report(client, bearer(alice), key="k").json()["id"]
    assert post_report(client, bearer(bob), key="k").json()["id"] != first  # bob's own key space
    reused = post_report(client, bearer(alice), key="k", problem="Another problem altogether")
    assert reused.status_code == 409 and "different request" in reused.json()["message"]


def test_an_idea_run_and_an_import_honour_the_idempotency_key(client, alice, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    auth = {**bearer(alice), "HTTP_IDEMPOTENCY_KEY": "same"}
    body = {"problem": "Traffic forecasting"}
    runs = [client.post("/api/ideas", body, content_type="application/json", **auth).json()["id"] for _ in "ab"]
    assert runs[0] == runs[1] and IdeaRun.objects.count() == 1
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload():
        data = b'{"title": "A paper", "abstract": "We study things."}\n'
        return client.post("/api/imports", {"file": SimpleUploadedFile("a.jsonl", data)},
                           **{**auth, "HTTP_IDEMPOTENCY_KEY": "upload"}).json()["id"]
    assert upload() == upload()
    assert len(list((tmp_path / "uploads").iterdir())) == 1  # the retry's upload is not kept


def test_a_read_only_token_reads_but_cannot_write(client, alice):
    auth = bearer(alice, scope=Scope.READ)
    assert client.get("/api/reports", **auth).status_code == 200
    refused = post_report(client, auth)
    assert refused.status_code == 403 and "read-only" in refused.json()["message"]
    assert not NoveltyReport.objects.exists()


def test_an_expired_token_gets_401_saying_so(client, alice):
    auth = bearer(alice, expires_in_days=1)
    from webapp.accounts.models import ApiToken

    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/reports", **auth)
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_the_token_page_sets_scope_and_expiry(client, alice):
    from webapp.accounts.models import ApiToken

    client.force_login(alice)
    page = client.get("/accounts/tokens/").content.decode()
    assert 'name="scope"' in page and 'name="expires_in_days"' in page
    client.post("/accounts/tokens/new", {"name": "nb", "scope": "read", "expires_in_days": "7"})
    token = ApiToken.objects.get(user=alice)
    assert token.scope == "read" and timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    listing = client.get("/accounts/tokens/").content.decode()
    assert "Read only" in listing and f"{token.expires_at:%Y-%m-%d}" in listing


@pytest.mark.parametrize("name, value, message", [("QUOTA_REPORTS_PER_HOUR", "lots", "is not an integer"),
                                                   ("LLM_QUEUE_MAX", "-1", "must be at least 0"),
                                                   ("RATE_LIMIT_SPLITS_PER_MIN", "x", "is not an integer")])
def test_a_wrong_quota_setting_stops_start_up_naming_it(tmp_path, name, value, message):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), name: value})
    assert result.returncode != 0 and f"{name}=" in result.stderr and message in result.stderr


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_create_one_job(alice, sent):
    import threading

    from django.db import connection
    from django.test import Client

    auth = {**bearer(alice), "HTTP_IDEMPOTENCY_KEY": "race"}
    start, answers = threading.Barrier(4), []

    def post():
        start.wait()
        try:
            answers.append(post_report(Client(), auth))
        finally:
            connection.close()
    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert {a.status_code for a in answers} <= {201, 409} and len(answers) == 4
    assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
    assert NoveltyReport.objects.count() == 1 and len(sent) == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_cannot_both_take_the_last_slot(alice, settings, monkeypatch):
    """Both requests are inside their transactions at the same moment; without the user's row
    locked from the check to the commit, each counted the other's report as not there yet."""
    import threading

    from django.db import connection

    from webapp import writes

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers itself")
    settings.JOB_QUOTAS_PER_HOUR = {"reports.noveltyreport": 1, "ideas.idearun": 1}
    monkeypatch.setattr(lifecycle, "task_send", lambda name, *args: None)
    both_inside = threading.Barrier(2, timeout=3)
    outcomes = []

    def create():
        report = NoveltyReport.objects.create(owner=alice, **IDEA)
        try:
            both_inside.wait()  # the second request gets here only if it passed the check too
        except threading.BrokenBarrierError:
            pass
        return report

    def request():
        try:
            writes.job_write(NoveltyReport, user=alice, key="", asked=IDEA, create=create)
            outcomes.append("created")
        except writes.Refused as exc:
            outcomes.append(exc.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert sorted(outcomes, key=str) == [429, "created"]
    assert NoveltyReport.objects.filter(owner=alice).count() == 1
