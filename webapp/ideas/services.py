"""Writes for idea runs: create, claim, run (inspire, generate, assess, rank), fail, re-queue.

The run is discovery.ideas over the site's index; each idea then gets a novelty report of its own
through webapp.reports.services.report_create (the same job writes its rationale), so an idea
links to a full report. The claim is the compare-and-set pattern of the reports: a redelivered or
re-queued task finds the run held or finished and does nothing."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.ideas.models import IdeaRun
from webapp.papers.jobs import job_claim
from webapp.papers.models import JobStatus, Paper

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # a run whose worker died this many times is failed, not retried forever
MAX_IDEAS = 10  # ~60 tokens of a 135M model each, plus regenerations


class IdeasRejected(ValueError):
    """The problem cannot be worked on as given; names the problem."""


class LostClaim(RuntimeError):
    """Another worker took the run over (this one was presumed dead)."""


def time_limit_s() -> int:
    return getattr(settings, "IDEAS_TIME_LIMIT_S", 300)


@dataclass
class SiteCorpus:
    """The site's index and database in the shape discovery.ideas reads (like Standalone)."""
    index_set: object
    calibration: object

    @staticmethod
    def titles(ids) -> dict[int, str]:
        from webapp.reports.services import paper_titles

        return paper_titles(ids)

    @staticmethod
    def sentences_of(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        rows = Paper.objects.filter(pk__in=ids).values_list("pk", "segmentation")
        return {pk: [(s["text"], s.get("aspect", "other")) for s in seg] for pk, seg in rows}


def site_corpus() -> SiteCorpus:
    from webapp.papers.ideation import index_set
    from webapp.reports.services import _calibration

    idx = index_set()
    if not len(idx):
        raise IdeasRejected("no papers are indexed yet")
    return SiteCorpus(idx, _calibration(str(idx.root), idx.version))


def paper_problem(paper: Paper) -> str:
    """A paper's problem as a starting point ("Inspire me" from a paper)."""
    return " ".join(paper.sentences_of("problem")) or paper.title


def idea_run_create(*, owner, problem: str, constraints: str = "", n: int = 5, from_paper: Paper | None = None,
                    enqueue: bool = True) -> IdeaRun:
    problem, constraints = problem.strip(), constraints.strip()
    if not problem:
        raise IdeasRejected("describe the research problem first")
    if not 1 <= n <= MAX_IDEAS:
        raise IdeasRejected(f"ask for 1 to {MAX_IDEAS} ideas")
    run = IdeaRun.objects.create(owner=owner, problem=problem, constraints=constraints, n=n, from_paper=from_paper,
                                 total=n)
    if enqueue:
        from worker.idea_tasks import ideas_run

        transaction.on_commit(lambda: ideas_run.delay(run.pk))
    return run


def idea_run_claim(*, run_id: int, token: str) -> bool:
    """Take a queued run, or a running one whose worker went silent; False: held or done."""
    return job_claim(IdeaRun.objects.filter(pk=run_id, attempts__lt=MAX_ATTEMPTS), token=token)


def _held(run_id: int, token: str):
    return IdeaRun.objects.filter(pk=run_id, claim=token, status=JobStatus.RUNNING)


def _stage(run_id: int, token: str, stage: str, done: int, total: int) -> None:
    """Record the stage and progress (the browser polls them) and a heartbeat."""
    if not _held(run_id, token).update(stage=stage, done=done, total=total, heartbeat=timezone.now()):
        raise LostClaim(f"idea run {run_id} was taken over")


def idea_run_run(*, run_id: int, engine=None, reports: bool = True) -> IdeaRun | None:
    """Generate the run's ideas and save them; None when another worker holds it."""
    token = uuid.uuid4().hex
    if not idea_run_claim(run_id=run_id, token=token):
        log.info("idea run %s is held elsewhere or finished; nothing to do", run_id)
        return None
    try:
        return _run(IdeaRun.objects.get(pk=run_id), token, engine, reports)
    except LostClaim:
        log.warning("idea run %s was taken over by another worker; stopping", run_id)
        return None
    except Exception as exc:  # includes Celery's SoftTimeLimitExceeded
        log.exception("idea run %s failed", run_id)
        idea_run_fail(run_id=run_id, token=token, message=_reason(exc))
        return IdeaRun.objects.get(pk=run_id)


def _reason(exc: Exception) -> str:
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"the run went past its time limit ({time_limit_s()} s)"
    return f"{type(exc).__name__}: {exc}"[:500]


def _run(run: IdeaRun, token: str, engine, reports: bool) -> IdeaRun:
    from discovery import ideas

    corpus = site_corpus()
    result = ideas.generate(corpus, run.problem, n=run.n, constraints=run.constraints, engine=engine,
                            on_stage=lambda stage, done, total: _stage(run.pk, token, stage, done, total))
    saved = [idea.to_dict() for idea in result.ideas]
    if reports:
        from webapp.reports.services import report_create

        for idea in saved:
            idea["report_id"] = report_create(owner=run.owner, problem=idea["problem"], method=idea["method"],
                                              findings=idea["findings"]).pk
    if not _held(run.pk, token).update(
            status=JobStatus.DONE, stage="", done=len(saved), total=len(saved), ideas=saved,
            inspirations=[f.to_dict() for f in result.inspirations], index_version=corpus.index_set.version,
            timings=result.timings, finished_at=timezone.now()):
        raise LostClaim(f"idea run {run.pk} was taken over")
    return IdeaRun.objects.get(pk=run.pk)


def idea_run_fail(*, run_id: int, message: str, token: str | None = None) -> None:
    rows = IdeaRun.objects.filter(pk=run_id).exclude(status=JobStatus.DONE)
    if token is not None:
        rows = rows.filter(claim=token)
    rows.update(status=JobStatus.FAILED, stage="", error=message, finished_at=timezone.now())


def idea_runs_requeue_stale() -> list[int]:
    """Beat: runs whose worker died go back on the queue (the claim makes a duplicate harmless)."""
    from worker.idea_tasks import ideas_run

    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_S)
    silent = IdeaRun.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat=None), created_at__lt=stale,
                                    status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    silent.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=JobStatus.FAILED, stage="", error=f"the worker stopped {MAX_ATTEMPTS} times", finished_at=now)
    ids = list(silent.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True))
    IdeaRun.objects.filter(pk__in=ids, status=JobStatus.QUEUED).update(heartbeat=now)
    for run_id in ids:
        ideas_run.delay(run_id)
    return ids
