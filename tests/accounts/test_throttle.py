"""Sign-in failure counters: in-process, and in Redis so several workers share them."""

from __future__ import annotations

import os
import uuid

import pytest

from app.accounts.throttle import MemoryFailureCounter, RedisFailureCounter, make_failure_counter
from tests.conftest import missing_service, require_redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def redis_counter():  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:  # CI has Redis: its absence is a failure, not a skip
        missing_service(f"Redis is not reachable at {REDIS_URL} ({exc})")
    prefix = f"test-{uuid.uuid4().hex}:"
    yield RedisFailureCounter(client, prefix=prefix)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_memory_counter_window_expires() -> None:
    now = [1000.0]
    counter = MemoryFailureCounter(clock=lambda: now[0])
    for _ in range(3):
        counter.add_failure("k", 60)
    assert counter.failures("k", 60)[0] == 3
    now[0] += 61
    assert counter.failures("k", 60) == (0, 0)


def test_redis_counter_is_shared_between_workers(redis_counter) -> None:
    import redis

    # A second client stands for a second worker process.
    other = RedisFailureCounter(redis.Redis.from_url(REDIS_URL), prefix=redis_counter._prefix)
    redis_counter.add_failure("login:acct:1:id7", 900)
    other.add_failure("login:acct:1:id7", 900)
    count, retry_after = redis_counter.failures("login:acct:1:id7", 900)
    assert count == 2
    assert 0 < retry_after <= 900
    other.clear("login:acct:1:id7")
    assert redis_counter.failures("login:acct:1:id7", 900) == (0, 0)


def test_app_uses_redis_when_configured() -> None:
    assert isinstance(make_failure_counter(None), MemoryFailureCounter)
    assert isinstance(make_failure_counter(REDIS_URL), RedisFailureCounter)


def test_throttling_through_redis_across_two_app_instances(world, app, settings, make_client) -> None:
    """Two app instances (two workers) sharing Redis: failures on one lock the account on the other."""
    import redis

    require_redis(REDIS_URL)

    prefix = f"test-{uuid.uuid4().hex}:"
    shared = RedisFailureCounter(redis.Redis.from_url(REDIS_URL), prefix=prefix)
    app.state.failure_counter = shared
    try:
        first = make_client("haiphong")
        for _ in range(settings.login_max_failures_per_account):
            first.post("/api/v1/auth/token", data={"username": "learner", "password": "wrong-1x"})
        # A fresh counter object on the same Redis keys stands for the second worker.
        app.state.failure_counter = RedisFailureCounter(redis.Redis.from_url(REDIS_URL), prefix=prefix)
        second = make_client("haiphong")
        r = second.post("/api/v1/auth/token", data={"username": "learner", "password": "secret123"})
        assert r.status_code == 429
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
