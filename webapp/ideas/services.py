"""Writes for idea runs: create, run (inspire, generate, assess, rank).

The run is discovery.ideas over the site's index; each idea then gets a novelty report of its own
through webapp.reports.services.report_create (the same job writes its rationale), so an idea
links to a full report. Claim, heartbeat, stages and failures are webapp.jobs.lifecycle's: a
redelivered or re-queued task finds the run held or finished and does nothing."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from webapp.ideas.models import IdeaRun
from webapp.jobs.lifecycle import JobRun, job_claim, job_enqueue, job_new_token, job_running
from webapp.papers import search
from webapp.papers.models import Paper
from webapp.papers.selectors import paper_sentences, paper_titles
from webapp.reports.services import report_create

log = logging.getLogger(__name__)
MAX_IDEAS = 10  # ~60 tokens of a 135M model each, plus regenerations


class IdeasRejected(ValueError):
    """The problem cannot be worked on as given; names the problem."""


@dataclass
class SiteCorpus:
    """The site's index and database in the shape discovery.ideas reads (like Standalone)."""
    index_set: object
    calibration: object
    titles = staticmethod(paper_titles)
    sentences_of = staticmethod(paper_sentences)


def site_corpus() -> SiteCorpus:
    idx = search.index_set()
    if not len(idx):
        raise IdeasRejected("no papers are indexed yet")
    return SiteCorpus(idx, search.index_calibration(idx))


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
        job_enqueue(run)
    return run


def idea_run_run(*, run_id: int, engine=None, reports: bool = True) -> IdeaRun | None:
    """Generate the run's ideas and save them; None when another worker holds it."""
    token = job_new_token()
    if not job_claim(IdeaRun, run_id, token):
        log.info("idea run %s is held elsewhere, finished or out of attempts; nothing to do", run_id)
        return None
    with job_running(IdeaRun.objects.get(pk=run_id), token) as run:
        _run(run, engine, reports)
    return run.result()


def _run(job: JobRun, engine, reports: bool) -> None:
    from discovery import ideas

    run, corpus = job.job, site_corpus()
    result = ideas.generate(corpus, run.problem, n=run.n, constraints=run.constraints, engine=engine,
                            on_stage=lambda stage, done, total: job.stage(stage, done=done, total=total))
    saved = [idea.to_dict() for idea in result.ideas]
    if reports:
        for idea in saved:
            idea["report_id"] = report_create(owner=run.owner, problem=idea["problem"], method=idea["method"],
                                              findings=idea["findings"]).pk
    job.finish(done=len(saved), total=len(saved), ideas=saved, inspirations=[f.to_dict() for f in result.inspirations],
               index_version=corpus.index_set.version, timings=result.timings,
               screening={"written": result.written, "dropped": result.dropped})
