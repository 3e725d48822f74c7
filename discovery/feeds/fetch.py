"""One HTTP GET with retries: exponential backoff on connection errors and on 429 / 5xx answers,
and the server's own Retry-After (seconds or an HTTP date) when it gives one, as arXiv's OAI-PMH
interface does with its 503s (https://info.arxiv.org/help/oa/index.html) and OpenAlex with its
429s. Plain urllib, as elsewhere in the project."""
from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class FetchConfig:
    timeout_s: float = 60.0  # per request (connect and each read)
    tries: int = 5  # attempts per page, the first included
    backoff_s: float = 2.0  # wait after the first failure without Retry-After; doubles each time
    max_wait_s: float = 600.0  # a server asking for a longer pause is given up on until the next run
    max_bytes: int = 64 * 1024 * 1024  # a bigger answer is no page of records
    user_agent: str = "ideation-space-feeds/0.1"


class FeedError(RuntimeError):
    """A page could not be fetched or read; the feed keeps the position before it."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def fetch(url: str, config: FetchConfig, sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The body of a 200 answer; FeedError once the tries are used up, or at once for an answer
    that retrying cannot change (404, 400 ...)."""
    for attempt in range(1, config.tries + 1):
        wait = config.backoff_s * 2 ** (attempt - 1)
        try:
            return _get(url, config)
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRY_STATUS:
                raise FeedError(f"HTTP {exc.code} {exc.reason} from {url}") from None
            asked = retry_after_seconds(exc.headers.get("Retry-After"))
            wait = wait if asked is None else asked
            reason = f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt == config.tries:
            raise FeedError(f"{reason} from {url}, {config.tries} tries")
        if wait > config.max_wait_s:
            raise FeedError(f"{reason} from {url}: asked to wait {wait:.0f} s, more than {config.max_wait_s:.0f} s")
        sleep(wait)
    raise AssertionError("unreachable")


def _get(url: str, config: FetchConfig) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": config.user_agent, "Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
        body = response.read(config.max_bytes + 1)  # a short body raises IncompleteRead: retried
    if len(body) > config.max_bytes:
        raise FeedError(f"{url}: the answer is larger than {config.max_bytes:,} bytes")
    return body
