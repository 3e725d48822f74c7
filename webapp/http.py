"""HTTP plumbing every app's views and API routers share: a small cache-based rate limiter, a
Server-Timing header, and the API's error shapes.

The limiter is a fixed window counter in the shared Redis cache: `cache.add` starts the window
(atomic: only the first request of a window creates the key), `cache.incr` counts. A fixed window
lets a client send up to twice the limit across a window edge; for guarding expensive endpoints
against a runaway script that is good enough, and it costs one round trip.

When Redis cannot be reached the limiter fails open: searching matters more than counting, and
the database-backed job quotas (webapp.writes) still hold. It says so once per outage, and asks
Redis again only every RETRY_REDIS_S, so that a Redis that hangs instead of refusing costs one
request its connect timeout, not every request."""
from __future__ import annotations

import functools
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from ninja import Field, Schema
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_REDIS_S = 5.0
_limiter_down_since: float | None = None  # monotonic time of the outage's last failed call


def limit_of(scope: str) -> tuple[int, int]:
    """(requests, window seconds) per client for a limited scope (settings.RATE_LIMITS; 0 = off)."""
    return settings.RATE_LIMITS[scope]


def client_key(request: HttpRequest) -> str:
    """The user when known (session or API token), else the address the request came from."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    token = request.headers.get("Authorization", "")
    if token:
        return "t" + hashlib.sha256(token.encode()).hexdigest()[:16]
    return "a" + request.META.get("REMOTE_ADDR", "")


def over_limit(scope: str, key: str) -> bool:
    """Count one request; True when this one exceeds the scope's limit (never when Redis is down)."""
    global _limiter_down_since
    limit, window = limit_of(scope)
    if limit <= 0:
        return False
    if _limiter_down_since is not None and time.monotonic() - _limiter_down_since < RETRY_REDIS_S:
        return False
    try:
        over = _count(f"rl:{scope}:{key}:{int(time.time() // window)}", window) > limit
    except RedisError as exc:
        if _limiter_down_since is None:
            log.warning("rate limits are off while Redis is unreachable (%s): requests are not counted", exc)
        _limiter_down_since = time.monotonic()
        return False
    if _limiter_down_since is not None:
        log.warning("Redis is reachable again: rate limits are back on")
        _limiter_down_since = None
    return over


def _count(bucket: str, window: int) -> int:
    """This request's number in its window."""
    if cache.add(bucket, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr: a new window
        return 1


class Refused(Exception):
    """A request that was not carried out: its HTTP status, a message for the user, and how many
    seconds to wait before trying again (Retry-After), if waiting helps."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def refused_response(exc: Refused) -> JsonResponse:
    response = JsonResponse({"message": str(exc)}, status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def refused_render(request: HttpRequest, template: str, context: dict, exc: Refused) -> HttpResponse:
    """A form page re-rendered with the refusal as its error (the caller added it to the form)."""
    response = render(request, template, context, status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def rate_check(scope: str, request: HttpRequest) -> None:
    """Refused (429) when the client is over the scope's limit."""
    if over_limit(scope, client_key(request)):
        _, window = limit_of(scope)
        raise Refused(429, f"too many {scope} requests; try again in {window} s", window)


# Scripts, styles, fonts and frames only from the site itself: no inline script, style or event
# handler runs, so hostile text that slipped past escaping could not execute. data: images are
# the empty favicon and the API docs' icons.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")


def content_security_policy(get_response):
    """Middleware: the policy on every response (pages, the API and its docs, the admin)."""
    def middleware(request):
        response = get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
    return middleware


def add_server_timing(response, name: str, ms: float) -> None:
    entry = f"{name};dur={ms:.2f}"
    existing = response.get("Server-Timing")
    response["Server-Timing"] = f"{existing}, {entry}" if existing else entry


def server_timing(view):
    """Adds `app;dur=<ms>`: the time spent in the view, rendering included (the load script reads
    it to tell server time from network and client time)."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        start = time.perf_counter()
        response = view(request, *args, **kwargs)
        add_server_timing(response, "app", (time.perf_counter() - start) * 1000)
        return response
    return wrapper


class Message(Schema):
    message: str


class ValidationOut(Schema):
    message: str
    errors: dict[str, str] = Field(description="one message per invalid field")


# The error answers an API operation documents (the root's handlers give them this shape): a
# read's, and a write's (a read-only token, a reused Idempotency-Key, the broker down).
ERRORS = {400: Message, 401: Message, 404: Message, 422: ValidationOut, 429: Message}
WRITE_ERRORS = {**ERRORS, 403: Message, 409: Message, 503: Message}
