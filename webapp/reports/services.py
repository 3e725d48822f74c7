"""Writes for novelty reports: create, claim, run (split, retrieve, score, write), fail, re-queue.

The run is the issue's pipeline: `discovery.novelty` decides (deterministic, calibrated on the
corpus), `discovery.rationale` explains with citations checked before saving. The claim is the
compare-and-set pattern of webapp.papers.services: a redelivered or re-queued task finds the
report held or finished and does nothing, so a worker restart neither loses nor duplicates it."""
from __future__ import annotations

import functools
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from discovery import ASPECTS
from webapp.papers.jobs import job_claim
from webapp.papers.models import JobStatus, Paper
from webapp.reports.models import NoveltyReport, Stage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # a report whose worker died this many times is failed, not retried forever


class ReportRejected(ValueError):
    """The idea cannot be assessed as given; names the problem."""


class LostClaim(RuntimeError):
    """Another worker took the report over (this one was presumed dead)."""


def time_limit_s() -> int:
    return settings.REPORT_TIME_LIMIT_S


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
        from worker.report_tasks import report_run

        transaction.on_commit(lambda: report_run.delay(report.pk))
    return report


def report_claim(*, report_id: int, token: str) -> bool:
    """Take a queued report, or a running one whose worker went silent; False: held or done."""
    return job_claim(NoveltyReport.objects.filter(pk=report_id, attempts__lt=MAX_ATTEMPTS), token=token)


def _held(report_id: int, token: str):
    return NoveltyReport.objects.filter(pk=report_id, claim=token, status=JobStatus.RUNNING)


def _stage(report_id: int, token: str, stage: str) -> None:
    """Record the stage (the browser polls it) and a heartbeat; stop if the claim was lost."""
    if not _held(report_id, token).update(stage=stage, heartbeat=timezone.now()):
        raise LostClaim(f"report {report_id} was taken over")


@functools.lru_cache(maxsize=2)
def _calibration(root: str, version: int):
    from discovery.novelty import calibration_for
    from webapp.papers.ideation import index_set

    return calibration_for(index_set())


def _sentences_of(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    rows = Paper.objects.filter(pk__in=ids).values_list("pk", "segmentation")
    return {pk: [(s["text"], s.get("aspect", "other")) for s in seg] for pk, seg in rows}


def paper_titles(ids) -> dict[int, str]:
    return dict(Paper.objects.filter(pk__in=list(ids)).values_list("pk", "title"))


def report_run(*, report_id: int) -> NoveltyReport | None:
    """Assess the report's idea and save the result; None when another worker holds it."""
    token = uuid.uuid4().hex
    if not report_claim(report_id=report_id, token=token):
        log.info("report %s is held elsewhere or finished; nothing to do", report_id)
        return None
    try:
        return _run(NoveltyReport.objects.get(pk=report_id), token)
    except LostClaim:
        log.warning("report %s was taken over by another worker; stopping", report_id)
        return None
    except Exception as exc:  # includes Celery's SoftTimeLimitExceeded: the time limit
        log.exception("report %s failed", report_id)
        report_fail(report_id=report_id, token=token, message=_reason(exc))
        return NoveltyReport.objects.get(pk=report_id)


def _reason(exc: Exception) -> str:
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"the report ran past its time limit ({time_limit_s()} s)"
    return f"{type(exc).__name__}: {exc}"[:500]


def _run(report: NoveltyReport, token: str) -> NoveltyReport:
    from discovery import novelty, rationale
    from webapp.papers.ideation import index_set

    started = time.perf_counter()
    if not (report.problem and report.method):
        _stage(report.pk, token, Stage.SPLITTING)
        fields = report_split(text=report.text)
        fields["problem"] = fields["problem"] or report.text  # the segmenter found no problem sentence
        fields["method"] = fields["method"] or report.text
        _held(report.pk, token).update(**fields)
        report.refresh_from_db()
    idea = novelty.Idea(report.problem, report.method, report.findings)
    idx = index_set()
    if not len(idx):
        raise ReportRejected("no papers are indexed yet")
    calibration = _calibration(str(idx.root), idx.version)
    result = novelty.assess(idx, idea, calibration, as_of=report.as_of, sentences_of=_sentences_of,
                            on_stage=lambda stage: _stage(report.pk, token, stage))
    _stage(report.pk, token, Stage.WRITING)
    t_write = time.perf_counter()
    remaining = time_limit_s() - (t_write - started)
    cfg = rationale.RationaleConfig(budget_s=max(1.0, min(rationale.RationaleConfig.budget_s, remaining - 5)))
    written = rationale.write(result, paper_titles(result.cited_ids()), cfg=cfg, seed=report.pk)
    timings = result.timings | {"writing": round((time.perf_counter() - t_write) * 1000, 1),
                                "total": round((time.perf_counter() - started) * 1000, 1)}
    if not _held(report.pk, token).update(
            status=JobStatus.DONE, stage="", verdict=result.verdict, assessment=result.to_dict(),
            rationale=written.to_dict(), index_version=idx.version, timings=timings, finished_at=timezone.now()):
        raise LostClaim(f"report {report.pk} was taken over")
    return NoveltyReport.objects.get(pk=report.pk)


def report_fail(*, report_id: int, message: str, token: str | None = None) -> None:
    rows = NoveltyReport.objects.filter(pk=report_id).exclude(status=JobStatus.DONE)
    if token is not None:
        rows = rows.filter(claim=token)
    rows.update(status=JobStatus.FAILED, stage="", error=message, finished_at=timezone.now())


def reports_requeue_stale() -> list[int]:
    """Beat: reports whose worker died go back on the queue (the claim makes a duplicate
    delivery harmless); the heartbeat is bumped so each one is re-sent once per stale period."""
    from worker.report_tasks import report_run

    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_S)
    silent = NoveltyReport.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat=None), created_at__lt=stale,
                                          status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    silent.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=JobStatus.FAILED, stage="", error=f"the worker stopped {MAX_ATTEMPTS} times", finished_at=now)
    ids = list(silent.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True))
    NoveltyReport.objects.filter(pk__in=ids, status=JobStatus.QUEUED).update(heartbeat=now)
    for report_id in ids:
        report_run.delay(report_id)
    return ids
