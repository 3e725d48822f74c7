"""Inspire-me and idea pages, the API and the idea job: private per user, exports, live stages.
Real database rows and FAISS index (tests/ui/corpus.py), the stand-in encoder, the stub LLM."""
import json

import pytest

from tests.ui.corpus import corpus  # noqa: F401 (a fixture)
from webapp.ideas import services
from webapp.ideas.models import IdeaRun
from webapp.jobs.lifecycle import JobRun
from webapp.jobs.models import JobStatus
from webapp.reports.models import NoveltyReport

pytestmark = pytest.mark.django_db
IDEA = {"problem": "P", "method": "Quantize the weights to 4 bits", "findings": "half the memory",
        "probability": 0.4, "inspirations": [3], "source": "llm", "rounds": 1,
        "too_close": [{"id": 5, "title": "T", "similarity": 0.8}], "scores": {"overall": 0.7, "method": 0.8},
        "verdict": "new_method", "nearest": {"id": 5, "title": "T", "similarity": 0.4}}


@pytest.fixture
def run(alice):
    return IdeaRun.objects.create(owner=alice, problem="P", status=JobStatus.DONE, ideas=[IDEA],
                                  inspirations=[{"id": 3, "method_sentence": "We round weights."}],
                                  screening={"written": 4, "dropped": {"filler": 2, "off_problem": 1, "echo": 0}})


def test_it_shows_the_owner_her_ranked_ideas(client, alice, run):
    client.force_login(alice)
    page = client.get(f"/ideas/{run.pk}/").content.decode()
    assert "Quantize the weights to 4 bits" in page and "We round weights." in page
    assert "asked for 4 ideas; dropped before ranking by the coherence filter: 2 chat filler, 1 off the problem." in page
    assert client.get("/ideas/").status_code == 200


@pytest.mark.parametrize("suffix", ["", "progress", "export.md", "export.json"])
def test_it_hides_a_run_from_other_users(client, bob, run, suffix):
    client.force_login(bob)
    assert client.get(f"/ideas/{run.pk}/{suffix}").status_code == 404


def test_it_hides_a_run_from_other_users_in_the_api(client, bob, run):
    client.force_login(bob)
    assert client.get(f"/api/ideas/{run.pk}").status_code == 404
    assert client.get("/api/ideas").json() == []


def test_it_exports_markdown_and_json(client, alice, run):
    client.force_login(alice)
    md = client.get(f"/ideas/{run.pk}/export.md").content.decode()
    assert "## 1. Quantize the weights to 4 bits" in md and "Regenerated 1 time" in md
    data = json.loads(client.get(f"/ideas/{run.pk}/export.json").content)
    assert data["ideas"][0]["inspirations"] == [3]


def test_it_shows_inspirations_with_their_reasons(client, alice, corpus):
    client.force_login(alice)
    page = client.get("/inspire/", {"problem": "Predicting molecular properties is expensive"}).content.decode()
    assert page.count("Method to carry over") >= 4
    assert "We propose a message passing graph network" in page


def test_it_starts_a_run_from_the_inspire_form(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/inspire/", {"problem": "Language models are too large.", "n": 3})
    run = IdeaRun.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == f"/ideas/{run.pk}/"
    assert run.status == JobStatus.QUEUED and run.n == 3 and len(callbacks) == 1


def test_it_runs_the_job_into_scored_ideas_each_with_a_novelty_report(alice, corpus, monkeypatch):
    from inference import load_engine

    run = services.idea_run_create(owner=alice, problem="Predicting molecular properties is expensive", n=2,
                                   enqueue=False)
    stages = []
    original = JobRun.stage
    monkeypatch.setattr(JobRun, "stage", lambda self, stage, **kw: (stages.append(stage), original(self, stage, **kw)))
    done = services.idea_run_run(run_id=run.pk, engine=load_engine("stub"))
    assert done.status == JobStatus.DONE and len(done.ideas) == 2
    assert done.screening["written"] >= 1 and sum(done.screening["dropped"].values()) <= done.screening["written"]
    assert {"inspiring", "generating", "assessing", "ranking"} <= set(stages)
    for idea in done.ideas:
        assert idea["inspirations"] and set(idea["inspirations"]) <= {p.pk for p in corpus}
        assert "overall" in idea["scores"]
        assert NoveltyReport.objects.get(pk=idea["report_id"], owner=alice).method == idea["method"]
    assert services.idea_run_run(run_id=run.pk) is None  # finished: a redelivery does nothing


def test_it_fails_the_run_with_the_reason(alice, monkeypatch):
    def no_index():
        raise services.IdeasRejected("no papers are indexed yet")

    monkeypatch.setattr(services, "site_corpus", no_index)
    run = services.idea_run_create(owner=alice, problem="P", enqueue=False)
    failed = services.idea_run_run(run_id=run.pk)
    assert failed.status == JobStatus.FAILED and "no papers are indexed" in failed.error
