"""Which workers are alive, said in Redis with keys that expire: a holder's heartbeat thread
renews `jobs:alive:<token>` every ALIVE_TTL_S / 3, so the key of a killed process is gone
ALIVE_TTL_S later, long before its job's database heartbeat looks stale (JOB_STALE_AFTER_S).
Work done outside a job claim (an import's indexing chunks) is listed per job in a Redis hash
while it runs, so that the chunks of a dead worker can be sent again.

Redis unreachable: nothing can be said, and callers treat every holder as alive (the database
heartbeat's staleness still catches the dead, only later)."""
from __future__ import annotations

import functools
import json
import os
import socket

import redis
from django.conf import settings

# A dead holder is known this long after its last renewal; renewals come three times as often.
ALIVE_TTL_S = 10
_ALIVE = "jobs:alive:"
_WORK = "jobs:work:"


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL_FOR_CACHE)


def holder_name() -> str:
    """What a key says about its holder: host and process id (for the logs and the fault script)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def alive_mark(token: str) -> None:
    """Say that the holder of `token` is alive for the next ALIVE_TTL_S; never raises."""
    try:
        client().set(_ALIVE + token, holder_name(), ex=ALIVE_TTL_S)
    except redis.RedisError:
        pass


def alive_clear(token: str) -> None:
    try:
        client().delete(_ALIVE + token)
    except redis.RedisError:
        pass


def alive_holder(token: str) -> str | None:
    """`host:pid` of the live holder of `token`; None when it is dead (or never said it lived)."""
    value = client().get(_ALIVE + token)
    return value.decode() if value else None


def dead(tokens: list[str]) -> set[str]:
    """The tokens among `tokens` whose holder is dead; empty when Redis cannot say."""
    if not tokens:
        return set()
    try:
        values = client().mget([_ALIVE + t for t in tokens])
    except redis.RedisError:
        return set()
    return {token for token, value in zip(tokens, values) if value is None}


def work_add(group: str, token: str, payload) -> None:
    """List a piece of work (its token already marked alive) under `group` while it runs."""
    try:
        client().hset(_WORK + group, token, json.dumps(payload))
    except redis.RedisError:
        pass


def work_remove(group: str, token: str) -> None:
    try:
        client().hdel(_WORK + group, token)
    except redis.RedisError:
        pass


def work_orphaned(group: str) -> list:
    """The payloads of `group`'s work whose holder died, each taken off the list by exactly one
    caller (HDEL's count), so that two workers recovering at once send it once."""
    try:
        listed = client().hgetall(_WORK + group)
        gone = dead([token.decode() for token in listed])
        return [json.loads(listed[token.encode()]) for token in gone
                if client().hdel(_WORK + group, token)]
    except redis.RedisError:
        return []


def work_drop(group: str) -> None:
    """Forget `group`'s list (its job finished)."""
    try:
        client().delete(_WORK + group)
    except redis.RedisError:
        pass
