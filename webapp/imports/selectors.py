"""Reads for import jobs: one job (its owner only), a user's jobs."""
from django.db.models import QuerySet
from django.http import Http404

from webapp.imports.models import ImportJob


def import_job_get(*, job_id: int, user) -> ImportJob:
    """The job if the user owns it (staff see every job in the admin, not here): anyone else
    gets the same 404 as for a job that does not exist, so ids reveal nothing."""
    try:
        return ImportJob.objects.get(pk=job_id, owner=user)
    except ImportJob.DoesNotExist:
        raise Http404("no such import job") from None


def import_jobs_of(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=user)
