"""Papers, their ideation-space data, and the jobs that import and index them."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

# Failures kept on a job row; past this only the count grows, so that a file of a
# million broken lines cannot bloat the row.
MAX_FAILURES_KEPT = 1000


class Paper(models.Model):
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    venue = models.CharField(max_length=300, blank=True, db_index=True)
    doi = models.CharField(max_length=200, blank=True, db_index=True)
    arxiv_id = models.CharField(max_length=50, blank=True, db_index=True)
    url = models.URLField(max_length=1000, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="file or feed it came from")
    source_id = models.CharField(max_length=200, blank=True)
    # Deduplication key: DOI, else arXiv id, else the normalised title.
    fingerprint = models.CharField(max_length=300, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Ideation space (filled by indexing): [{"text": ..., "aspect": problem|method|findings|other}]
    segmentation = models.JSONField(default=list, blank=True)
    # Hash of the text that was indexed; differs from content_hash() when the paper changed.
    indexed_hash = models.CharField(max_length=64, blank=True, db_index=True)
    indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return self.title[:120]

    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.abstract}".encode()).hexdigest()

    @property
    def needs_indexing(self) -> bool:
        return self.indexed_hash != self.content_hash()

    def sentences_of(self, aspect: str) -> list[str]:
        return [s["text"] for s in self.segmentation if s.get("aspect") == aspect]


class PaperVectors(models.Model):
    """The paper's embeddings (float16 bytes), so the FAISS indexes can be rebuilt from the
    database without re-encoding every abstract."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="vectors")
    model_key = models.CharField(max_length=100, help_text="encoder and heads that produced them")
    paper_vec = models.BinaryField()
    problem_vec = models.BinaryField()
    method_vec = models.BinaryField()
    findings_vec = models.BinaryField()
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)


class IndexState(models.Model):
    """One row: up to when stored vectors have been published into the on-disk indexes."""

    published_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=0)

    @classmethod
    def current(cls) -> "IndexState":
        state, _ = cls.objects.get_or_create(pk=1, defaults={"published_at": timezone.make_aware(
            timezone.datetime(2000, 1, 1))})
        return state


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    INDEXING = "indexing", "Indexing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="import_jobs")
    path = models.CharField(max_length=1000, help_text="file on the server (uploads are stored in DATA_DIR)")
    filename = models.CharField(max_length=300, help_text="the name the user knows the file by")
    format = models.CharField(max_length=20, blank=True, help_text="empty: detected from the content")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    error = models.TextField(blank=True, help_text="why the whole job failed, if it did")
    done = models.PositiveIntegerField(default=0, help_text="records read and committed")
    total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True, help_text='[{"location": ..., "reason": ...}]')
    index_done = models.PositiveIntegerField(default=0)
    index_total = models.PositiveIntegerField(default=0)
    # Which worker holds the job, and when it last showed signs of life.
    claim = models.CharField(max_length=64, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.is_finished else 0)

    def is_stale(self, now=None) -> bool:
        from django.conf import settings as s

        now = now or timezone.now()
        return self.heartbeat is None or (now - self.heartbeat).total_seconds() > s.JOB_STALE_AFTER_S

    def summary(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.skipped} unchanged, "
                f"{self.failed} failed")
