"""Idea runs: a research problem, the job that finds methodology inspirations and proposes ideas
on the `llm` queue (discovery.ideas), and its result, saved per user and private."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.papers.models import JobStatus, Paper


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    INSPIRING = "inspiring", "Finding methodology inspirations"
    GENERATING = "generating", "Writing ideas"
    ASSESSING = "assessing", "Checking each idea's novelty"
    RANKING = "ranking", "Ranking the ideas"


class IdeaRun(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_runs")
    problem = models.TextField()
    constraints = models.TextField(blank=True)
    n = models.PositiveSmallIntegerField(default=5, help_text="ideas asked for")
    from_paper = models.ForeignKey(Paper, null=True, blank=True, on_delete=models.SET_NULL,
                                   help_text="the paper whose problem was taken, if any")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    done = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    inspirations = models.JSONField(default=list, blank=True, help_text="inspiration.Inspiration.to_dict() each")
    ideas = models.JSONField(default=list, blank=True, help_text="ideas.GeneratedIdea.to_dict() each, best first, "
                                                                 "plus report_id of its novelty report")
    index_version = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="milliseconds per stage")
    # Which worker holds the run and when it last showed signs of life (the reports' claim pattern).
    claim = models.CharField(max_length=64, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"ideas #{self.pk} {self.title}"

    @property
    def title(self) -> str:
        head = self.problem.strip()
        return head[:80] + ("…" if len(head) > 80 else "") or "untitled problem"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
