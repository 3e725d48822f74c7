"""Reads for papers and jobs."""
from django.db.models import QuerySet

from webapp.papers.models import ImportJob, Paper


def paper_count() -> int:
    return Paper.objects.count()


def import_jobs_of(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=user)
