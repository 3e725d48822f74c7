"""Writes and reads for API tokens."""
from __future__ import annotations

import secrets

from django.db.models import QuerySet
from django.utils import timezone

from webapp.accounts.models import ApiToken, token_digest

PREFIX = "isp_"  # recognisable in logs and by secret scanners


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """The new token and its secret; the secret is not stored and cannot be shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:12], digest=token_digest(secret))
    return token, secret


def token_revoke(*, user, token_id: int) -> bool:
    return bool(ApiToken.objects.filter(pk=token_id, user=user).delete()[0])


def tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_user(*, secret: str):
    """The active user a secret belongs to, or None. Touches last_used_at at most once a minute."""
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
