"""A small cache for content every learner shares (lessons, course outlines, the catalog), with versions.

Values are stored under `<namespace>:<version>:<key>`. Changing content bumps the namespace's version, so
every worker stops using the old entries at once; a TTL bounds what nothing bumped (a CLI import run in
another process without Redis). Values must be JSON-shaped (dicts, lists, strings, numbers): never pickles,
so a compromised Redis cannot run code in the app.

- `MemoryCache`: one worker (the embedded SQLite default). Versions and values live in the process, in a
  bounded LRU (cachetools).
- `RedisCache` (when `REDIS_URL` is set): versions live in Redis (one round trip per read, shared by every
  worker and host); values are read from a per-process copy first, then from Redis, then loaded. If Redis is
  unreachable, reads go to the database (never a stale value) and the error is logged.

A Redis version is `<epoch>.<counter>`: the counter is bumped on every change, the epoch is drawn at random
when Redis has none, after a restart that lost them (Redis keeps nothing on disk here). A version therefore
never comes back: a worker's copies and assembled pages keyed by an old version are never served again,
whereas a bare counter would start again at 0 and meet the keys of before the restart.

The catalog marks content as changed from ORM events (`app/catalog/cache_events.py`): any flush, bulk
UPDATE/DELETE, commit or rollback that touched courses, modules, lessons or media bumps `content` on every
cache of the process.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from cachetools import LRUCache

log = logging.getLogger("onetouch.cache")

T = TypeVar("T")
CONTENT = "content"  # courses, modules, lessons, media: the national and provincial catalogs


class Cache(Protocol):
    def version(self, namespace: str) -> str | None:
        """The namespace's current version; None when the cache cannot be trusted right now."""
        ...

    def bump(self, namespace: str) -> None: ...

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: float) -> None: ...

    def clear(self) -> None: ...


_ALL: weakref.WeakSet[Any] = weakref.WeakSet()


def bump_everywhere(namespace: str) -> None:
    """Bump `namespace` on every cache of this process (and so, through Redis, on every worker)."""
    for cache in list(_ALL):
        cache.bump(namespace)


def versioned_key(namespace: str, version: str, key: str) -> str:
    """Where `key` of the namespace's `version` is stored (`cached` and readers that never load)."""
    return f"{namespace}:{version}:{key}"


def cached(cache: Cache | None, namespace: str, key: str, loader: Callable[[], T], ttl: float) -> T:
    """The value for `key` in the namespace's current version, loading (and storing) it when missing."""
    if cache is None:
        return loader()
    version = cache.version(namespace)
    if version is None:
        return loader()
    full = versioned_key(namespace, version, key)
    value = cache.get(full)
    if value is None:
        value = loader()
        if value is not None:
            cache.set(full, value, ttl)
    return value


# Entries per worker: 34 portals' catalogs and every lesson, outline and course plan of the national and
# provincial catalogs fit many times over (each a few KB).
DEFAULT_MAX_ENTRIES = 20_000


class MemoryCache:
    """In-process: right for one worker. A bounded LRU; an entry also expires after its TTL."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._values: LRUCache[str, tuple[float, Any]] = LRUCache(maxsize=max_entries)
        self._versions: dict[str, int] = {}
        # Versions of this cache never meet another cache's (a new app, a test's fresh cache): whatever was
        # kept under an older cache's versions (assembled pages) is never taken for this one's.
        self._epoch = secrets.token_hex(4)
        self._lock = threading.Lock()
        _ALL.add(self)

    def version(self, namespace: str) -> str | None:
        return f"{self._epoch}.{self._versions.get(namespace, 0)}"

    def bump(self, namespace: str) -> None:
        with self._lock:
            self._versions[namespace] = self._versions.get(namespace, 0) + 1
            prefix = namespace + ":"
            for key in [k for k in self._values if k.startswith(prefix)]:
                del self._values[key]

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._values.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                self._values.pop(key, None)
                return None
            return entry[1]

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._values[key] = (self._clock() + ttl, value)

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class RedisCache:
    """Versions and values in Redis, shared by every worker and host; a per-process copy of values."""

    def __init__(self, client: Any, prefix: str = "onetouch:cache:", local_ttl: float = 60.0) -> None:
        self._r = client
        self._prefix = prefix
        self._local = MemoryCache()
        _ALL.discard(self._local)  # bumped through this object, not on its own
        self._local_ttl = local_ttl
        _ALL.add(self)

    def version(self, namespace: str) -> str | None:
        key = self._prefix + "version:" + namespace
        try:
            epoch, counter = self._r.hmget(key, "epoch", "n")
            if epoch is None:  # new, or lost with a restart: a fresh epoch, so no version comes back
                self._r.hsetnx(key, "epoch", secrets.token_hex(8))
                epoch, counter = self._r.hmget(key, "epoch", "n")
        except Exception as exc:  # Redis down: answer from the database, never from an unchecked copy
            log.warning("cache version unavailable: %s", exc)
            return None
        return f"{epoch.decode()}.{int(counter or 0)}"

    def bump(self, namespace: str) -> None:
        try:
            self._r.hincrby(self._prefix + "version:" + namespace, "n", 1)
        except Exception as exc:
            log.error("cache version not bumped: %s", exc)
        self._local.bump(namespace)

    def get(self, key: str) -> Any | None:
        value = self._local.get(key)
        if value is not None:
            return value
        try:
            raw = self._r.get(self._prefix + key)
        except Exception as exc:
            log.warning("cache read failed: %s", exc)
            return None
        if raw is None:
            return None
        value = json.loads(raw)
        self._local.set(key, value, self._local_ttl)
        return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        self._local.set(key, value, min(ttl, self._local_ttl))
        try:
            self._r.set(self._prefix + key, json.dumps(value, ensure_ascii=False), ex=max(1, int(ttl)))
        except Exception as exc:
            log.warning("cache write failed: %s", exc)

    def clear(self) -> None:
        self._local.clear()


def make_cache(redis_url: str | None, *, prefix: str = "onetouch:cache:") -> Cache:
    """Redis when configured (every worker and host sees the same versions), else in-process."""
    if not redis_url:
        return MemoryCache()
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    return RedisCache(client, prefix=prefix)
