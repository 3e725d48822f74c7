"""Novelty reports in the site: the service run, the pages, the API, exports, privacy, the
claim and the re-queue. Real database and FAISS index; the stand-in encoder (tests/fakes.py)
and a scripted LLM (the one module the style allows to replace)."""
import json

import pytest
from django.utils import timezone

from discovery import ASPECTS
from discovery.novelty import COMBO
from tests.ui.corpus import corpus  # noqa: F401 (a fixture)
from webapp.jobs import lifecycle
from webapp.jobs.models import JobStatus
from webapp.reports import services
from webapp.reports.models import NoveltyReport

pytestmark = pytest.mark.django_db
HOSTILE_LLM = '<script>window.pwned=1</script> The problem is already studied [1] and also [77] here.'


class Scripted:
    def __init__(self, text):
        self.text = text

    def chat(self, messages, on_token=None, **kw):
        if isinstance(self.text, Exception):
            raise self.text
        return self.text


@pytest.fixture
def llm(monkeypatch):
    def use(text):
        monkeypatch.setattr("inference.load_engine", lambda *a, **k: Scripted(text))
    use(HOSTILE_LLM)
    return use


def graph_idea(**kw):
    return dict(problem="Predicting molecular properties is expensive",
                method="We propose a message passing graph network", findings="", **kw)


def run_report(owner, **kw) -> NoveltyReport:
    report = services.report_create(owner=owner, enqueue=False, **(kw or graph_idea()))
    return services.report_run(report_id=report.pk)


def test_it_assesses_the_idea_and_saves_verdict_evidence_and_a_checked_rationale(corpus, llm, alice):
    report = run_report(alice)
    # the idea is corpus[0]'s own: the learned scorer types it and names that paper
    assert report.status == JobStatus.DONE and report.verdict in ("paraphrase_of", "subset_of")
    assert report.assessment["p_not_novel"] > 0.5
    assert report.assessment["overlapping"][0] == corpus[0].pk
    assert report.assessment["evidence"]["method"][0]["sentences"] == ["We propose a message passing graph network"]
    assert "[77]" not in report.rationale["text"] and "[1]" in report.rationale["text"]
    assert set(report.timings) >= {"retrieving", "scoring", "writing", "total"}


def test_it_splits_free_text_in_the_job_when_the_fields_are_empty(corpus, llm, alice):
    report = run_report(alice, text="Traffic forecasting needs spatial context. We propose a message passing graph "
                                    "network over road sensors. Results show better forecasts at rush hour.")
    assert report.status == JobStatus.DONE
    assert report.problem and report.method


def test_it_completes_with_the_evidence_quoted_when_the_llm_fails(corpus, llm, alice):
    llm(TimeoutError("took too long"))
    report = run_report(alice)
    assert report.status == JobStatus.DONE and report.rationale["source"] == "extractive"
    assert "closest sentences" in report.rationale["note"]
    assert "We propose a message passing graph network" in report.rationale["text"]


def test_it_keeps_only_the_grounded_sentences_of_the_llm(corpus, llm, alice):
    llm("We propose a message passing graph network [1]. The 2021 Zorblat Institute found it useless [1]. "
        "Predicting molecular properties is expensive [1].")
    report = run_report(alice)
    assert report.rationale["source"] == "llm", report.rationale
    assert "Zorblat" not in report.rationale["text"] and "message passing" in report.rationale["text"]
    assert report.rationale["dropped"][0]["sentence"].startswith("The 2021 Zorblat")
    assert "failed the grounding checks" in report.rationale["note"]


def test_it_marks_the_report_failed_at_the_time_limit(corpus, llm, alice, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(*a, **k):
        raise SoftTimeLimitExceeded()
    monkeypatch.setattr("discovery.novelty.assess", too_slow)
    report = run_report(alice)
    assert report.status == JobStatus.FAILED and "time limit" in report.error


def test_a_report_is_claimed_once_and_a_stale_one_is_requeued(corpus, llm, alice, monkeypatch):
    report = services.report_create(owner=alice, enqueue=False, **graph_idea())
    assert lifecycle.job_claim(NoveltyReport, report.pk, "a")
    assert not lifecycle.job_claim(NoveltyReport, report.pk, "b")  # held by a live worker
    sent = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, *args: sent.append((name, *args)))
    assert lifecycle.jobs_recover()["reports.NoveltyReport"] == []
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    NoveltyReport.objects.filter(pk=report.pk).update(heartbeat=long_ago, created_at=long_ago)
    assert lifecycle.jobs_recover()["reports.NoveltyReport"] == [report.pk]
    assert sent == [("llm.report_run", report.pk)]
    done = services.report_run(report_id=report.pk)  # the redelivery takes over the dead claim
    assert done.status == JobStatus.DONE and done.attempts == 2
    assert services.report_run(report_id=report.pk) is None  # a duplicate delivery does nothing


