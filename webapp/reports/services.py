"""Writes for novelty reports: split an idea, create a report, run it (split, retrieve, score, write).

The run is the issue's pipeline: `discovery.novelty` decides (deterministic, calibrated on the
corpus), `discovery.rationale` explains with citations checked before saving. Claim, heartbeat,
stages and failures are webapp.jobs.lifecycle's: a redelivered or re-queued task finds the report
held or finished and does nothing, so a worker restart neither loses nor duplicates it."""
from __future__ import annotations

import logging
import time

from discovery import ASPECTS
from webapp.jobs.lifecycle import JobRun, job_claim, job_enqueue, job_new_token, job_running
from webapp.papers import search
from webapp.papers.selectors import paper_sentences, paper_titles
from webapp.reports.models import NoveltyReport, Stage

log = logging.getLogger(__name__)


class ReportRejected(ValueError):
    """The idea cannot be assessed as given; names the problem."""


def report_split(*, text: str) -> dict[str, str]:
    """Free text -> {problem, method, findings}, shown to the user for correction."""
    from discovery.novelty import split_idea

    if not text.strip():
        raise ReportRejected("describe the idea first")
    idea = split_idea(text)
    return {a: getattr(idea, a) for a in ASPECTS}


def report_create(*, owner, problem: str = "", method: str = "", findings: str = "", text: str = "",
                  as_of: int | None = None, enqueue: bool = True) -> NoveltyReport:
    problem, method, findings, text = (v.strip() for v in (problem, method, findings, text))
    if not (problem and method) and not text:
        raise ReportRejected("give the problem and the method, or the idea as free text")
    report = NoveltyReport.objects.create(owner=owner, problem=problem, method=method, findings=findings,
                                          text=text if not (problem and method) else "", as_of=as_of)
    if enqueue:
        job_enqueue(report)
    return report


def report_run(*, report_id: int) -> NoveltyReport | None:
    """Assess the report's idea and save the result; None when another worker holds it."""
    token = job_new_token()
    if not job_claim(NoveltyReport, report_id, token):
        log.info("report %s is held elsewhere, finished or out of attempts; nothing to do", report_id)
        return None
    with job_running(NoveltyReport.objects.get(pk=report_id), token) as run:
        _run(run)
    return run.result()


def _run(run: JobRun) -> None:
    from discovery import crosscheck, novelty, rationale

    report, started = run.job, time.perf_counter()
    if not (report.problem and report.method):
        run.stage(Stage.SPLITTING)
        fields = report_split(text=report.text)
        fields["problem"] = fields["problem"] or report.text  # the segmenter found no problem sentence
        fields["method"] = fields["method"] or report.text
        run.update(**fields)
        report.refresh_from_db()
    idea = novelty.Idea(report.problem, report.method, report.findings)
    idx = search.index_set()
    if not len(idx):
        raise ReportRejected("no papers are indexed yet")
    result = novelty.assess(idx, idea, search.index_calibration(idx), as_of=report.as_of, sentences_of=paper_sentences,
                            on_stage=run.stage, second_opinion=crosscheck.configured())
    run.stage(Stage.WRITING)
    t_write = time.perf_counter()
    remaining = NoveltyReport.time_limit_s() - (t_write - started)
    cfg = rationale.RationaleConfig()
    cfg.budget_s = max(1.0, min(cfg.budget_s, remaining - 5))
    written = rationale.write(result, paper_titles(result.cited_ids()), cfg=cfg, seed=report.pk,
                              sentences_of=paper_sentences)
    timings = result.timings | {"writing": round((time.perf_counter() - t_write) * 1000, 1),
                                "total": round((time.perf_counter() - started) * 1000, 1)}
    run.finish(verdict=result.verdict, assessment=result.to_dict(), rationale=written.to_dict(),
               index_version=idx.version, timings=timings)
