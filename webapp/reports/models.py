"""Novelty reports: an idea (problem / method / expected findings), the job that assesses it on
the `llm` queue, and its result (the Decomposed Novelty Assessment and the checked rationale)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    SPLITTING = "splitting", "Splitting the idea"
    RETRIEVING = "retrieving", "Retrieving prior work"
    SCORING = "scoring", "Scoring novelty"
    WRITING = "writing", "Writing the rationale"


class NoveltyReport(Job):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="novelty_reports")
    text = models.TextField(blank=True, help_text="free-text idea, split by the job when the fields are empty")
    problem = models.TextField(blank=True)
    method = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    as_of = models.PositiveSmallIntegerField(null=True, blank=True, help_text="only papers up to this year count")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    verdict = models.CharField(max_length=40, blank=True)
    assessment = models.JSONField(default=dict, blank=True, help_text="novelty.Assessment.to_dict()")
    rationale = models.JSONField(default=dict, blank=True, help_text="rationale.Rationale.to_dict()")
    index_version = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="milliseconds per stage")

    task_name = "llm.report_run"
    noun = "report"
    progress_url_name, progress_id = "report-progress", "report"

    @classmethod
    def time_limit_s(cls) -> int:
        return settings.REPORT_TIME_LIMIT_S

    def __str__(self) -> str:
        return f"report #{self.pk} {self.title}"

    @property
    def title(self) -> str:
        head = (self.problem or self.text).strip()
        return head[:80] + ("…" if len(head) > 80 else "") or "untitled idea"
