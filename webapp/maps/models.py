"""A map of the field per published index version: the labelled cluster hierarchies of every space
and the problem x method gap map (discovery.fieldmap), computed by a background job after each
publish and kept per version, so a page always reads one whole map of one version."""
from __future__ import annotations

from django.db import models

from webapp.jobs.models import Job


class Stage(models.TextChoices):
    QUEUED = "", "Waiting for a worker"
    READING = "reading", "Reading vectors and sentences"
    CLUSTERING = "clustering", "Clustering and labelling"
    SAVING = "saving", "Saving"


class FieldMap(Job):
    index_version = models.PositiveIntegerField(db_index=True)
    # Papers in that version: an index folder rebuilt from scratch numbers its versions from 1 again.
    index_count = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUEUED, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="discovery.fieldmap.FieldMap.to_json()")
    arrays = models.BinaryField(default=b"", help_text="per-paper clusters and centroids (npz)")
    build_s = models.FloatField(null=True, blank=True, help_text="seconds to build, reading included")

    task_name = "maps.fieldmap_run"
    noun = "field map"
    progress_url_name, progress_id = "fieldmap-progress", "fieldmap"
    max_attempts = 2  # a build that killed its worker twice (memory) will do so again

    class Meta:
        ordering = ["-index_version", "-created_at"]

    def __str__(self) -> str:
        return f"field map of index version {self.index_version} ({self.status})"
