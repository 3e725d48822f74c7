"""Job-creating writes (novelty reports, idea runs, imports) as the API and the forms make them.

- Quotas, checked before anything is created: per user, the jobs of a type created in the last
  hour (counted on the job rows, so they hold while Redis is down), and for the LLM queue a cap
  on the jobs waiting across all users (one llm worker drains it a job at a time).
- An `Idempotency-Key`: a client that retries after a lost answer or a 503 gets the job its
  first request created, never a second one. The key and the job are written in one transaction;
  two requests racing with one key meet at the key's unique constraint.
- A broker that cannot be reached: the job's task is sent when its transaction commits; if that
  send fails, the job (and its key, and an import's upload) is removed again and the client is
  told to try again (503). No job is left that says queued but was never sent.

Refused (webapp.http) carries the HTTP status, the message and Retry-After; the API root turns
it into JSON, a form view into a form error."""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Callable, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from webapp.accounts.models import IdempotencyKey
from webapp.http import Refused
from webapp.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)
J = TypeVar("J", bound=Job)
KEY_HEADER = "Idempotency-Key"
KEY_KEPT = timedelta(hours=24)
KEY_DOC = ("any unique string (a UUID): a retry with the same key within 24 hours returns the job the first "
           "request created instead of queueing another")
BROKER_RETRY_AFTER_S = 30


def quota_check(model: type[Job], *, user) -> None:
    """Refused (429) when `user` created its hour's quota of `model` jobs, or when the job would
    join an LLM queue already at LLM_QUEUE_MAX."""
    label = model._meta.label_lower
    per_hour = settings.JOB_QUOTAS_PER_HOUR.get(label, 0)
    if per_hour:
        since = timezone.now() - timedelta(hours=1)
        recent = model.objects.filter(owner=user, created_at__gte=since).order_by("-created_at")
        oldest = recent.values_list("created_at", flat=True)[per_hour - 1:per_hour].first()
        if oldest is not None:  # `per_hour` jobs already: wait until the oldest of them is an hour old
            wait = int((oldest - since).total_seconds()) + 1
            raise Refused(429, f"you created {per_hour} {model.noun}s in the last hour, the most allowed; "
                               f"try again in {_minutes(wait)}", wait)
    if settings.LLM_QUEUE_MAX and model.task_name.startswith("llm."):
        waiting = sum(m.objects.filter(status=JobStatus.QUEUED).count() for m in _llm_job_models())
        if waiting >= settings.LLM_QUEUE_MAX:
            raise Refused(429, f"{waiting} reports and idea runs are waiting for the language model, the most "
                               f"the queue takes; try again in a few minutes", 120)


def _llm_job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job) and m.task_name.startswith("llm.")]


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} minutes"


def fingerprint(asked) -> str:
    """A digest of what a write asked for (its fields), to tell a retry from a reused key."""
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def job_write(model: type[J], *, user, key: str, asked, create: Callable[[], J]) -> tuple[J, bool]:
    """(the job, True when it is the one an earlier request with `key` created). Refused when the
    key was used for another request (409), over quota (429), or the broker is down (503)."""
    key = key.strip()
    if len(key) > 200:
        raise Refused(400, f"the {KEY_HEADER} header is longer than 200 characters")
    digest = fingerprint([model._meta.label, asked])
    if key and (earlier := _replay(user, key, digest)):
        return earlier, True
    # On PostgreSQL one user's writes take turns from the quota check to the commit (a lock on
    # the user's row), so two requests at once cannot both take the hour's last slot. SQLite has
    # no row locks, and a read first in the transaction would make its write fail "database is
    # locked" instead of waiting for the lock: there the check comes before the transaction.
    locked = connection.features.has_select_for_update
    if not locked:
        quota_check(model, user=user)
    job = None
    try:
        with transaction.atomic():  # the job's task is sent when this commits
            if locked:
                get_user_model().objects.select_for_update().filter(pk=user.pk).first()
                quota_check(model, user=user)
            job = create()
            if key:
                _key_forget_old(user)
                IdempotencyKey.objects.create(user=user, key=key, fingerprint=digest,
                                              job_model=model._meta.label, job_id=job.pk)
    except IntegrityError:
        if not key or job is None:
            raise
        _upload_remove(job)  # rolled back with the transaction; its stored file was not
        if earlier := _replay(user, key, digest):  # a concurrent request with the same key won
            return earlier, True
        raise Refused(409, f"a request with this {KEY_HEADER} is still being handled; try again", 1) from None
    except BrokerError as exc:
        if job is None or job.pk is None:
            raise
        log.warning("%s %s removed: its task could not be sent (%s)", model.noun, job.pk, exc)
        _job_remove(job)
        raise Refused(503, f"the job queue cannot be reached, so the {model.noun} was not created; "
                           f"try again in a minute", BROKER_RETRY_AFTER_S) from None
    return job, False


def _replay(user, key: str, digest: str) -> Job | None:
    found = IdempotencyKey.objects.filter(user=user, key=key, created_at__gte=timezone.now() - KEY_KEPT).first()
    if found is None:
        return None
    if found.fingerprint != digest:
        raise Refused(409, f"this {KEY_HEADER} was used for a different request; use a new key for a new request")
    return apps.get_model(found.job_model).objects.filter(pk=found.job_id).first()


def _key_forget_old(user) -> None:
    IdempotencyKey.objects.filter(user=user, created_at__lt=timezone.now() - KEY_KEPT).delete()


def _job_remove(job: Job) -> None:
    """Undo a committed job whose task was never sent (a worker that got the task anyway finds no
    row and does nothing)."""
    IdempotencyKey.objects.filter(job_model=type(job)._meta.label, job_id=job.pk).delete()
    type(job).objects.filter(pk=job.pk).delete()
    _upload_remove(job)


def _upload_remove(job: Job) -> None:
    """An import's uploaded file (one folder per upload in UPLOAD_DIR); files outside it stay."""
    path = getattr(job, "path", "")
    folder = Path(path).parent if path else None
    if folder and folder.parent == Path(settings.UPLOAD_DIR).resolve():
        shutil.rmtree(folder, ignore_errors=True)


def api_job_write(model: type[J], *, request, response, key: str | None, asked, create: Callable[[], J]) -> J:
    """job_write for an API operation: the user from the request's auth, and a replayed answer
    marked `Idempotent-Replayed: true` (same status and body as the first)."""
    job, replayed = job_write(model, user=request.auth, key=key or "", asked=asked, create=create)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return job
