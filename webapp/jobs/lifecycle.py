"""What every background job row (imports, novelty reports, idea runs) shares: the claim."""
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from webapp.papers.models import JobStatus


def job_claim(rows: QuerySet, *, token: str) -> bool:
    """Compare-and-set: take a queued job, or a running one whose worker went silent (no
    heartbeat for JOB_STALE_AFTER_S). Zero rows updated means another worker holds it, or it
    is finished."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_S)
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING) & (Q(heartbeat__lt=stale) | Q(heartbeat=None))
    return bool(rows.filter(claimable).update(status=JobStatus.RUNNING, claim=token, heartbeat=now,
                                              attempts=F("attempts") + 1, started_at=Coalesce(F("started_at"), now)))
