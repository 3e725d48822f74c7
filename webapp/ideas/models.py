"""Idea runs: a research problem, the job that finds methodology inspirations and proposes ideas
on the `llm` queue (discovery.ideas), and its result, saved per user and private."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job
from webapp.papers.models import Paper


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    INSPIRING = "inspiring", "Finding methodology inspirations"
    GENERATING = "generating", "Writing ideas"
    ASSESSING = "assessing", "Checking each idea's novelty"
    RANKING = "ranking", "Ranking the ideas"


class IdeaRun(Job):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_runs")
    problem = models.TextField()
    constraints = models.TextField(blank=True)
    n = models.PositiveSmallIntegerField(default=5, help_text="ideas asked for")
    from_paper = models.ForeignKey(Paper, null=True, blank=True, on_delete=models.SET_NULL,
                                   help_text="the paper whose problem was taken, if any")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    done = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    inspirations = models.JSONField(default=list, blank=True, help_text="inspiration.Inspiration.to_dict() each")
    ideas = models.JSONField(default=list, blank=True, help_text="ideas.GeneratedIdea.to_dict() each, best first, "
                                                                 "plus report_id of its novelty report")
    index_version = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="milliseconds per stage")
    screening = models.JSONField(default=dict, blank=True, help_text="{written, dropped: {reason: count}}: the LLM's "
                                 "ideas and why the coherence filter dropped some (discovery.coherence)")

    task_name = "llm.ideas_run"
    noun = "idea run"
    progress_url_name, progress_id = "idea-run-progress", "idea-run"

    @classmethod
    def time_limit_s(cls) -> int:
        return settings.IDEAS_TIME_LIMIT_S

    def __str__(self) -> str:
        return f"ideas #{self.pk} {self.title}"

    @property
    def title(self) -> str:
        head = self.problem.strip()
        return head[:80] + ("…" if len(head) > 80 else "") or "untitled problem"

    @property
    def stage_label(self) -> str:
        counts = f" ({self.done}/{self.total})" if self.total and self.stage == Stage.ASSESSING else ""
        return self.get_stage_display() + counts
