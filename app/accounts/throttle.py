"""Sign-in throttling: failures counted per account and per client address in a sliding window."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol


class FailureCounter(Protocol):
    def failures(self, key: str, window: int) -> tuple[int, int]:
        """(failures within the window, seconds until the oldest expires)."""
        ...

    def add_failure(self, key: str, window: int) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryFailureCounter:
    """In-process counter: right for a single worker; several workers need the Redis counter."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, window: int) -> deque[float]:
        now = self._clock()
        q = self._events.setdefault(key, deque())
        while q and q[0] <= now - window:
            q.popleft()
        return q

    def failures(self, key: str, window: int) -> tuple[int, int]:
        with self._lock:
            q = self._trim(key, window)
            if not q:
                return 0, 0
            return len(q), max(1, int(q[0] + window - self._clock()))

    def add_failure(self, key: str, window: int) -> None:
        with self._lock:
            self._trim(key, window).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class RedisFailureCounter:
    """Shared by every worker and host: a sorted set of failure times per key, expiring with the window."""

    def __init__(self, client: Any, prefix: str = "onetouch:") -> None:
        self._r = client
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return self._prefix + key

    def failures(self, key: str, window: int) -> tuple[int, int]:
        now = time.time()
        k = self._key(key)
        pipe = self._r.pipeline()
        pipe.zremrangebyscore(k, 0, now - window)
        pipe.zcard(k)
        pipe.zrange(k, 0, 0, withscores=True)
        _, count, oldest = pipe.execute()
        if not count:
            return 0, 0
        return int(count), max(1, int(oldest[0][1] + window - now))

    def add_failure(self, key: str, window: int) -> None:
        now = time.time()
        k = self._key(key)
        pipe = self._r.pipeline()
        pipe.zadd(k, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.expire(k, window)
        pipe.execute()

    def clear(self, key: str) -> None:
        self._r.delete(self._key(key))


def make_failure_counter(redis_url: str | None) -> FailureCounter:
    """Redis when configured (several workers share the counts), else in-process (one worker)."""
    if not redis_url:
        return MemoryFailureCounter()
    import redis

    return RedisFailureCounter(redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2))
