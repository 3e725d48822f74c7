"""API tokens: a bearer secret per client, stored only as its SHA-256 (a leaked database does
not leak usable tokens; the secret is shown once, when it is created), with a scope (read-only,
or read and write) and an expiry. And the idempotency keys clients send with job-creating writes."""
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Scope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="first characters of the secret, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    # Tokens made before scopes existed could write and never expired: the defaults keep them so.
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="empty: never expires")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The table of the api app, where the model lived first (the move is state-only).
        db_table = "api_apitoken"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def allows(self, method: str) -> bool:
        """A read-only token may only read (GET, HEAD, OPTIONS)."""
        return self.scope == Scope.WRITE or method in ("GET", "HEAD", "OPTIONS")


class IdempotencyKey(models.Model):
    """The `Idempotency-Key` a client sent with a job-creating write, and the job that write
    created: a retry with the same key (after a lost answer, a timeout, a 503) gets that job back
    instead of queueing a second one. Kept for a day (webapp.writes)."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of what was asked, to refuse a reused key")
    job_model = models.CharField(max_length=100, help_text="app_label.ModelName of the job")
    job_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_job_per_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.job_model} {self.job_id}"
