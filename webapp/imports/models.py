"""Import jobs: a corpus file on the server, read into papers in batches, then indexed."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job, JobStatus, eta_seconds

# Failures kept on a job row; past this only the count grows, so that a file of a
# million broken lines cannot bloat the row.
MAX_FAILURES_KEPT = 1000


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    COUNTING = "counting", "Counting the records"
    IMPORTING = "importing", "Importing records"
    # Indexing: a fresh worker's first step (webapp.papers.indexing.encoder_loading_stage).
    KERNELS = "kernels", "Building the encoder's kernels (first start only)"
    ENCODER = "encoder", "Loading the encoder"


class ImportJob(Job):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="import_jobs")
    path = models.CharField(max_length=1000, help_text="file on the server (uploads are stored in DATA_DIR)")
    filename = models.CharField(max_length=300, help_text="the name the user knows the file by")
    format = models.CharField(max_length=20, blank=True, help_text="empty: detected from the content")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    done = models.PositiveIntegerField(default=0, help_text="records read and committed")
    total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True, help_text='[{"location": ..., "reason": ...}]')
    index_done = models.PositiveIntegerField(default=0)
    index_total = models.PositiveIntegerField(default=0)
    # When indexing began (its rate gives the ETA), and index_done when it was last planned (a
    # re-plan after progress is not a failed attempt).
    index_started_at = models.DateTimeField(null=True, blank=True)
    index_done_at_plan = models.PositiveIntegerField(default=0)

    task_name = "papers.import_run"
    noun = "import"
    progress_url_name, progress_id = "import-progress", "import"
    # Indexing is part of the job: a silent one in that phase is planned again (chunks are idempotent).
    active_statuses = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.INDEXING)

    class Meta(Job.Meta):
        # The table of the papers app, where the model lived first (the move is state-only).
        db_table = "papers_importjob"

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename} ({self.status})"

    @classmethod
    def resume_task(cls, status: str) -> str:
        return "papers.index_plan" if status == JobStatus.INDEXING else cls.task_name

    @property
    def stage_label(self) -> str:
        if self.status == JobStatus.INDEXING:  # the bars say it, unless the encoder is loading
            return self.get_stage_display() if self.stage else ""
        return self.get_stage_display()

    @property
    def eta_s(self) -> float | None:
        """Seconds left in the current phase at its rate so far; None before there is a rate."""
        if self.status == JobStatus.RUNNING and self.stage == Stage.IMPORTING:
            return eta_seconds(self.done, self.total, self.started_at)
        if self.status == JobStatus.INDEXING:
            return eta_seconds(self.index_done, self.index_total, self.index_started_at)
        return None

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.is_finished else 0)

    def summary(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.skipped} unchanged, "
                f"{self.failed} failed")
