"""Papers, their ideation-space data (segmentation and vectors), and the published index state."""
from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone


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
