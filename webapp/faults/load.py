"""The load scenario: the site under gunicorn with an index worker and the llm worker; 5 novelty
reports queued at once while 8 clients search (webapp.loadtest's queries and figures); every
report must finish, and no request may fail."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from inference import settings as llm_settings
from webapp import loadtest
from webapp.faults.workers import ROOT, WorkerProcess
from webapp.launcher import DEMO_CORPUS, free_port

CLIENTS, REPORTS, SEARCHES = 8, 5, 400
IDEAS = [("Detecting outliers in quantized language models", "We calibrate per-channel scales on a small set."),
         ("Retrieval for long documents", "We index passages with sparse attention."),
         ("Robust image classifiers", "We train with adversarial examples of bounded norm."),
         ("Few-shot text classification", "We meta-learn a prompt initialisation."),
         ("Molecule property prediction", "We use a graph neural network with attention over bonds.")]


def corpus_indexed() -> int:
    """An indexed corpus to search: the papers already indexed, else the demo corpus, indexed here."""
    from webapp.imports import services
    from webapp.papers import indexing
    from webapp.papers.models import IndexState

    if not IndexState.current().version:
        job = services.import_job_create(path=str(DEMO_CORPUS), enqueue=False)
        services.import_job_run(job_id=job.pk)
        services.import_index_chunk(ids=indexing.unindexed_ids(), job_id=job.pk)
        services.import_index_publish()
    return IndexState.current().version


def run(ctx) -> tuple[bool, dict]:
    from django.contrib.auth import get_user_model

    from webapp.reports import services as reports
    from webapp.reports.models import NoveltyReport

    version = corpus_indexed()
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "webapp.wsgi", "--bind", f"127.0.0.1:{port}",
                            "--workers", "2", "--threads", "4", "--timeout", "120"], cwd=ROOT,
                           env=WorkerProcess("web", ctx.folder).env, stdout=subprocess.DEVNULL,
                           stderr=open(ctx.folder / "web.log", "ab"), start_new_session=True)
    llm = WorkerProcess("llm", ctx.folder, queues="llm", LLM_PRELOAD="1").start()
    base = f"http://127.0.0.1:{port}"
    try:
        llm.wait_ready(300)
        if not _wait_http(f"{base}/healthz", 60):
            return False, {"error": "the site did not start"}
        loadtest.run(loadtest.search_urls(base, 16, "api"), 1, 30)  # warm-up: model load, caches
        # the baseline: the same clients on /healthz (the stack without a search), just before
        baseline, baseline_s = loadtest.run([f"{base}/healthz"] * SEARCHES, CLIENTS, 60)
        owner, _ = get_user_model().objects.get_or_create(username="load")
        ids = []
        searches: dict = {}

        def search():
            searches["samples"], searches["seconds"] = loadtest.run(loadtest.search_urls(base, SEARCHES, "api"),
                                                                    CLIENTS, 60)

        thread = threading.Thread(target=search)
        started = time.monotonic()
        thread.start()
        for problem, method in IDEAS[:REPORTS]:
            ids.append(reports.report_create(owner=owner, problem=problem, method=method).pk)
        thread.join()
        finished = _wait(lambda: all(NoveltyReport.objects.get(pk=i).is_finished for i in ids), 900)
        reports_s = time.monotonic() - started
    finally:
        web.terminate()
        web.wait(timeout=20)
        llm.stop()
    rows = list(NoveltyReport.objects.filter(pk__in=ids))
    figures = loadtest.summary(searches["samples"], searches["seconds"])
    figures["baseline /healthz client ms p50 / p99"] = loadtest.summary(baseline, baseline_s)["client ms p50 / p99"]
    errors = sum(s.status != 200 for s in searches["samples"])
    done = sum(r.status == "done" for r in rows)
    figures.update({"index version": version, "reports done": f"{done} / {REPORTS}",
                    "reports failed": sum(r.status == "failed" for r in rows),
                    "all reports finished after (s)": f"{reports_s:.1f}" if finished else "not within 900 s",
                    "LLM backend": llm_settings.backend()})
    return bool(finished and errors == 0 and done == REPORTS), figures


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _wait_http(url: str, timeout: float) -> bool:
    return _wait(lambda: loadtest.fetch(url, 2).status == 200, timeout)
