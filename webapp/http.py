"""HTTP plumbing every app's views and API routers share: a small cache-based rate limiter, a
Server-Timing header, and the API's error shapes.

The limiter is a fixed window counter in the shared Redis cache: `cache.add` starts the window
(atomic: only the first request of a window creates the key), `cache.incr` counts. A fixed window
lets a client send up to twice the limit across a window edge; for guarding expensive endpoints
against a runaway script that is good enough, and it costs one round trip."""
from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from ninja import Field, Schema


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
    """Count one request; True when this one exceeds the scope's limit."""
    limit, window = limit_of(scope)
    if limit <= 0:
        return False
    bucket = f"rl:{scope}:{key}:{int(time.time() // window)}"
    if cache.add(bucket, 1, timeout=window + 1):
        return False
    try:
        return cache.incr(bucket) > limit
    except ValueError:  # expired between add and incr: a new window
        return False


def too_many(scope: str) -> JsonResponse:
    _, window = limit_of(scope)
    response = JsonResponse({"message": f"too many {scope} requests; try again in a minute"}, status=429)
    response["Retry-After"] = str(window)
    return response


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


# The error answers an API operation documents (the root's handlers give them this shape).
ERRORS = {400: Message, 401: Message, 404: Message, 422: ValidationOut, 429: Message}
