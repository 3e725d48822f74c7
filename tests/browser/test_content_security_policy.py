"""The Content-Security-Policy (self only, no 'unsafe-inline'): every page works under it in
Chromium with no violation reported, and no template carries an inline script, style or
event handler that the policy would block."""
import re
from pathlib import Path

import pytest

from tests.ideas.test_idea_pages import IDEA
from tests.ui.corpus import index_corpus, make_papers
from webapp.http import CONTENT_SECURITY_POLICY
from webapp.ideas.models import IdeaRun
from webapp.jobs.models import JobStatus
from webapp.papers import search
from webapp.reports import services as reports

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp"
MAIL = "/mail/"  # e-mail bodies are read by mail clients, not served under the policy
INLINE = [re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
          re.compile(r"<style\b"), re.compile(r"\sstyle=\""), re.compile(r"\son[a-z]+=\""),
          re.compile(r"javascript:")]


def test_no_template_has_an_inline_script_style_or_handler():
    found = [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for path in TEMPLATES.rglob("templates/**/*.html")
             if MAIL not in str(path) for pattern in INLINE for m in pattern.finditer(path.read_text())]
    assert found == []


@pytest.mark.django_db
def test_every_response_carries_the_policy_without_unsafe_inline(client):
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "default-src 'self'" in CONTENT_SECURITY_POLICY
    for url in ("/", "/accounts/login/", "/api/docs", "/api/openapi.json", "/healthz", "/admin/login/"):
        assert client.get(url)["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url


@pytest.fixture
def corpus(transactional_db, settings, tmp_path, monkeypatch):
    papers = make_papers()
    index_corpus(papers, settings, tmp_path, monkeypatch)
    yield papers
    search._index_set.cache_clear()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_pages_work_in_chromium_with_no_policy_violation(chromium, corpus, live_server, django_user_model):
    staff = django_user_model.objects.create_superuser("root", "root@example.org", "correct horse battery")
    done = reports.report_create(owner=staff, enqueue=False, problem="Predicting molecular properties is expensive",
                                 method="We propose a message passing graph network")
    reports.report_run(report_id=done.pk)
    queued = reports.report_create(owner=staff, enqueue=False, problem="Traffic", method="Graphs")
    run = IdeaRun.objects.create(owner=staff, problem="P", status=JobStatus.DONE, ideas=[IDEA],
                                 inspirations=[{"id": corpus[1].pk, "method_sentence": "We round weights."}])
    context = chromium.new_context(base_url=live_server.url)  # the policy enforced (the `web` fixture bypasses it)
    context.set_default_timeout(15_000)
    web = context.new_page()
    errors, violations = [], []
    web.on("pageerror", lambda exc: errors.append(str(exc)))
    web.on("console", lambda msg: violations.append(f"{web.url}: {msg.text}")
           if "Content Security Policy" in msg.text else None)
    web.goto("/accounts/login/")
    web.fill("input[name=username]", "root")
    web.fill("input[name=password]", "correct horse battery")
    web.click("form button[type=submit]")
    web.wait_for_url(re.compile(r"/$"))
    pages = ["/?q=message+passing+graph+network", f"/papers/{corpus[0].pk}/", "/map/", "/reports/new",
             f"/reports/{done.pk}/", f"/reports/{queued.pk}/", f"/ideas/{run.pk}/",
             "/inspire/?problem=Traffic+forecasting", "/imports/new", "/accounts/tokens/", "/map/gaps/", "/library/",
             "/digest/", "/feeds/", "/api/docs", "/admin/", "/admin/reports/noveltyreport/",
             f"/admin/reports/noveltyreport/{done.pk}/change/", "/admin/accounts/apitoken/add/"]
    for url in pages:
        response = web.goto(url)
        assert response.status == 200, url
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        web.wait_for_load_state("networkidle")
        if url == "/api/docs":
            web.wait_for_selector("#swagger-ui .opblock")  # the API docs render under the policy
    context.close()
    assert violations == [] and errors == []
