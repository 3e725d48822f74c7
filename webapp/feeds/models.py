"""Feeds: a source of new papers harvested on a schedule (arXiv by category, OpenAlex works by a
search or filter, a watched folder), each run a `Harvest` job whose records go through an import
job. The feed remembers where an unfinished sweep stopped (`cursor`) and from which day the next
fresh one starts (`since`)."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from webapp.imports.models import ImportJob
from webapp.jobs.models import Job, JobStatus


class FeedKind(models.TextChoices):
    ARXIV = "arxiv", "arXiv categories (OAI-PMH)"
    OPENALEX = "openalex", "OpenAlex works (search or filter)"
    FOLDER = "folder", "Watched folder on the server (staff)"


class DateFilter(models.TextChoices):
    PUBLICATION = "from_publication_date", "published since"
    CREATED = "from_created_date", "added to OpenAlex since (needs an OpenAlex key)"


class Feed(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feeds")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=FeedKind.choices)
    query = models.CharField(max_length=500, help_text="arXiv: categories ('cs.CL cs.LG') or an archive ('cs'); "
                             "OpenAlex: search words; folder: a folder under FEED_FOLDER_ROOT")
    openalex_filter = models.CharField(max_length=500, blank=True,
                                       help_text="OpenAlex only: a filter such as concepts.id:C204321447")
    date_filter = models.CharField(max_length=30, choices=DateFilter.choices, default=DateFilter.PUBLICATION)
    interval_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1)])
    enabled = models.BooleanField(default=True)
    since = models.DateField(default=timezone.localdate, help_text="a fresh sweep asks for records from this day on")
    cursor = models.JSONField(default=dict, blank=True,
                              help_text='where an unfinished sweep stopped: {"token", "since", "started"}')
    next_run_at = models.DateTimeField(default=timezone.now, db_index=True)
    failures = models.PositiveSmallIntegerField(default=0, help_text="harvests failed in a row")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="feed_name_unique_per_owner")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("feed-detail", args=[self.pk])

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.query.split())

    def last_harvest(self) -> Harvest | None:
        return self.harvests.order_by("-created_at", "-pk").first()


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    FETCHING = "fetching", "Fetching pages"
    SCANNING = "scanning", "Scanning the folder"


class Harvest(Job):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="harvests")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    since = models.DateField(null=True, blank=True, help_text="the day the sweep asks for records from")
    pages = models.PositiveIntegerField(default=0, help_text="pages fetched (folder: files looked at)")
    fetched = models.PositiveIntegerField(default=0, help_text="records written to the harvest file")
    ignored = models.PositiveIntegerField(default=0,
                                          help_text="records outside the categories or deleted; unchanged files")
    files = models.PositiveIntegerField(default=0, help_text="folder: new or changed files imported")
    path = models.CharField(max_length=1000, blank=True, help_text="the harvest file (JSON Lines) on the server")
    file_bytes = models.PositiveBigIntegerField(default=0, help_text="how much of the file is committed")
    imports = models.ManyToManyField(ImportJob, blank=True, related_name="+")

    task_name = "feeds.harvest_run"
    noun = "harvest"
    progress_url_name, progress_id = "feed-harvest-progress", "harvest"

    def __str__(self) -> str:
        return f"harvest #{self.pk} of {self.feed} ({self.status})"

    def import_counts(self) -> dict[str, int]:
        """Created / updated / unchanged / failed papers over the harvest's import jobs."""
        sums = self.imports.aggregate(created=Sum("created"), updated=Sum("updated"), skipped=Sum("skipped"),
                                      failed=Sum("failed"))
        return {key: value or 0 for key, value in sums.items()}

    def imports_finished(self) -> bool:
        return not self.imports.exclude(status__in=(JobStatus.DONE, JobStatus.FAILED)).exists()


class FeedFile(models.Model):
    """A file of a folder feed, imported once per content."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="files")
    relative = models.CharField(max_length=1000, help_text="its path under the watched folder when first seen")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    import_job = models.ForeignKey(ImportJob, null=True, on_delete=models.SET_NULL, related_name="+")
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "sha256"], name="feed_file_once_per_content")]
