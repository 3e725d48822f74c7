"""A user's library (collections of papers, saved searches, saved ideas), the digests built from
it, and novelty watch (each saved idea's novelty per index version, and the alerts it raised).
Everything here belongs to one user and is shown to nobody else."""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.db import models

from webapp.papers.models import Paper
from webapp.reports.models import NoveltyReport


class Collection(models.Model):
    """A named set of papers (a "tag" in arxiv-sanity's sense)."""
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=100)
    papers = models.ManyToManyField(Paper, through="CollectionPaper", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="library_collection_unique_name")]

    def __str__(self) -> str:
        return self.name


class CollectionPaper(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="entries")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at"]
        constraints = [models.UniqueConstraint(fields=["collection", "paper"], name="library_collection_paper_once")]


class SavedSearch(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=200)
    params = models.JSONField(default=dict, help_text="the search form's fields: q, aspect, year_min, ...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def query_string(self) -> str:
        return urlencode({k: v for k, v in self.params.items() if v not in ("", None)})


class SavedIdea(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_ideas")
    title = models.CharField(max_length=200)
    problem = models.TextField()
    method = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    reports = models.ManyToManyField(NoveltyReport, blank=True, related_name="saved_ideas")
    watch = models.BooleanField(default=True, help_text="re-assess when new papers are indexed")
    # The idea in the ideation space (float16 per space, like PaperVectors), computed once: every
    # digest and watch reading needs it, and the encoder costs 0.2-0.5 s per idea on a busy core.
    vectors = models.BinaryField(blank=True, default=b"")
    vectors_key = models.CharField(max_length=100, blank=True, help_text="the encoder that made them")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class IdeaNovelty(models.Model):
    """One assessment of a saved idea against one index version (novelty watch's history)."""
    idea = models.ForeignKey(SavedIdea, on_delete=models.CASCADE, related_name="novelty")
    index_version = models.PositiveIntegerField()
    scores = models.JSONField(help_text="aspect -> calibrated novelty in [0, 1]")
    nearest = models.JSONField(help_text="aspect -> [paper id, similarity] of its nearest prior work")
    assessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index_version"]
        constraints = [models.UniqueConstraint(fields=["idea", "index_version"], name="library_novelty_once")]


class AlertKind(models.TextChoices):
    DROP = "drop", "Novelty dropped"
    NEAREST = "nearest", "New nearest prior work"


class WatchAlert(models.Model):
    idea = models.ForeignKey(SavedIdea, on_delete=models.CASCADE, related_name="alerts")
    paper = models.ForeignKey(Paper, null=True, on_delete=models.SET_NULL, related_name="+")
    aspect = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    before = models.FloatField()
    after = models.FloatField()
    index_version = models.PositiveIntegerField()
    digest = models.ForeignKey("Digest", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    OFF = "off", "Off"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class DigestSettings(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_settings")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    # The private Atom feed's URL carries this; a new one revokes the old URL.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)


class DigestStatus(models.TextChoices):
    BUILT = "built", "Built (not mailed: no e-mail address)"
    SENT = "sent", "Mailed"
    FAILED = "failed", "Mail failed"


class Digest(models.Model):
    """The new papers of one window (since, until], ranked for one user, and how it was delivered."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    since = models.DateTimeField()
    until = models.DateTimeField()
    index_version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=DigestStatus.choices, default=DigestStatus.BUILT)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-until"]


class DigestItem(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    aspect = models.CharField(max_length=20)
    reason = models.TextField()
    score = models.FloatField()

    class Meta:
        ordering = ["rank"]


class CollectionImport(models.Model):
    """A BibTeX / RIS file imported as a collection: papers already in the corpus are added at
    once; the others arrive through the import job and are added when it has finished."""
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="imports")
    job = models.ForeignKey("imports.ImportJob", null=True, on_delete=models.SET_NULL, related_name="+")
    path = models.CharField(max_length=1000)
    matched = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0, help_text="records still to find once the job is done")
    settled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
