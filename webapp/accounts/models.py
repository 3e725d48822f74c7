"""API tokens: a bearer secret per client, stored only as its SHA-256 (a leaked database does
not leak usable tokens; the secret is shown once, when it is created)."""
import hashlib

from django.conf import settings
from django.db import models


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="first characters of the secret, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The table of the api app, where the model lived first (the move is state-only).
        db_table = "api_apitoken"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