def test_the_form_splits_free_text_for_correction_then_queues_the_report(corpus, client, alice,
                                                                          django_capture_on_commit_callbacks):
    client.force_login(alice)
    page = client.post("/reports/new", {"action": "split", "text": "Protein structure prediction remains unsolved. "
                                        "We use a transformer with attention over residues. It works well."})
    assert page.status_code == 200
    assert page.context["form"].initial["problem"].startswith("Protein structure")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/reports/new", {"action": "run", **graph_idea(), "as_of": "2021"})
    report = NoveltyReport.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert report.as_of == 2021 and len(callbacks) == 1
    assert client.post("/reports/new", {"action": "run", "problem": " "}).status_code == 400


def test_the_report_page_shows_verdict_scores_evidence_and_escapes_everything(corpus, llm, client, alice):
    llm("We study <script>window.pwned=1</script> injection [1]. We propose <img src=x onerror=1> sanitisation [1].")
    report = run_report(alice, problem="We study <script>window.pwned=1</script> injection",
                        method="We propose <img src=x onerror=1> sanitisation", findings="")
    client.force_login(alice)
    html = client.get(f"/reports/{report.pk}/").content.decode()
    assert "Verdict:" in html and 'class="chart"' in html
    assert f'href="/papers/{corpus[5].pk}/"' in html
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert report.rationale["source"] == "llm", report.rationale  # grounded in the hostile paper's own sentences
    shown = html.split('<p id="rationale">')[1].split("</p>")[0]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt; injection [" in shown  # the LLM's text, escaped
    assert "Hostile <b>markup</b>" not in html


def test_reports_are_private_to_their_owner(corpus, llm, client, alice, bob):
    report = run_report(alice)
    client.force_login(bob)
    for url in (f"/reports/{report.pk}/", f"/reports/{report.pk}/progress", f"/reports/{report.pk}/export.md",
                f"/api/reports/{report.pk}", f"/api/reports/{report.pk}/export"):
        assert client.get(url).status_code == 404, url
    client.logout()
    assert client.get("/reports/new").status_code == 302
    assert client.post("/api/reports", {"problem": "p", "method": "m"}, content_type="application/json").status_code == 401


def test_it_exports_markdown_json_and_bibtex_of_the_cited_papers(corpus, llm, client, alice):
    report = run_report(alice)
    client.force_login(alice)
    md = client.get(f"/reports/{report.pk}/export.md").content.decode()
    data = json.loads(client.get(f"/reports/{report.pk}/export.json").content)
    bib = client.get(f"/reports/{report.pk}/export.bib").content.decode()
    assert "**Verdict:** Paraphrase of existing work" in md and "[1] Ada Lovelace" in md
    assert data["assessment"]["verdict"] == "paraphrase_of" and data["references"][0]["id"] == corpus[0].pk
    assert bib.count("@") == len(report.rationale["cited"]) == 1 and "Graph neural networks" in bib


def test_the_api_splits_creates_and_reads_reports(corpus, llm, client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    split = client.post("/api/reports/split", {"text": "Sentence embeddings lack structure. We train contrastively."},
                        content_type="application/json").json()
    assert split["problem"] and set(split) == {"problem", "method", "findings"}
    with django_capture_on_commit_callbacks(execute=False):
        created = client.post("/api/reports", graph_idea(as_of=2020), content_type="application/json")
    assert created.status_code == 201 and created.json()["status"] == "queued"
    rid = created.json()["id"]
    services.report_run(report_id=rid)
    body = client.get(f"/api/reports/{rid}").json()
    assert body["status"] == "done" and body["assessment"]["as_of"] == 2020
    assert set(body["assessment"]["scores"]) == {"problem", "method", "findings", "combination", "overall"}
    assert client.post("/api/reports", {"problem": "", "method": ""}, content_type="application/json").status_code == 400


def test_the_progress_fragment_shows_the_live_stage_and_reloads_when_done(corpus, llm, client, alice):
    report = services.report_create(owner=alice, enqueue=False, **graph_idea())
    client.force_login(alice)
    waiting = client.get(f"/reports/{report.pk}/progress")
    assert "Waiting for a worker" in waiting.content.decode() and "HX-Refresh" not in waiting
    NoveltyReport.objects.filter(pk=report.pk).update(status=JobStatus.RUNNING, stage="retrieving")
    assert "Retrieving prior work" in client.get(f"/reports/{report.pk}/").content.decode()
    NoveltyReport.objects.filter(pk=report.pk).update(status=JobStatus.QUEUED, stage="")
    services.report_run(report_id=report.pk)
    assert client.get(f"/reports/{report.pk}/progress")["HX-Refresh"] == "true"


def test_the_map_places_the_idea_where_its_method_is_and_only_for_its_owner(corpus, llm, client, alice, bob):
    from webapp.papers.models import Paper

    source = next(p for p in Paper.objects.order_by("pk") if p.sentences_of("method") and p.sentences_of("problem"))
    report = run_report(alice, problem=" ".join(source.sentences_of("problem")),
                        method=" ".join(source.sentences_of("method")), findings="")
    client.force_login(alice)
    response = client.get("/map/", {"report": report.pk, "space": "method"})
    points = client.get("/map/points/method.json").json()
    at = points["ids"].index(source.pk)
    # the idea's method is the paper's method sentences: the same vector (stored as float16 for
    # the paper), so the same point to a grid step of 4095
    point = response.context["idea_point"]
    assert abs(point["x"] - points["x"][at]) <= 2 and abs(point["y"] - points["y"][at]) <= 2
    assert 'id="map-idea"' in response.text and source.pk in response.context["highlight"]
    client.force_login(bob)
    assert client.get("/map/", {"report": report.pk}).status_code == 404
    client.logout()
    assert client.get("/map/", {"report": report.pk}).status_code == 404


def test_the_list_shows_readable_verdicts_and_tells_same_problem_reports_apart(client, alice):
    problem = "Predicting molecular properties is expensive"
    for verdict, method in (("new_combination", "We propose a message passing graph network"),
                            ("paraphrase_of", "Fine-tune a pretrained transformer on SMILES strings")):
        NoveltyReport.objects.create(owner=alice, problem=problem, method=method, verdict=verdict,
                                     status=JobStatus.DONE)
    client.force_login(alice)
    text = client.get("/reports/").text
    assert "new_combination" not in text and "paraphrase_of" not in text
    assert "Known problem and known method in a new combination" in text and "Paraphrase of existing work" in text
    assert "We propose a message passing" in text and "Fine-tune a pretrained transformer" in text


def test_references_are_numbered_in_reading_order_and_keep_their_papers(corpus, llm, client, alice):
    from webapp.papers.models import Paper

    llm(TimeoutError("a first run only to learn the stored numbering"))
    first = run_report(alice)
    evidence = first.assessment["evidence"]  # groups in written order: jsonb does not keep key order
    stored = [e["id"] for g in (*ASPECTS, COMBO) for e in evidence.get(g, [])]
    stored = list(dict.fromkeys(stored))  # stored [n] -> stored[n - 1]
    said = [Paper.objects.get(pk=pk).abstract.split(". ")[0] for pk in stored[:3]]  # true sentences of each
    llm(f"{said[2]} [3]. {said[0]} [1]. {said[1]} [2].")
    report = run_report(alice)
    assert report.rationale["source"] == "llm", report.rationale
    client.force_login(alice)
    html = client.get(f"/reports/{report.pk}/").content.decode()
    rationale = html.split('<p id="rationale">')[1].split("</p>")[0]
    assert rationale.index("[1]") < rationale.index("[2]") < rationale.index("[3]")
    # the paper first cited (stored [3]) is now [1] everywhere on the page
    assert f'<li value="1"><a href="/papers/{stored[2]}/">' in html
    assert f'<li value="2"><a href="/papers/{stored[0]}/">' in html
    md = client.get(f"/reports/{report.pk}/export.md").content.decode()
    assert f"{said[2]} [1]. {said[0]} [2]. {said[1]} [3]." in md
    data = json.loads(client.get(f"/reports/{report.pk}/export.json").content)
    assert data["references"][0] == {"n": 1, "id": stored[2], "title": data["references"][0]["title"],
                                     "year": data["references"][0]["year"]}
    assert f"{said[2]} [1]." in data["rationale"]["text"]


def test_the_form_runs_a_one_sentence_idea_whose_split_leaves_the_method_empty(corpus, client, alice,
                                                                              django_capture_on_commit_callbacks):
    client.force_login(alice)
    sentence = "Use contrastive pretraining to predict molecular properties with few labels."
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/reports/new", {"action": "run", "text": sentence, "problem": sentence,
                                                "method": "", "findings": ""})
    report = NoveltyReport.objects.get(owner=alice)
    assert response.status_code == 302
    assert (report.problem, report.method) == (sentence, sentence)  # the whole idea stands for the missing aspect
    assert client.post("/reports/new", {"action": "run"}).status_code == 400


def test_an_idea_without_findings_shows_the_findings_as_absent_not_scored(corpus, llm, client, alice):
    report = run_report(alice)  # graph_idea() gives no expected findings
    client.force_login(alice)
    response = client.get(f"/reports/{report.pk}/")
    findings = next(s for s in response.context["view"]["scores"] if s["label"] == "Expected findings")
    assert findings["value"] is None
    assert 'id="score-findings-absent"' in response.text
    md = client.get(f"/reports/{report.pk}/export.md").content.decode()
    assert "- Expected findings: absent (none given)" in md
