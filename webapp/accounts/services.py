"""Writes and reads for API tokens."""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from webapp.accounts.models import ApiToken, Scope, token_digest

PREFIX = "isp_"  # recognisable in logs and by secret scanners
EXPIRY_DAYS = (7, 30, 90, 365)  # the choices offered where tokens are made (or never)


class TokenRefused(Exception):
    """A bearer token that cannot be used for this request: the HTTP status and why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def token_create(*, user, name: str, scope: str = Scope.WRITE, expires_in_days: int | None = None
                 ) -> tuple[ApiToken, str]:
    """The new token and its secret; the secret is not stored and cannot be shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:12], digest=token_digest(secret),
                                    scope=scope, expires_at=expires_at)
    return token, secret


def token_revoke(*, user, token_id: int) -> bool:
    return bool(ApiToken.objects.filter(pk=token_id, user=user).delete()[0])


def tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_user(*, secret: str, method: str = "GET"):
    """The active user a secret belongs to, for a request of `method`; TokenRefused (401: unknown,
    revoked or expired; 403: a read-only token on a write) otherwise. Touches last_used_at at most
    once a minute."""
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(secret)).first()
    if token is None or not token.user.is_active:
        raise TokenRefused(401, "invalid or revoked API token: create one at /accounts/tokens/")
    if token.expired:
        raise TokenRefused(401, f"this API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: "
                                f"create a new one at /accounts/tokens/")
    if not token.allows(method):
        raise TokenRefused(403, "this API token is read-only: writes need a read-and-write token "
                                "(create one at /accounts/tokens/)")
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
