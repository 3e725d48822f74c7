"""What every background job row shares (imports, novelty reports, idea runs): its status, the
stage the browser shows, the claim of the worker that holds it and that worker's heartbeat, the
attempts so far against a cap, and the reason it failed. Each job type subclasses `Job`, names
the Celery task that runs it, and keeps its own fields; webapp.jobs.lifecycle runs them all."""
from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.urls import reverse
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    INDEXING = "indexing", "Indexing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


def eta_seconds(done: int, total: int, since, now=None) -> float | None:
    """Seconds until `total` at the rate `done` took since `since`; None until a rate means
    something (nothing done yet, or under two seconds of it)."""
    now = now or timezone.now()
    elapsed = (now - since).total_seconds() if since else 0
    if done <= 0 or total <= done or elapsed < 2:
        return None
    return (total - done) * elapsed / done


class Job(models.Model):
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    # Each job type overrides the field with its own stage choices ("" = waiting for a worker).
    stage = models.CharField(max_length=20, default="", blank=True)
    error = models.TextField(blank=True, help_text="why the job failed, if it did")
    # Which worker holds the job (a random token per run), and when it last showed signs of life.
    claim = models.CharField(max_length=64, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="workers that took the job (capped)")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The Celery task (by name: the web never imports the worker) that runs a job of this type.
    task_name: ClassVar[str] = ""
    # A job whose worker died this many times is failed with a reason, not retried forever.
    max_attempts: ClassVar[int] = 3
    # Statuses in which a worker should be making progress (a silent one is re-queued).
    active_statuses: ClassVar[tuple[str, ...]] = (JobStatus.QUEUED, JobStatus.RUNNING)
    # What the job is called in its messages ("the report ran past its time limit").
    noun: ClassVar[str] = "job"
    # The progress fragment (jobs/_progress.html): its URL name and the prefix of its HTML ids.
    progress_url_name: ClassVar[str] = ""
    progress_id: ClassVar[str] = "job"

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def stage_label(self) -> str:
        return self.get_stage_display() if hasattr(self, "get_stage_display") else self.stage

    @property
    def eta_s(self) -> float | None:
        """Seconds left in the job's current phase; None where the job type cannot tell."""
        return None

    @property
    def progress_url(self) -> str:
        return reverse(self.progress_url_name, args=[self.pk])

    @classmethod
    def resume_task(cls, status: str) -> str:
        """The task that carries on a silent job in `status` (imports resume indexing differently)."""
        return cls.task_name

    @classmethod
    def time_limit_s(cls) -> int | None:
        """The soft time limit of the job's task, for the failure message; None: Celery's default."""
        return None
