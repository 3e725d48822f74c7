"""Reads for import jobs: one job (its owner only), a user's jobs, what the site is importing and
indexing now (the home page during a first start)."""
from django.db.models import QuerySet
from django.http import Http404

from webapp.imports.models import ImportJob, Stage
from webapp.jobs.models import JobStatus


def import_job_get(*, job_id: int, user) -> ImportJob:
    """The job if the user owns it (staff see every job in the admin, not here): anyone else
    gets the same 404 as for a job that does not exist, so ids reveal nothing."""
    try:
        return ImportJob.objects.get(pk=job_id, owner=user)
    except ImportJob.DoesNotExist:
        raise Http404("no such import job") from None


def import_jobs_of(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=user)


_LOADING = {Stage.KERNELS: "building the encoder's kernels (first start only)", Stage.ENCODER: "loading the encoder"}


def site_activity() -> list[dict]:
    """What the site is doing with its corpus now, one line per active import: counts and
    stages only, never whose file it is. Empty when it is idle."""
    active = ImportJob.objects.filter(status__in=ImportJob.active_statuses).order_by("created_at")[:5]
    return [_activity(job) for job in active]


def _activity(job: ImportJob) -> dict:
    if job.status == JobStatus.INDEXING:
        percent = int(100 * job.index_done / job.index_total) if job.index_total else 0
        what = f"Indexing {job.index_total:,} papers: {percent}%"
        if job.stage in _LOADING:
            what += f" · {_LOADING[job.stage]}"
        return {"id": job.pk, "what": what, "done": job.index_done, "total": job.index_total, "eta_s": job.eta_s}
    if job.status == JobStatus.RUNNING and job.stage == Stage.IMPORTING:
        return {"id": job.pk, "what": f"Importing {job.total:,} records: {job.percent}%", "done": job.done,
                "total": job.total, "eta_s": job.eta_s}
    what = "Counting the records of an import" if job.stage == Stage.COUNTING else "An import is waiting for a worker"
    return {"id": job.pk, "what": what, "done": 0, "total": 0, "eta_s": None}
